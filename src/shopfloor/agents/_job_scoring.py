"""A MaskablePPO policy that scores every job with one shared network (JobShop).

A flat MLP must learn the same job-ranking rule once per job slot; this policy learns
it once. Each job's score comes from one small network applied to that job's features,
the features of the machine its next operation needs and of the machine after that,
and a summary of the whole shop (the mean of every job's and every machine's
features); the scores, masked, are the logits of the action distribution. The value
network reads the whole observation, or (``pooled_critic``) the jobs as a set. The
policy is the same for any number of jobs and machines, so a model trained on one shop
size schedules others (:meth:`JobScoringPolicy.predict_any_size`), and swapping two
jobs swaps their scores (permutation equivariance), as in the job-shop policies of
Zhang et al. (2020, L2D) and Park et al. (2021, ScheduleNet), here without a graph.

It reads the feature-major layout of :class:`~shopfloor.envs.JobShopEnv`: blocks of
``n_jobs`` job features, then blocks of ``n_machines`` machine features, with
``n_jobs`` the size of the action space.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from shopfloor.agents._scoring import ScoringNetwork, ScoringPolicy
from shopfloor.envs.job_shop import (
    FOLLOWING_MACHINE,
    JOB_FEATURES,
    MACHINE_FEATURES,
    NEXT_MACHINE,
    WORK,
    JobShopEnv,
)


class JobScoringNetwork(ScoringNetwork):
    """Actor latent = one score per job; critic latent = an MLP of the observation.

    Args:
        feature_dim: Observation length (``8 * n_jobs + 3 * n_machines``).
        n_jobs: Jobs (the action space's size).
        hidden: Width of both networks' hidden layers.
        work_prior: If given, each score also gets a learned linear term of the job's
            own features, starting as this weight on its work remaining (block WORK) and
            0 elsewhere: with the scoring network's near-zero start, the untrained
            policy is MWKR (most work remaining first), softened by the weight.
        pooled_critic: Value from the mean and max over jobs of a per-job embedding of
            the same inputs the scores read (permutation invariant, as L2D's critic)
            instead of an MLP of the flat observation.

    Raises:
        ValueError: An observation length that is not the JobShop layout.
    """

    def __init__(
        self,
        feature_dim: int,
        n_jobs: int,
        hidden: int = 64,
        work_prior: float | None = None,
        pooled_critic: bool = False,
    ):
        self.n_jobs = n_jobs
        self.n_machines = _machines(feature_dim, n_jobs)
        inputs = 2 * JOB_FEATURES + 3 * MACHINE_FEATURES  # own, two machines, the means
        super().__init__(
            feature_dim, n_jobs, inputs, JOB_FEATURES, hidden, WORK, work_prior, pooled_critic
        )
        self.work_prior = work_prior

    def item_inputs(self, features: torch.Tensor) -> torch.Tensor:
        return self.job_inputs(features)

    def forward_actor(self, features: torch.Tensor, n_jobs: int | None = None) -> torch.Tensor:
        """Job scores; ``n_jobs`` other than the trained one scores a shop of that size."""
        return self.scores(self.job_inputs(features, n_jobs))

    def job_inputs(self, features: torch.Tensor, n_jobs: int | None = None) -> torch.Tensor:
        """Per job: its features, its next two machines' features, the shop's means.

        Args:
            features: Observations, one per row.
            n_jobs: Jobs in those observations (default: the size trained on); the
                machines follow from the observation's length.
        """
        batch, n, m = features.shape[0], self.n_jobs, self.n_machines
        if n_jobs is not None and n_jobs != n:
            n, m = n_jobs, _machines(features.shape[1], n_jobs)
        jobs = features[:, : JOB_FEATURES * n].reshape(batch, JOB_FEATURES, n).transpose(1, 2)
        machines = features[:, JOB_FEATURES * n :].reshape(batch, MACHINE_FEATURES, m)
        context = torch.cat([jobs.mean(dim=1), machines.mean(dim=2)], dim=1)
        # Blocks NEXT_MACHINE and FOLLOWING_MACHINE hold (index + 1) / (m + 1), 0 when
        # there is none; that reads a row of zeros.
        padded = torch.cat([machines.new_zeros(batch, MACHINE_FEATURES, 1), machines], dim=2)

        def machine_of(block: int) -> torch.Tensor:
            index = torch.round(jobs[:, :, block] * (m + 1)).long().clamp(0, m)
            return torch.gather(
                padded, 2, index.unsqueeze(1).expand(batch, MACHINE_FEATURES, n)
            ).transpose(1, 2)

        return torch.cat(
            [
                jobs,
                machine_of(NEXT_MACHINE),
                machine_of(FOLLOWING_MACHINE),
                context.unsqueeze(1).expand(batch, n, -1),
            ],
            dim=2,
        )


class JobScoringPolicy(ScoringPolicy):
    """MaskablePPO policy whose logits are the job scores of :class:`JobScoringNetwork`.

    Extra keywords: ``hidden`` (default 64) sets the networks' width; ``work_prior``
    (default none) starts the policy as MWKR; ``pooled_critic`` (default false) makes
    the value permutation invariant (see :class:`JobScoringNetwork`).
    ``net_arch`` and ``activation_fn`` do not apply.
    """

    network_keywords = ("hidden", "work_prior", "pooled_critic")

    def make_network(self) -> JobScoringNetwork:
        assert isinstance(self.action_space, spaces.Discrete)
        return JobScoringNetwork(self.features_dim, int(self.action_space.n), **self.network_kwargs)

    @classmethod
    def unsuitable(cls, env: gym.Env) -> str | None:
        if isinstance(env.unwrapped, JobShopEnv):
            return None
        return f"JobScoringPolicy reads the JobShop layout, got {type(env.unwrapped).__name__}"

    def predict_any_size(
        self, observation: np.ndarray, action_masks: np.ndarray, deterministic: bool = True
    ) -> int:
        """The job to start in a JobShop of any size (the jobs are ``len(action_masks)``).

        The scoring network is the same for every job and machine, so a policy trained
        on one shop size acts on others. Greedy: the best-scored valid job; otherwise a
        sample from the masked scores (torch's generator).
        """
        masks = torch.as_tensor(np.asarray(action_masks, dtype=bool), device=self.device)
        features = torch.as_tensor(observation, dtype=torch.float32, device=self.device)
        assert isinstance(self.mlp_extractor, JobScoringNetwork)
        with torch.no_grad():
            scores = self.mlp_extractor.forward_actor(features.reshape(1, -1), len(masks))[0]
            scores = scores.masked_fill(~masks, -torch.inf)
            if deterministic:
                return int(torch.argmax(scores))
            return int(torch.distributions.Categorical(logits=scores).sample())


def _machines(feature_dim: int, n_jobs: int) -> int:
    """Machines of a JobShop observation of ``feature_dim`` values with ``n_jobs`` jobs."""
    machine_part = feature_dim - JOB_FEATURES * n_jobs
    if machine_part <= 0 or machine_part % MACHINE_FEATURES:
        raise ValueError(
            f"an observation of {feature_dim} values is not the JobShop layout for "
            f"{n_jobs} jobs ({JOB_FEATURES} per job, then {MACHINE_FEATURES} per machine)"
        )
    return machine_part // MACHINE_FEATURES
