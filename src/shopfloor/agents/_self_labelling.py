"""Self-labelling on the batched core: sample K schedules, learn from the best (issue 21).

One step of SLIM (Corsini et al. 2024): for each of G instances the current policy
samples K schedules in one :class:`~shopfloor.batch.BatchJobShop` call (G x K rows);
the best schedule of each instance (the shortest makespan, ties to the first sample)
becomes a pseudo-label, and the policy is trained with the cross-entropy of its
choices along that schedule. No optimal solutions and no value function are needed.

This module holds the sampling and the update; the trainer with run folders,
evaluation and checkpoints builds on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from shopfloor.agents._attention import ShopAttention, tokens_from_observation
from shopfloor.batch import BatchJobShop
from shopfloor.instances import JobShopInstance


@dataclass(frozen=True)
class Rollouts:
    """K schedules of each of G instances, with what the policy saw and chose.

    Attributes:
        makespans: ``(G, K)`` float64.
        observations: ``(T, G * K, F)`` float32, the core's features at every step.
        masks: ``(T, G * K, J)`` bool.
        actions: ``(T, G * K)`` int64.
        n_jobs: Jobs per row (padded).
        n_machines: ``(G * K,)`` machines of each row's own instance.
    """

    makespans: np.ndarray
    observations: torch.Tensor
    masks: torch.Tensor
    actions: torch.Tensor
    n_jobs: int
    n_machines: torch.Tensor

    def best(self) -> np.ndarray:
        """``(G,)`` the row of each instance's shortest schedule (ties: the first)."""
        groups, samples = self.makespans.shape
        return self.makespans.argmin(axis=1) + np.arange(groups) * samples


def sample(
    network: ShopAttention,
    instances: Sequence[JobShopInstance],
    samples: int,
    mode: str = "active",
    *,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> Rollouts:
    """Schedule every instance ``samples`` times with the network, all in one core.

    Args:
        network: The policy (its scores, masked, are the logits).
        instances: G classic instances (any sizes: padded in one batch).
        samples: K schedules per instance.
        mode: The decision mode.
        greedy: Take the best-scored candidate instead of sampling.
        generator: torch's generator for the draws (the same seed, the same schedules).

    Raises:
        ValueError: No instances, ``samples`` below 1, or an unknown mode.
    """
    if samples < 1:
        raise ValueError(f"samples: expected at least 1, got {samples}")
    rows = [instance for instance in instances for _ in range(samples)]
    core = BatchJobShop(rows, mode)
    n_machines = torch.tensor([instance.n_machines for instance in rows])
    features, masks = core.reset()
    observations, all_masks, actions = [], [], []
    was_training = network.training
    network.eval()
    with torch.no_grad():
        while not bool(np.all(core.dones)):
            observation = torch.from_numpy(np.array(features))
            mask = torch.from_numpy(np.array(masks))
            scores = network(tokens_from_observation(observation, core.n_jobs, n_machines))[0]
            scores = scores.masked_fill(~mask, -torch.inf)
            live = mask.any(dim=1)
            scores[~live, 0] = 0.0  # finished rows: any action, ignored by the core
            if greedy:
                action = scores.argmax(dim=1)
            else:
                action = torch.multinomial(torch.softmax(scores, dim=1), 1, generator=generator)
                action = action.squeeze(1)
            observations.append(observation)
            all_masks.append(mask)
            actions.append(action)
            features, masks, _, _ = core.step(action.numpy())
    network.train(was_training)
    makespans = np.asarray(core.makespans(), dtype=np.float64).reshape(len(instances), samples)
    return Rollouts(
        makespans,
        torch.stack(observations),
        torch.stack(all_masks),
        torch.stack(actions),
        core.n_jobs,
        n_machines,
    )


def self_labelling_loss(network: ShopAttention, rollouts: Rollouts) -> torch.Tensor:
    """Mean cross-entropy of the network's choices along each instance's best schedule.

    Steps where the schedule's row had a single candidate (or none: finished) carry no
    choice and are left out.
    """
    best = torch.as_tensor(rollouts.best())
    observations = rollouts.observations[:, best].flatten(0, 1)
    masks = rollouts.masks[:, best].flatten(0, 1)
    actions = rollouts.actions[:, best].flatten(0, 1)
    machines = rollouts.n_machines[best].repeat(rollouts.observations.shape[0])
    choice = masks.sum(dim=1) > 1
    shop = tokens_from_observation(observations[choice], rollouts.n_jobs, machines[choice])
    scores = network(shop)[0].masked_fill(~masks[choice], -torch.inf)
    return nn.functional.cross_entropy(scores, actions[choice])


def self_labelling_step(
    network: ShopAttention,
    optimizer: torch.optim.Optimizer,
    instances: Sequence[JobShopInstance],
    samples: int,
    mode: str = "active",
    *,
    generator: torch.Generator | None = None,
    max_grad_norm: float = 1.0,
) -> tuple[float, np.ndarray]:
    """Sample, label with the best, take one gradient step.

    Returns:
        The loss and the ``(G, K)`` makespans sampled.
    """
    rollouts = sample(network, instances, samples, mode, generator=generator)
    loss = self_labelling_loss(network, rollouts)
    optimizer.zero_grad()
    loss.backward()  # type: ignore[no-untyped-call]
    nn.utils.clip_grad_norm_(network.parameters(), max_grad_norm)
    optimizer.step()
    return float(loss.detach()), rollouts.makespans
