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
from typing import Any

import numpy as np
import torch
from torch import nn

from shopfloor.agents._attention import ShopAttention, tokens_from_observation
from shopfloor.batch import BatchFlexibleJobShop, BatchJobShop
from shopfloor.instances import FlexibleJobShopInstance, JobShopInstance


@dataclass(frozen=True)
class Rollouts:
    """K schedules of each of G instances, with what the policy saw and chose.

    Attributes:
        makespans: ``(G, K)`` float64.
        rewards: ``(G, K)`` float64, each schedule's total reward (JobShop-v0's).
        observations: ``(T, G * K, F)`` float32, the core's features at every step
            (empty when sampled with ``keep=False``).
        masks: ``(T, G * K, J)`` bool (empty when not kept).
        actions: ``(T, G * K)`` int64.
        n_jobs: Jobs per row (padded).
        n_machines: ``(G * K,)`` machines of each row's own instance.
    """

    makespans: np.ndarray
    rewards: np.ndarray
    observations: torch.Tensor
    masks: torch.Tensor
    actions: torch.Tensor
    n_jobs: int
    n_machines: torch.Tensor

    def best(self) -> np.ndarray:
        """``(G,)`` the row of each instance's shortest schedule (ties: the first)."""
        groups, samples = self.makespans.shape
        return self.makespans.argmin(axis=1) + np.arange(groups) * samples


Instance = JobShopInstance | FlexibleJobShopInstance


def make_core(
    rows: Sequence[Instance], mode: str, device: torch.device
) -> BatchJobShop | BatchFlexibleJobShop:
    """The batched core for ``rows``, with features, on ``device`` (numpy on the CPU).

    Raises:
        ValueError: A flexible shop in ``append`` mode (its actions are job x machine
            pairs, which the job-scoring network does not choose).
    """
    backend = "numpy" if device.type == "cpu" else "torch"
    where = str(device)
    if any(isinstance(row, FlexibleJobShopInstance) for row in rows):
        if mode == "append":
            raise ValueError(
                "mode 'append' in a flexible shop chooses (job, machine) pairs; the neural "
                "scheduler chooses jobs: use mode 'active' or 'non_delay'"
            )
        return BatchFlexibleJobShop(rows, mode, backend=backend, device=where, features=True)
    classic = [row for row in rows if isinstance(row, JobShopInstance)]
    return BatchJobShop(classic, mode, backend=backend, device=where)


def sample(
    network: ShopAttention,
    instances: Sequence[Instance],
    samples: int,
    mode: str = "active",
    *,
    greedy: bool = False,
    generator: torch.Generator | None = None,
    keep: bool = True,
) -> Rollouts:
    """Schedule every instance ``samples`` times with the network, all in one core.

    The core runs where the network's parameters are (CUDA or the CPU).

    Args:
        network: The policy (its scores, masked, are the logits).
        instances: G instances (any sizes: padded in one batch), classic or flexible.
        samples: K schedules per instance.
        mode: The decision mode.
        greedy: Take the best-scored candidate instead of sampling.
        generator: torch's generator for the draws (the same seed, the same schedules),
            on the network's device.
        keep: Keep the observations and masks (for a loss); off for inference.

    Raises:
        ValueError: No instances, ``samples`` below 1, or an unknown mode.
    """
    if samples < 1:
        raise ValueError(f"samples: expected at least 1, got {samples}")
    device = next(network.parameters()).device
    rows = [instance for instance in instances for _ in range(samples)]
    core = make_core(rows, mode, device)
    n_machines = torch.tensor([instance.n_machines for instance in rows], device=device)
    flexible = isinstance(core, BatchFlexibleJobShop)
    row_index = torch.arange(len(rows), device=device)
    features, masks = core.reset()
    observations, all_masks, actions = [], [], []
    totals = torch.zeros(len(rows), dtype=torch.float64, device=device)
    was_training = network.training
    network.eval()
    with torch.no_grad():
        while not bool(np.all(_numpy(core.dones))):
            # A copy: the core rewrites its buffers in place (and numpy's are read-only).
            observation = _tensor(features, device)
            mask = pairs = _tensor(masks, device)
            if flexible:  # (job, machine) pairs: a job is a candidate with any machine
                mask = pairs.view(len(rows), core.n_jobs, -1).any(dim=2)
            # Rows with one candidate (about half the decisions) need no network.
            action = mask.to(torch.uint8).argmax(dim=1)  # the first candidate (or 0)
            choice = mask.sum(dim=1) > 1
            if bool(choice.any()):
                shop = tokens_from_observation(observation[choice], core.n_jobs, n_machines[choice])
                scores = network(shop)[0].masked_fill(~mask[choice], -torch.inf)
                if greedy:
                    action[choice] = scores.argmax(dim=1)
                else:
                    drawn = torch.multinomial(torch.softmax(scores, dim=1), 1, generator=generator)
                    action[choice] = drawn.squeeze(1)
            if keep:
                observations.append(observation)
                all_masks.append(mask)
            actions.append(action)
            if flexible:  # the job's operation goes to its first valid machine (as the env)
                machine = pairs.view(len(rows), core.n_jobs, -1)[row_index, action]
                move = action * core.n_machines + machine.to(torch.uint8).argmax(dim=1)
            else:
                move = action
            step = core.step(move if device.type != "cpu" else move.numpy())
            features, masks = step.features, step.masks
            totals += torch.as_tensor(step.rewards, device=device).double()
    network.train(was_training)
    shape = (len(instances), samples)
    makespans = np.asarray(_numpy(core.makespans()), dtype=np.float64).reshape(shape)
    empty = torch.empty(0)
    return Rollouts(
        makespans,
        totals.cpu().numpy().reshape(shape),
        torch.stack(observations) if keep else empty,
        torch.stack(all_masks) if keep else empty,
        torch.stack(actions),
        core.n_jobs,
        n_machines,
    )


def _tensor(values: Any, device: torch.device) -> torch.Tensor:
    """A copy of a core's array as a tensor on ``device``."""
    if isinstance(values, torch.Tensor):
        return values.to(device, copy=True)
    return torch.from_numpy(np.array(values)).to(device)


def _numpy(values: Any) -> np.ndarray:
    """A numpy copy of a core's array (numpy or torch, any device)."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def self_labelling_loss(network: ShopAttention, rollouts: Rollouts) -> torch.Tensor:
    """Mean cross-entropy of the network's choices along each instance's best schedule.

    Steps where the schedule's row had a single candidate (or none: finished) carry no
    choice and are left out.
    """
    best = torch.as_tensor(rollouts.best(), device=rollouts.actions.device)
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
    instances: Sequence[Instance],
    samples: int,
    mode: str = "active",
    *,
    generator: torch.Generator | None = None,
    max_grad_norm: float = 1.0,
    epochs: int = 1,
) -> tuple[float, Rollouts]:
    """Sample, label with the best, take ``epochs`` gradient steps on those labels.

    Returns:
        The loss and the rollouts sampled.
    """
    rollouts = sample(network, instances, samples, mode, generator=generator)
    losses = []
    for _ in range(epochs):
        loss = self_labelling_loss(network, rollouts)
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(network.parameters(), max_grad_norm)
        optimizer.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses)), rollouts
