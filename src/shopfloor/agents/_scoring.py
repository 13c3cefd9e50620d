"""What the MaskablePPO policies that score every choice with one network share.

A scoring network maps an observation to one score per action (the logits) and to a
value latent. Its last scoring layer starts near zero, as SB3 does for its action net,
so the untrained policy is its prior: a fixed-start linear term that a subclass sets to
a dispatching rule (:meth:`ScoringNetwork.reset_prior`).
"""

from __future__ import annotations

from typing import Any

from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from torch import nn


class ScoringNetwork(nn.Module):
    """Base of the scoring networks: ``score`` (an MLP ending in one unit) and a prior.

    Subclasses build ``score`` and set ``latent_dim_pi`` / ``latent_dim_vf``; SB3 calls
    :meth:`forward`, :meth:`forward_actor` and :meth:`forward_critic`.
    """

    score: nn.Sequential

    def reset_prior(self) -> None:
        """Set the prior term to its starting weights (SB3's initialisation clears it)."""


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
