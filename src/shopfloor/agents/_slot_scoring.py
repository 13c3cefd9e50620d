"""A MaskablePPO policy that scores every queue slot with one network (DynamicJobShop).

For ``action_mode="job"`` of :class:`~shopfloor.envs.DynamicJobShopEnv`: each waiting
job's score comes from one small network applied to that slot's features, the shop's
global features and the one-hot of the machine choosing. A flat MLP over the slots
must learn its ranking once per slot and, measured, ends worse than a random rule;
this one learns it once. With ``prior_weight`` the score also gets a fixed-start linear
term on the slot's index under a rule (``prior_rule``: ATC or ATCJS, slot features
``ATC`` and ``ATCJS``), so the untrained greedy policy is that rule and training
improves on it.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from gymnasium import spaces

from shopfloor.agents._scoring import ScoringNetwork, ScoringPolicy
from shopfloor.envs.dynamic_job_shop import (
    ATC,
    ATCJS,
    GLOBAL_FEATURES,
    SLOT_FEATURES,
    DynamicJobShopEnv,
)

PRIOR_FEATURES = {"atc": ATC, "atcjs": ATCJS}
"""Rules a policy can start as, and the slot feature holding their index."""


class SlotScoringNetwork(ScoringNetwork):
    """Actor latent = one score per slot; critic latent from the slots as a set.

    Args:
        feature_dim: Observation length (``8 + n_machines + 13 * slots``).
        slots: Queue slots (the action space's size).
        hidden: Width of the networks' hidden layers.
        prior_weight: If given, each score also gets a learned linear term of the
            slot's features, starting as this weight on its ``prior_rule`` index (over
            the queue's highest) and 0 elsewhere.
        prior_rule: ``"atc"`` or ``"atcjs"``.
        pooled_critic: Value from the mean and max over occupied slots of a per-slot
            embedding, with the global features (invariant to the slots' order),
            instead of an MLP of the flat observation.

    Raises:
        ValueError: An observation length that is not the DynamicJobShop layout, or
            an unknown ``prior_rule``.
    """

    def __init__(
        self,
        feature_dim: int,
        slots: int,
        hidden: int = 64,
        prior_weight: float | None = None,
        prior_rule: str = "atc",
        pooled_critic: bool = False,
    ):
        if prior_rule not in PRIOR_FEATURES:
            raise ValueError(
                f"prior_rule must be one of {sorted(PRIOR_FEATURES)}, got {prior_rule!r}"
            )
        self.slots = slots
        self.shared = feature_dim - SLOT_FEATURES * slots  # global features + machine one-hot
        if self.shared <= GLOBAL_FEATURES:
            raise ValueError(
                f"an observation of {feature_dim} values is not the DynamicJobShop layout "
                f"for {slots} slots ({GLOBAL_FEATURES} global values, a machine one-hot, "
                f"then {SLOT_FEATURES} per slot)"
            )
        inputs = SLOT_FEATURES + self.shared
        super().__init__(
            feature_dim, slots, inputs, SLOT_FEATURES, hidden, PRIOR_FEATURES[prior_rule],
            prior_weight, pooled_critic,
            context_size=self.shared,
        )  # fmt: skip
        self.prior_rule = prior_rule

    def item_inputs(self, features: torch.Tensor) -> torch.Tensor:
        """Per slot: its features, then the global features and the machine one-hot."""
        batch = features.shape[0]
        shared = features[:, : self.shared]
        slot_rows = features[:, self.shared :].reshape(batch, self.slots, SLOT_FEATURES)
        return torch.cat([slot_rows, shared.unsqueeze(1).expand(-1, self.slots, -1)], dim=2)

    def present(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs[:, :, :1] > 0.5  # slot feature 0: a job is there

    def value_context(self, features: torch.Tensor) -> torch.Tensor:
        return features[:, : self.shared]


class SlotScoringPolicy(ScoringPolicy):
    """MaskablePPO policy whose logits are the slot scores of :class:`SlotScoringNetwork`.

    Extra keywords: ``hidden`` (default 64); ``prior_weight`` (default none) and
    ``prior_rule`` (default ``"atc"``) start the policy as that rule; ``pooled_critic``
    (default false) reads the slots as a set.
    """

    network_keywords = ("hidden", "prior_weight", "prior_rule", "pooled_critic")

    def make_network(self) -> SlotScoringNetwork:
        assert isinstance(self.action_space, spaces.Discrete)
        return SlotScoringNetwork(
            self.features_dim, int(self.action_space.n), **self.network_kwargs
        )

    @classmethod
    def unsuitable(cls, env: gym.Env) -> str | None:
        base = env.unwrapped
        if isinstance(base, DynamicJobShopEnv) and base.action_mode == "job":
            return None
        mode = getattr(base, "action_mode", None)
        return (
            "SlotScoringPolicy scores queue slots: it needs DynamicJobShop with "
            f"action_mode='job', got {type(base).__name__}"
            + (f" with action_mode={mode!r}" if mode else "")
        )
