"""Shared checks for the agent tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch


def _learn_changes_the_scores(model: Any, steps: int = 128) -> None:
    """``model.learn(steps)`` moves the weights of its scoring network."""
    before = [p.detach().clone() for p in model.policy.mlp_extractor.score.parameters()]
    model.learn(steps)
    after = list(model.policy.mlp_extractor.score.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


@pytest.fixture
def learn_changes_the_scores() -> Callable[..., None]:
    """Train a scoring-policy model briefly and check its scoring network moved."""
    return _learn_changes_the_scores
