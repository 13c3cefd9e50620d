"""What the MaskablePPO policies that score every choice with one network share.

A scoring network maps an observation to one score per action (the logits): one small
network applied to each item's inputs (a job's, a queue slot's). Its last layer starts
near zero, as SB3 does for its action net, so the untrained policy is its prior: a
fixed-start linear term of the item's own features that puts a weight on one of them
(a dispatching rule's key). The value comes from an MLP of the flat observation or, with
``pooled_critic``, from the mean and max over items of a per-item embedding (invariant
to the items' order, as L2D's critic).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from torch import nn


class ScoringNetwork(nn.Module):
    """Actor latent = one score per item; critic latent = a value embedding.

    Subclasses say how an observation splits into items (:meth:`item_inputs`), which
    items are there (:meth:`present`) and what else the pooled value reads
    (:meth:`value_context`).

    Args:
        feature_dim: Observation length.
        n_items: Items scored (the action space's size).
        item_inputs: Inputs per item; the first ``own_features`` are the item's own.
        own_features: The item's own features (what the prior reads).
        hidden: Width of the networks' hidden layers.
        prior_feature: Own feature the prior weighs.
        prior_weight: The prior's starting weight on it (None: no prior term).
        pooled_critic: Pooled value instead of an MLP of the observation.
        context_size: Values of :meth:`value_context` (pooled value only).
    """

    def __init__(
        self,
        feature_dim: int,
        n_items: int,
        item_inputs: int,
        own_features: int,
        hidden: int,
        prior_feature: int,
        prior_weight: float | None,
        pooled_critic: bool,
        context_size: int = 0,
    ):
        super().__init__()
        self.n_items = n_items
        self.score = nn.Sequential(
            nn.Linear(item_inputs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
            nn.Linear(hidden, 1),
        )  # fmt: skip
        self.embed: nn.Module | None = None
        if pooled_critic:
            self.embed = nn.Sequential(nn.Linear(item_inputs, hidden), nn.Tanh())
            self.value = nn.Sequential(nn.Linear(2 * hidden + context_size, hidden), nn.Tanh())
        else:
            self.value = nn.Sequential(
                nn.Linear(feature_dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
            )
        self.own_features = own_features
        self.prior = None if prior_weight is None else nn.Linear(own_features, 1, bias=False)
        self.prior_feature = prior_feature
        self.prior_weight = prior_weight
        self.reset_prior()
        self.latent_dim_pi = n_items
        self.latent_dim_vf = hidden

    def item_inputs(self, features: torch.Tensor) -> torch.Tensor:
        """``(batch, n_items, item_inputs)``: each item's own features first."""
        raise NotImplementedError

    def present(self, inputs: torch.Tensor) -> torch.Tensor | None:
        """``(batch, n_items, 1)`` booleans: items the pooled value reads (None: all)."""
        return None

    def value_context(self, features: torch.Tensor) -> torch.Tensor | None:
        """What the pooled value reads besides the items (None: nothing)."""
        return None

    def reset_prior(self) -> None:
        """Set the prior to ``prior_weight`` on ``prior_feature``, 0 elsewhere."""
        if self.prior is not None and self.prior_weight is not None:
            with torch.no_grad():
                self.prior.weight.zero_()
                self.prior.weight[0, self.prior_feature] = self.prior_weight

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inputs = self.item_inputs(features)  # once for both heads
        return self.scores(inputs), self._value(features, inputs)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self.scores(self.item_inputs(features))

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self._value(features, None if self.embed is None else self.item_inputs(features))

    def scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """One score per item from :meth:`item_inputs`."""
        scores = self.score(inputs)
        if self.prior is not None:
            scores = scores + self.prior(inputs[:, :, : self.own_features])
        return scores.squeeze(-1)

    def _value(self, features: torch.Tensor, inputs: torch.Tensor | None) -> torch.Tensor:
        if self.embed is None or inputs is None:
            return self.value(features)  # type: ignore[no-any-return]
        embedded = self.embed(inputs)
        present = self.present(inputs)
        if present is None:
            pooled = [embedded.mean(dim=1), embedded.amax(dim=1)]
        else:
            count = present.sum(dim=1).clamp(min=1)
            mean = (embedded * present).sum(dim=1) / count
            pooled = [mean, embedded.masked_fill(~present, -1.0).amax(dim=1)]  # tanh >= -1
        context = self.value_context(features)
        return self.value(torch.cat(pooled if context is None else [*pooled, context], dim=1))  # type: ignore[no-any-return]


class ScoringPolicy(MaskableActorCriticPolicy):
    """MaskablePPO policy whose logits are the scores of a :class:`ScoringNetwork`.

    Subclasses name their extra keywords in ``network_keywords`` and build the network
    in :meth:`make_network`. ``net_arch`` and ``activation_fn`` do not apply.
    """

    network_keywords: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        self.network_kwargs = {
            key: kwargs.pop(key) for key in self.network_keywords if key in kwargs
        }
        super().__init__(*args, **kwargs)

    def make_network(self) -> ScoringNetwork:
        """The network for this policy's observation and action spaces."""
        raise NotImplementedError

    @classmethod
    def unsuitable(cls, env: gym.Env) -> str | None:
        """Why this policy cannot read ``env``'s observations, or None if it can."""
        return None

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = self.make_network()  # type: ignore[assignment]

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        self.action_net = nn.Identity()  # the scores are the logits
        network = self.mlp_extractor
        assert isinstance(network, ScoringNetwork)
        if self.ortho_init:  # near-uniform first policy, as SB3 does for its action net
            last = network.score[-1]
            assert isinstance(last, nn.Linear)
            nn.init.orthogonal_(last.weight, gain=0.01)
            nn.init.zeros_(last.bias)
        network.reset_prior()  # SB3's initialisation overwrote it
        self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
            self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(self.network_kwargs)
        return data
