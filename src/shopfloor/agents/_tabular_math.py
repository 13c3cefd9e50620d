"""Pure functions of tabular value learning: targets, updates, action selection, schedules.

Q-learning (Watkins & Dayan 1992) moves ``Q[s, a]`` towards the one-step target
``r + gamma * max_a' Q[s', a']``; double Q-learning (van Hasselt 2010) keeps two
tables and evaluates the action one of them prefers with the other, which removes the
upward bias of the max over noisy estimates. The functions here hold no state of their
own: tables are numpy arrays updated in place, randomness comes from the
``numpy.random.Generator`` passed in, so every result can be checked by hand.
"""

from __future__ import annotations

import numpy as np


def _valid_actions(size: int, action_mask: np.ndarray | None) -> np.ndarray:
    """Indices of the valid actions (all of them without a mask)."""
    if action_mask is None:
        return np.arange(size)
    mask = np.asarray(action_mask, dtype=bool)
    if mask.shape != (size,):
        raise ValueError(f"action mask has shape {mask.shape}, expected ({size},)")
    valid = np.flatnonzero(mask)
    if valid.size == 0:
        raise ValueError("the action mask allows no action")
    return valid


def q_learning_target(
    reward: float,
    next_q_row: np.ndarray,
    discount: float,
    terminal: bool,
    next_action_mask: np.ndarray | None = None,
) -> float:
    """The Q-learning target ``r + discount * max_a' Q[s', a']``.

    See Watkins & Dayan (1992), "Q-learning", Machine Learning 8: 279-292.

    Args:
        reward: Reward of the transition.
        next_q_row: Action values of the next state, shape ``(n_actions,)``.
        discount: Discount factor ``gamma`` in ``[0, 1]``.
        terminal: Whether the next state is terminal (then it has no value).
        next_action_mask: Actions valid in the next state (default: all); the max runs
            over these only.

    Returns:
        The target value.
    """
    if terminal:
        return float(reward)
    row = np.asarray(next_q_row, dtype=np.float64)
    valid = _valid_actions(row.shape[0], next_action_mask)
    return float(reward + discount * row[valid].max())


def q_update(
    q_table: np.ndarray,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    terminal: bool,
    learning_rate: float,
    discount: float,
    next_action_mask: np.ndarray | None = None,
) -> float:
    """One Q-learning step on ``q_table`` in place (Watkins & Dayan 1992).

    ``Q[s, a] += learning_rate * (r + discount * max_a' Q[s', a'] - Q[s, a])``, with
    the bootstrap term dropped when ``terminal``.

    Args:
        q_table: Action values, shape ``(n_states, n_actions)``; updated in place.
        state: State ``s`` of the transition.
        action: Action ``a`` taken in ``s``.
        reward: Reward ``r``.
        next_state: State ``s'`` reached (ignored when ``terminal``).
        terminal: Whether ``s'`` is terminal.
        learning_rate: Step size ``alpha`` in ``[0, 1]``.
        discount: Discount factor ``gamma`` in ``[0, 1]``.
        next_action_mask: Actions valid in ``s'`` (default: all).

    Returns:
        The temporal-difference error ``target - Q[s, a]`` before the update.
    """
    target = q_learning_target(reward, q_table[next_state], discount, terminal, next_action_mask)
    td_error = target - float(q_table[state, action])
    q_table[state, action] += learning_rate * td_error
    return td_error


def double_q_update(
    q_a: np.ndarray,
    q_b: np.ndarray,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    terminal: bool,
    learning_rate: float,
    discount: float,
    next_action_mask: np.ndarray | None = None,
) -> float:
    """One double Q-learning step on ``q_a`` in place (van Hasselt 2010).

    The next action is chosen by ``q_a`` and evaluated by ``q_b``:
    ``a* = argmax_a' Q_A[s', a']``,
    ``Q_A[s, a] += learning_rate * (r + discount * Q_B[s', a*] - Q_A[s, a])``.
    Ties in the argmax go to the lowest action index. The caller alternates the roles
    of the two tables at random (a fair coin per update in the paper).

    See van Hasselt (2010), "Double Q-learning", NeurIPS 23.

    Args:
        q_a: The table updated, shape ``(n_states, n_actions)``.
        q_b: The table that evaluates the next action (not changed).
        state: State ``s`` of the transition.
        action: Action ``a`` taken in ``s``.
        reward: Reward ``r``.
        next_state: State ``s'`` reached (ignored when ``terminal``).
        terminal: Whether ``s'`` is terminal.
        learning_rate: Step size ``alpha`` in ``[0, 1]``.
        discount: Discount factor ``gamma`` in ``[0, 1]``.
        next_action_mask: Actions valid in ``s'`` (default: all).

    Returns:
        The temporal-difference error ``target - Q_A[s, a]`` before the update.
    """
    if terminal:
        target = float(reward)
    else:
        row = q_a[next_state]
        valid = _valid_actions(row.shape[0], next_action_mask)
        best = int(valid[np.argmax(row[valid])])
        target = float(reward + discount * q_b[next_state, best])
    td_error = target - float(q_a[state, action])
    q_a[state, action] += learning_rate * td_error
    return td_error


def greedy_action(
    q_row: np.ndarray,
    rng: np.random.Generator | None = None,
    action_mask: np.ndarray | None = None,
) -> int:
    """A valid action of highest value.

    Args:
        q_row: Action values of the state, shape ``(n_actions,)``.
        rng: Breaks ties uniformly at random among the maxima; without it the lowest
            index wins. A draw is made only when there is a tie.
        action_mask: Valid actions (default: all).

    Returns:
        The action index.

    Raises:
        ValueError: The mask allows no action or has the wrong shape.
    """
    row = np.asarray(q_row)
    valid = _valid_actions(row.shape[0], action_mask)
    values = row[valid]
    best = valid[values == values.max()]
    if rng is None or best.size == 1:
        return int(best[0])
    return int(best[rng.integers(best.size)])


def epsilon_greedy(
    q_row: np.ndarray,
    epsilon: float,
    rng: np.random.Generator,
    action_mask: np.ndarray | None = None,
) -> int:
    """With probability ``epsilon`` a uniformly random valid action, else a greedy one.

    Draws one uniform number to decide, then one integer for the random action or for
    a tie among the maxima (ties are broken at random), so a seeded ``rng`` fixes the
    choice.

    Args:
        q_row: Action values of the state, shape ``(n_actions,)``.
        epsilon: Exploration probability in ``[0, 1]``.
        rng: The generator of every random choice.
        action_mask: Valid actions (default: all); invalid ones are never chosen.

    Returns:
        The action index.

    Raises:
        ValueError: ``epsilon`` is outside ``[0, 1]``, or the mask allows no action.
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
    row = np.asarray(q_row)
    valid = _valid_actions(row.shape[0], action_mask)
    if rng.random() < epsilon:
        return int(valid[rng.integers(valid.size)])
    return greedy_action(row, rng, action_mask)


def linear_schedule(start: float, end: float, fraction: float, progress: float) -> float:
    """A value going linearly from ``start`` to ``end``, then staying at ``end``.

    Args:
        start: Value at ``progress = 0``.
        end: Value from ``progress = fraction`` on.
        fraction: Share of the progress over which the value moves, in ``[0, 1]``;
            ``0`` gives ``end`` at once.
        progress: Share of training done, in ``[0, 1]`` (clipped to it).

    Returns:
        The scheduled value.
    """
    if fraction <= 0.0:
        return float(end)
    share = min(max(progress, 0.0) / fraction, 1.0)
    return float(start + share * (end - start))
