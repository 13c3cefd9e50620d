"""A MaskablePPO policy that scores every queue slot with one network (DynamicJobShop).

For ``action_mode="job"`` of :class:`~shopfloor.envs.DynamicJobShopEnv`: each waiting
job's score comes from one small network applied to that slot's features, the shop's
global features and the one-hot of the machine choosing. A flat MLP over the slots
must learn its ranking once per slot and, measured, ends worse than a random rule;
this one learns it once. With ``atc_prior`` the score also gets a fixed-start linear
term on the slot's ATC index (slot feature ``ATC``), so the untrained greedy policy is
ATC and training improves on it.
"""

from __future__ import annotations

import torch
from gymnasium import spaces
from torch import nn

from shopfloor.agents._scoring import ScoringNetwork, ScoringPolicy
from shopfloor.envs.dynamic_job_shop import ATC, GLOBAL_FEATURES, SLOT_FEATURES


class SlotScoringNetwork(ScoringNetwork):
    """Actor latent = one score per slot; critic latent from the slots as a set.

    Args:
        feature_dim: Observation length (``8 + n_machines + 12 * slots``).
        slots: Queue slots (the action space's size).
        hidden: Width of the networks' hidden layers.
        atc_prior: If given, each score also gets a learned linear term of the slot's
            features, starting as this weight on its ATC index and 0 elsewhere.
        pooled_critic: Value from the mean and max over occupied slots of a per-slot
            embedding, with the global features (invariant to the slots' order),
            instead of an MLP of the flat observation.

    Raises:
        ValueError: An observation length that is not the DynamicJobShop layout.
    """

    def __init__(
        self,
        feature_dim: int,
        slots: int,
        hidden: int = 64,
        atc_prior: float | None = None,
        pooled_critic: bool = False,
    ):
        super().__init__()
        self.slots = slots
        self.shared = feature_dim - SLOT_FEATURES * slots  # global features + machine one-hot
        if self.shared <= GLOBAL_FEATURES:
            raise ValueError(
                f"an observation of {feature_dim} values is not the DynamicJobShop layout "
                f"for {slots} slots ({GLOBAL_FEATURES} global values, a machine one-hot, "
                f"then {SLOT_FEATURES} per slot)"
            )
        inputs = SLOT_FEATURES + self.shared
        self.score = nn.Sequential(
            nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
            nn.Linear(hidden, 1),
        )  # fmt: skip
        self.embed: nn.Module | None = None
        if pooled_critic:
            self.embed = nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh())
            self.value = nn.Sequential(nn.Linear(2 * hidden + self.shared, hidden), nn.Tanh())
        else:
            self.value = nn.Sequential(
                nn.Linear(feature_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
            )
        self.prior = None if atc_prior is None else nn.Linear(SLOT_FEATURES, 1, bias=False)
        self.atc_prior = atc_prior
        self.reset_prior()
        self.latent_dim_pi = slots
        self.latent_dim_vf = hidden

    def reset_prior(self) -> None:
        """Set the linear term to ``atc_prior`` on the ATC index, 0 elsewhere."""
        if self.prior is not None and self.atc_prior is not None:
            with torch.no_grad():
                self.prior.weight.zero_()
                self.prior.weight[0, ATC] = self.atc_prior

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = self.slot_inputs(features)  # once for both heads
        return self._scores(inputs), self._value(features, inputs)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self._scores(self.slot_inputs(features))

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self._value(features, None if self.embed is None else self.slot_inputs(features))

    def slot_inputs(self, features: torch.Tensor) -> torch.Tensor:
        """Per slot: its features, then the global features and the machine one-hot."""
        batch = features.shape[0]
        shared = features[:, : self.shared]
        slot_rows = features[:, self.shared :].reshape(batch, self.slots, SLOT_FEATURES)
        return torch.cat([slot_rows, shared.unsqueeze(1).expand(-1, self.slots, -1)], dim=2)

    def _scores(self, inputs: torch.Tensor) -> torch.Tensor:
        scores = self.score(inputs)
        if self.prior is not None:
            scores = scores + self.prior(inputs[:, :, :SLOT_FEATURES])
        return scores.squeeze(-1)

    def _value(self, features: torch.Tensor, inputs: torch.Tensor | None) -> torch.Tensor:
        if self.embed is None or inputs is None:
            return self.value(features)  # type: ignore[no-any-return]
        present = inputs[:, :, :1] > 0.5  # slot feature 0: a job is there
        embedded = self.embed(inputs)
        count = present.sum(dim=1).clamp(min=1)
        mean = (embedded * present).sum(dim=1) / count
        top = embedded.masked_fill(~present, -1.0).amax(dim=1)  # tanh >= -1: empty -> -1
        return self.value(torch.cat([mean, top, features[:, : self.shared]], dim=1))  # type: ignore[no-any-return]


class SlotScoringPolicy(ScoringPolicy):
    """MaskablePPO policy whose logits are the slot scores of :class:`SlotScoringNetwork`.

    Extra keywords: ``hidden`` (default 64); ``atc_prior`` (default none) starts the
    policy as ATC; ``pooled_critic`` (default false) reads the slots as a set.
    """

    network_keywords = ("hidden", "atc_prior", "pooled_critic")

    def make_network(self) -> SlotScoringNetwork:
        assert isinstance(self.action_space, spaces.Discrete)
        return SlotScoringNetwork(
            self.features_dim, int(self.action_space.n), **self.network_kwargs
        )
