"""A policy that sees the whole shop: attention over jobs and machines (issue 21, part 1).

Every unfinished job and every machine is a token. A job's token is built from its
own features (JobShop-v0's eight job blocks) and those of the machine its next
operation needs and of the one after; a machine's from its three machine blocks.
Layers of pre-norm multi-head attention mix all tokens, with a learned bias per head
on the shop's relations (a job and the machine of its next operation, in both
directions), the edge bias of Graphormer (Ying et al. 2021) on the bipartite job x
machine graph. Each job's score reads its token, its next machine's token and the mean
of the jobs'; the value reads the mean and max of the job tokens and the mean of the
machine tokens.

Why this design, against the published ones: L2D (Zhang et al. 2020) and its successors
run a GIN over the disjunctive graph of all operations, which grows with J x M tokens
per step; SLIM (Corsini et al. 2024) encodes operations once and decodes jobs with
attention; ScheduleNet (Park et al. 2021) passes messages between jobs and machines. The
decision in every mode is about jobs (a job's next operation) and machines (where and
when it runs), so jobs and machines as tokens carry the state in J + M tokens, a few
dozen for Taillard sizes, and the relation bias gives the graph's structure without a
graph library. Nothing depends on J or M: one network schedules every size, and
swapping two jobs swaps their scores (tested).

The module is plain torch over structured inputs (:class:`ShopTokens`), so the same
network serves SB3 (:class:`AttentionPolicy`, a MaskablePPO policy reading JobShop-v0's
flat observation) and batched training code (:func:`tokens_from_observation` over the
batched core's features). It runs on CUDA when given a CUDA tensor, the CPU otherwise.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from torch import nn
from torch.nn import functional as F

JOB_FEATURES = 8
MACHINE_FEATURES = 3
WORK, NEXT_MACHINE, FOLLOWING_MACHINE = (
    3,
    4,
    5,
)  # JobShop-v0's blocks: (index + 1) / (M + 1), 0: none
RELATIONS = 2  # job -> its next machine, that machine -> the job


class ShopTokens(NamedTuple):
    """A batch of shops as tokens.

    Attributes:
        jobs: ``(B, J, 8)`` job features.
        machines: ``(B, M, 3)`` machine features.
        next_machine: ``(B, J)`` int64, the machine of each job's next operation (-1: none).
        following_machine: ``(B, J)`` int64, the machine after that (-1: none).
        job_present: ``(B, J)`` bool, real jobs (false: padding).
        machine_present: ``(B, M)`` bool, real machines.
    """

    jobs: torch.Tensor
    machines: torch.Tensor
    next_machine: torch.Tensor
    following_machine: torch.Tensor
    job_present: torch.Tensor
    machine_present: torch.Tensor


def tokens_from_observation(
    observation: torch.Tensor, n_jobs: int, n_machines: int | torch.Tensor
) -> ShopTokens:
    """Split JobShop-v0 observations (or the batched core's features) into tokens.

    Args:
        observation: ``(B, 8 * n_jobs + 3 * n_machines)``, blocks of jobs then machines.
        n_jobs: Jobs per row (the padded count in a padded batch).
        n_machines: Machines per row: one number, or a ``(B,)`` tensor of each row's own
            count in a padded batch (blocks 4 and 5 encode a machine as ``(index + 1) /
            (M + 1)`` with the row's own M; the observation holds the padded count).

    Raises:
        ValueError: The length is not ``8 * n_jobs + 3 * M`` for a whole M.
    """
    batch, length = observation.shape
    machine_part = length - JOB_FEATURES * n_jobs
    if n_jobs < 1 or machine_part < MACHINE_FEATURES or machine_part % MACHINE_FEATURES:
        raise ValueError(
            f"an observation of {length} values is not the JobShop layout for {n_jobs} jobs "
            f"({JOB_FEATURES} per job, then {MACHINE_FEATURES} per machine)"
        )
    padded = machine_part // MACHINE_FEATURES
    jobs = observation[:, : JOB_FEATURES * n_jobs].reshape(batch, JOB_FEATURES, n_jobs)
    jobs = jobs.transpose(1, 2)
    machines = observation[:, JOB_FEATURES * n_jobs :].reshape(batch, MACHINE_FEATURES, padded)
    machines = machines.transpose(1, 2)
    own = torch.as_tensor(n_machines, device=observation.device).reshape(-1, 1)
    own = own.expand(batch, 1).to(observation.dtype)

    def machine_of(block: int) -> torch.Tensor:
        index = torch.round(jobs[:, :, block].double() * (own.double() + 1)).long() - 1
        return index.clamp(-1, padded - 1)

    machine_present = torch.arange(padded, device=observation.device)[None, :] < own.long()
    # A job is there until its last operation is done (block 1, the share done, below 1);
    # padding jobs are all zeros and have no next machine.
    next_machine = machine_of(NEXT_MACHINE)
    job_present = next_machine >= 0
    return ShopTokens(
        jobs, machines, next_machine, machine_of(FOLLOWING_MACHINE), job_present, machine_present
    )


def choose_jobs(
    network: ShopAttention,
    observation: Any,
    masks: Any,
    n_jobs: int,
    *,
    deterministic: bool,
    generator: torch.Generator,
    device: torch.device,
    refusal: str = "",
) -> tuple[np.ndarray, bool]:
    """The jobs ``network`` picks for JobShop-v0 observations (one or a batch).

    The shared ``predict`` of the agents that act with :class:`ShopAttention`.

    Args:
        network: The scores.
        observation: ``(F,)`` or ``(B, F)``.
        masks: The valid jobs, ``(J,)`` or ``(B, J)``; None: every job.
        n_jobs: Jobs per row (the masks' length when given).
        deterministic: The best-scored job; else one drawn from the softmax.
        generator: The draws' generator (CPU).
        device: Where the network runs.
        refusal: Appended to the message of a refused observation.

    Returns:
        ``(B,)`` int64 actions, and whether one observation was given.

    Raises:
        ValueError: An observation that is not JobShop-v0's layout for ``n_jobs`` jobs.
    """
    array = np.asarray(observation, dtype=np.float32)
    single = array.ndim == 1
    batch = array[None] if single else array
    machine_part = batch.shape[-1] - JOB_FEATURES * n_jobs
    if batch.ndim != 2 or machine_part < MACHINE_FEATURES or machine_part % MACHINE_FEATURES:
        raise ValueError(
            f"observation of shape {array.shape} is not JobShop-v0's layout for {n_jobs} "
            f"jobs{refusal}"
        )
    tensor = torch.as_tensor(batch, dtype=torch.float32, device=device)
    with torch.no_grad():
        shop = tokens_from_observation(tensor, n_jobs, machine_part // MACHINE_FEATURES)
        scores = network(shop)[0].cpu()
    if masks is not None:
        allowed = torch.as_tensor(np.asarray(masks, dtype=bool).reshape(len(batch), -1))
        scores = scores.masked_fill(~allowed, -torch.inf)
        scores[~allowed.any(dim=1), 0] = 0.0
    if deterministic:
        actions = scores.argmax(dim=1)
    else:
        drawn = torch.multinomial(torch.softmax(scores, dim=1), 1, generator=generator)
        actions = drawn[:, 0]
    return actions.numpy().astype(np.int64), single


class _Layer(nn.Module):
    """Pre-norm multi-head attention with a relation bias, then a feed-forward block."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm_attention = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.norm_forward = nn.LayerNorm(width)
        self.forward_block = nn.Sequential(
            nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width)
        )

    def forward(self, tokens: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, count, width = tokens.shape
        q, k, v = (
            part.reshape(batch, count, self.heads, width // self.heads).transpose(1, 2)
            for part in self.qkv(self.norm_attention(tokens)).chunk(3, dim=-1)
        )
        mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        tokens = tokens + self.out(mixed.transpose(1, 2).reshape(batch, count, width))
        return tokens + self.forward_block(self.norm_forward(tokens))


class ShopAttention(nn.Module):
    """Job scores and a value embedding from a batch of shops (see the module docstring).

    Args:
        width: Token width.
        heads: Attention heads (``width`` must divide by it).
        layers: Attention layers.
        work_prior: Added to each job's score times its remaining work (JobShop-v0's
            block 3): with a near-zero network the policy starts as a softened MWKR
            (most work remaining), and learning improves on it. 0: no prior.

    Raises:
        ValueError: A width, head or layer count that does not fit.
    """

    def __init__(self, width: int = 64, heads: int = 4, layers: int = 2, work_prior: float = 0.0):
        super().__init__()
        self.work_prior = float(work_prior)
        if width < 1 or heads < 1 or layers < 1 or width % heads:
            raise ValueError(
                f"width {width}, heads {heads}, layers {layers}: positive, width a multiple "
                "of heads"
            )
        self.width, self.heads = width, heads
        self.job_in = nn.Sequential(
            nn.Linear(JOB_FEATURES + 2 * MACHINE_FEATURES, width), nn.GELU(),
            nn.Linear(width, width),
        )  # fmt: skip
        self.machine_in = nn.Sequential(
            nn.Linear(MACHINE_FEATURES, width), nn.GELU(), nn.Linear(width, width)
        )
        self.layers = nn.ModuleList(_Layer(width, heads) for _ in range(layers))
        self.relation_bias = nn.Parameter(torch.zeros(RELATIONS, heads))
        self.norm = nn.LayerNorm(width)
        self.score = nn.Sequential(nn.Linear(3 * width, width), nn.GELU(), nn.Linear(width, 1))
        self.value_width = width

    def forward(self, shop: ShopTokens) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, J)`` job scores (-inf for absent jobs) and a ``(B, width)`` value embedding."""
        jobs, machines = self.encode(shop)
        n_jobs = jobs.shape[1]
        present = shop.job_present.unsqueeze(-1)
        count = present.sum(dim=1).clamp(min=1)
        mean = (jobs * present).sum(dim=1) / count
        at_next = _gather(machines, shop.next_machine)
        inputs = torch.cat([jobs, at_next, mean.unsqueeze(1).expand(-1, n_jobs, -1)], dim=-1)
        scores = self.score(inputs).squeeze(-1)
        if self.work_prior:
            scores = scores + self.work_prior * shop.jobs[:, :, WORK]
        scores = scores.masked_fill(~shop.job_present, -torch.inf)
        machine_mean = (machines * shop.machine_present.unsqueeze(-1)).sum(dim=1) / (
            shop.machine_present.sum(dim=1, keepdim=True).clamp(min=1)
        )
        most = jobs.masked_fill(~present, -torch.inf).amax(dim=1)
        most = torch.where(torch.isfinite(most), most, torch.zeros_like(most))
        return scores, torch.cat([mean, most, machine_mean], dim=-1)

    def encode(self, shop: ShopTokens) -> tuple[torch.Tensor, torch.Tensor]:
        """The job and machine tokens after the attention layers."""
        n_jobs, n_machines = shop.jobs.shape[1], shop.machines.shape[1]
        job_inputs = torch.cat(
            [
                shop.jobs,
                _gather(shop.machines, shop.next_machine),
                _gather(shop.machines, shop.following_machine),
            ],
            dim=-1,
        )
        tokens = torch.cat([self.job_in(job_inputs), self.machine_in(shop.machines)], dim=1)
        bias = self._bias(shop, n_jobs, n_machines)
        for layer in self.layers:
            tokens = layer(tokens, bias)
        tokens = self.norm(tokens)
        return tokens[:, :n_jobs], tokens[:, n_jobs:]

    def _bias(self, shop: ShopTokens, n_jobs: int, n_machines: int) -> torch.Tensor:
        """``(B, heads, T, T)`` additive attention bias: relations, and -inf for absent keys."""
        batch = shop.jobs.shape[0]
        count = n_jobs + n_machines
        dtype = shop.jobs.dtype
        related = F.one_hot(shop.next_machine.clamp(min=0), n_machines).to(dtype)
        related = related * shop.job_present.unsqueeze(-1).to(dtype)  # (B, J, M)
        bias = shop.jobs.new_zeros(batch, self.heads, count, count)
        weights = self.relation_bias.to(dtype)
        bias[:, :, :n_jobs, n_jobs:] = related.unsqueeze(1) * weights[0].view(1, -1, 1, 1)
        bias[:, :, n_jobs:, :n_jobs] = related.transpose(1, 2).unsqueeze(1) * weights[1].view(
            1, -1, 1, 1
        )
        present = torch.cat([shop.job_present, shop.machine_present], dim=1)
        # Every token attends to itself, so a row never has only -inf keys.
        keys = present.unsqueeze(1) | torch.eye(count, dtype=torch.bool, device=present.device)
        return bias.masked_fill(~keys.unsqueeze(1), -math.inf)


def _gather(tokens: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``tokens[b, index[b, j]]`` per job; zeros where the index is -1."""
    width = tokens.shape[-1]
    picked = torch.gather(tokens, 1, index.clamp(min=0).unsqueeze(-1).expand(-1, -1, width))
    return picked * (index >= 0).unsqueeze(-1).to(tokens.dtype)


class _PolicyNetwork(nn.Module):
    """SB3's ``mlp_extractor`` slot: actor latent = job scores, critic latent = an MLP."""

    def __init__(self, n_jobs: int, n_machines: int, width: int, heads: int, layers: int):
        super().__init__()
        self.n_jobs, self.n_machines = n_jobs, n_machines
        self.shop = ShopAttention(width, heads, layers)
        self.value = nn.Sequential(nn.Linear(3 * width, width), nn.Tanh())
        self.latent_dim_pi = n_jobs
        self.latent_dim_vf = width

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores, embedding = self.shop(
            tokens_from_observation(features, self.n_jobs, self.n_machines)
        )
        return _finite(scores), self.value(embedding)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self.forward(features)[0]

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self.forward(features)[1]


def _finite(scores: torch.Tensor) -> torch.Tensor:
    """Absent jobs' -inf as a large negative number (SB3's masking adds its own)."""
    return scores.masked_fill(~torch.isfinite(scores), -1e8)


class AttentionPolicy(MaskableActorCriticPolicy):  # type: ignore[misc]
    """MaskablePPO policy whose logits are :class:`ShopAttention`'s job scores.

    For ``shopfloor/JobShop-v0`` (and the batched vector env) in any decision mode with
    one job per action (classic shops; flexible shops in ``non_delay`` and ``active``).
    Extra keywords: ``width`` (64), ``heads`` (4), ``layers`` (2); ``net_arch`` and
    ``activation_fn`` do not apply.
    """

    network_keywords = ("width", "heads", "layers")

    def __init__(self, *args: Any, **kwargs: Any):
        self.network_kwargs = {
            key: kwargs.pop(key) for key in self.network_keywords if key in kwargs
        }
        super().__init__(*args, **kwargs)

    def _build_mlp_extractor(self) -> None:
        assert isinstance(self.action_space, spaces.Discrete)
        n_jobs = int(self.action_space.n)
        length = int(self.features_dim)
        machine_part = length - JOB_FEATURES * n_jobs
        if machine_part < MACHINE_FEATURES or machine_part % MACHINE_FEATURES:
            raise ValueError(
                f"AttentionPolicy reads JobShop-v0's layout: {length} values are not "
                f"{JOB_FEATURES} x {n_jobs} jobs + {MACHINE_FEATURES} x machines"
            )
        self.mlp_extractor = _PolicyNetwork(  # type: ignore[assignment]
            n_jobs,
            machine_part // MACHINE_FEATURES,
            int(self.network_kwargs.get("width", 64)),
            int(self.network_kwargs.get("heads", 4)),
            int(self.network_kwargs.get("layers", 2)),
        )

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        self.action_net = nn.Identity()  # the scores are the logits
        network = self.mlp_extractor
        assert isinstance(network, _PolicyNetwork)
        last = network.shop.score[-1]
        assert isinstance(last, nn.Linear)
        if self.ortho_init:  # a near-uniform first policy, as SB3 does for its action net
            nn.init.orthogonal_(last.weight, gain=0.01)
            nn.init.zeros_(last.bias)
        self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
            self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(self.network_kwargs)
        return data

    @classmethod
    def unsuitable(cls, env: gym.Env) -> str | None:
        """Why this policy cannot act in ``env``, or None if it can."""
        space = env.action_space
        if not isinstance(space, spaces.Discrete) or not isinstance(
            env.observation_space, spaces.Box
        ):
            return "AttentionPolicy needs a Discrete action space over jobs and a Box observation"
        length = int(env.observation_space.shape[0]) - JOB_FEATURES * int(space.n)
        if length < MACHINE_FEATURES or length % MACHINE_FEATURES:
            return "AttentionPolicy reads JobShop-v0's observation layout (one action per job)"
        return None
