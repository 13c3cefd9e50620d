"""Self-labelling on the batched core: deterministic sampling, labels, learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shopfloor.agents._attention import ShopAttention
from shopfloor.agents._self_labelling import sample, self_labelling_loss, self_labelling_step
from shopfloor.batch import BatchJobShop, sample_schedules
from shopfloor.instances import generate_instance, load_instance

torch.set_num_threads(1)


def test_sampling_is_deterministic_and_the_makespans_are_the_cores():
    torch.manual_seed(0)
    network = ShopAttention(16, 2, 1)
    instances = [load_instance("ft06"), load_instance("la01")]  # padded: 6x6 and 10x5
    first = sample(network, instances, 4, generator=torch.Generator().manual_seed(3))
    again = sample(network, instances, 4, generator=torch.Generator().manual_seed(3))
    np.testing.assert_array_equal(first.makespans, again.makespans)
    assert torch.equal(first.actions, again.actions)
    assert first.makespans.shape == (2, 4) and first.actions.shape[1] == 8
    # Replaying a row's actions in a fresh core gives its makespan.
    for row in (0, 5):
        core = BatchJobShop([instances[row // 4]], "active")
        core.reset()
        for step in range(first.actions.shape[0]):
            if not bool(core.dones[0]):
                assert bool(first.masks[step, row, first.actions[step, row]])
                core.step(first.actions[step, row : row + 1].numpy())
        assert float(core.makespans()[0]) == first.makespans.flat[row]
    assert first.makespans[0].min() >= 55  # ft06's optimum
    best = first.best()
    assert list(best) == [int(np.argmin(first.makespans[g])) + 4 * g for g in range(2)]
    greedy = sample(network, instances, 3, greedy=True)
    assert (greedy.makespans == greedy.makespans[:, :1]).all()  # greedy: K equal schedules


def test_the_loss_is_the_cross_entropy_of_the_best_schedule():
    torch.manual_seed(1)
    network = ShopAttention(16, 2, 1)
    rollouts = sample(
        network, [load_instance("ft06")], 6, generator=torch.Generator().manual_seed(0)
    )
    loss = self_labelling_loss(network, rollouts)
    row = int(rollouts.best()[0])
    total, count = 0.0, 0
    with torch.no_grad():
        from shopfloor.agents._attention import tokens_from_observation

        for step in range(rollouts.actions.shape[0]):
            mask = rollouts.masks[step, row]
            if int(mask.sum()) < 2:
                continue
            shop = tokens_from_observation(rollouts.observations[step, row][None], 6, 6)
            scores = network(shop)[0][0].masked_fill(~mask, -torch.inf)
            total -= float(torch.log_softmax(scores, 0)[rollouts.actions[step, row]])
            count += 1
    assert count > 0
    assert float(loss.detach()) == pytest.approx(total / count, rel=1e-5)


def test_learning_from_its_best_samples_beats_the_untrained_policy_and_random():
    torch.manual_seed(0)
    network = ShopAttention(32, 4, 1)
    optimizer = torch.optim.Adam(network.parameters(), lr=2e-3)
    held_out = [generate_instance(8, 8, 5000 + i) for i in range(16)]

    def greedy() -> float:
        return float(sample(network, held_out, 1, greedy=True).makespans.mean())

    untrained = greedy()
    random = float(
        np.mean([sample_schedules([i], 1, mode="active", seed=1).makespans for i in held_out])
    )
    rng = np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0)
    for _ in range(30):
        training = [generate_instance(8, 8, int(rng.integers(1 << 30))) for _ in range(4)]
        self_labelling_step(network, optimizer, training, 16, generator=generator)
    trained = greedy()
    assert trained < 0.93 * untrained
    assert trained < 0.93 * random
