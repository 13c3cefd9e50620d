"""A compact global neural forecaster: one MLP trained on windows of every series.

Each training example is a window of ``lookback`` past periods and the ``horizon``
periods after it, cut from every series (a *global* model, as in N-BEATS, Oreshkin
et al. 2020, without its stacks). Windows are divided by the mean absolute value of
their lookback so that series of different sizes share one model; forecasts are
multiplied back and clipped at 0. Training is Adam on MSE (or MAE) of the scaled
targets, validated on the last ``validation_fraction`` of each series' windows (a
split by time), with early stopping on the validation loss and the best weights
restored. Everything is seeded: weights from ``seed``, batch order from a numpy
``Generator(seed)``; on the CPU training runs on one torch thread, since the rounding of
a matrix product can depend on the thread count. With ``ensemble`` > 1 the forecast is
the mean of that many such networks, trained one after another with seeds ``seed,
seed + 1, ...`` (N-BEATS ensembles its members the same way, by averaging).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from shopfloor._atomic import replace_atomically
from shopfloor.forecast._data import windows

_MIN_SCALE = 1e-6
"""Windows whose lookback mean is below this are not scaled (scale 1)."""


class ForecastError(ValueError):
    """A forecaster that cannot be built, trained, saved or loaded."""


@dataclass(frozen=True)
class ForecasterConfig:
    """Settings of :class:`NeuralForecaster`."""

    lookback: int = 52
    """Past periods the model sees (``L``)."""
    horizon: int = 8
    """Periods forecast at once (``H``)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Widths of the hidden ReLU layers."""
    epochs: int = 200
    """Maximum passes over the training windows."""
    learning_rate: float = 1e-3
    """Adam step size."""
    batch_size: int = 64
    """Windows per gradient step."""
    patience: int = 20
    """Epochs without a better validation loss before training stops."""
    validation_fraction: float = 0.2
    """Share of each series' windows (the latest) held out for early stopping."""
    loss: str = "mse"
    """Training loss on scaled targets: ``"mse"`` or ``"mae"``."""
    seed: int = 0
    """Seed of the weights and of the batch order (member ``i`` of an ensemble: ``seed + i``)."""
    ensemble: int = 1
    """Networks trained independently whose forecasts are averaged."""
    device: str = "auto"
    """``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_sizes", tuple(int(h) for h in self.hidden_sizes))
        problems = []
        for name in ("lookback", "horizon", "epochs", "batch_size", "patience", "ensemble"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, got {getattr(self, name)}")
        if any(size < 1 for size in self.hidden_sizes):
            problems.append(f"hidden_sizes must be positive, got {self.hidden_sizes}")
        if not self.learning_rate > 0:
            problems.append(f"learning_rate must be positive, got {self.learning_rate}")
        if not 0.0 <= self.validation_fraction < 1.0:
            problems.append(
                f"validation_fraction must be in [0, 1), got {self.validation_fraction}"
            )
        if self.loss not in ("mse", "mae"):
            problems.append(f"loss must be 'mse' or 'mae', got {self.loss!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            problems.append(f"device must be 'auto', 'cpu' or 'cuda', got {self.device!r}")
        if problems:
            raise ValueError("invalid ForecasterConfig: " + "; ".join(problems))


@contextlib.contextmanager
def _one_thread_on_cpu(device: torch.device) -> Iterator[None]:
    """Run torch on one thread on the CPU (the same weights on any core count), then restore."""
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _device(name: str) -> torch.device:
    """The torch device for a config's ``device`` setting."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ForecastError("device 'cuda' requested but CUDA is not available")
    return torch.device(name)


def _scale(lookback: np.ndarray) -> np.ndarray:
    """Per-window scale: mean absolute lookback value, or 1 when it is ~0."""
    scale = np.abs(lookback).mean(axis=1, keepdims=True)
    return np.where(scale < _MIN_SCALE, 1.0, scale)


def _state_copy(network: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in network.state_dict().items()}


class _Mean(nn.Module):
    """The mean of several networks' outputs."""

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members]).mean(dim=0)


class NeuralForecaster:
    """A global MLP demand forecaster with per-window scaling.

    Example:
        >>> import numpy as np
        >>> config = ForecasterConfig(lookback=8, horizon=2, epochs=5, device="cpu")
        >>> model = NeuralForecaster(config)
        >>> history = model.fit([np.arange(40.0) % 4])
        >>> model.predict(np.arange(8.0) % 4).shape
        (2,)
    """

    def __init__(self, config: ForecasterConfig | None = None) -> None:
        self.config = config or ForecasterConfig()
        self.device = _device(self.config.device)
        self.network = self._build().to(self.device)

    def _build(self) -> nn.Module:
        config = self.config
        members = [self._member(config.seed + index) for index in range(config.ensemble)]
        return members[0] if len(members) == 1 else _Mean(members)

    def _member(self, seed: int) -> nn.Sequential:
        config = self.config
        layers: list[nn.Module] = []
        width = config.lookback
        # Seed the weights without disturbing the caller's global torch generator.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for hidden in config.hidden_sizes:
                layers += [nn.Linear(width, hidden), nn.ReLU()]
                width = hidden
            layers.append(nn.Linear(width, config.horizon))
            return nn.Sequential(*layers)

    def _members(self) -> list[nn.Module]:
        if isinstance(self.network, _Mean):
            return list(self.network.members)
        return [self.network]

    # --- training ----------------------------------------------------------------

    def _split(self, series_list: Sequence[ArrayLike]) -> tuple[np.ndarray, ...]:
        config = self.config
        train_x, train_y, val_x, val_y = [], [], [], []
        for index, series in enumerate(series_list):
            inputs, targets = windows(series, config.lookback, config.horizon)
            if len(inputs) == 0:
                raise ForecastError(
                    f"series {index} has {len(np.asarray(series))} periods; it needs at "
                    f"least lookback + horizon = {config.lookback + config.horizon}"
                )
            held_out = round(len(inputs) * config.validation_fraction)
            cut = len(inputs) - held_out
            train_x.append(inputs[:cut])
            train_y.append(targets[:cut])
            val_x.append(inputs[cut:])
            val_y.append(targets[cut:])
        return tuple(np.concatenate(part) for part in (train_x, train_y, val_x, val_y))

    def _tensors(self, inputs: np.ndarray, targets: np.ndarray) -> tuple[torch.Tensor, ...]:
        scale = _scale(inputs)
        x = torch.as_tensor(inputs / scale, dtype=torch.float32, device=self.device)
        y = torch.as_tensor(targets / scale, dtype=torch.float32, device=self.device)
        return x, y

    def fit(self, series_list: Sequence[ArrayLike]) -> dict[str, list[float]]:
        """Train on sliding windows of every series.

        Args:
            series_list: Histories, oldest first, each at least ``lookback + horizon``
                long.

        Returns:
            ``{"train": [...], "val": [...]}``: mean loss per epoch of the first
            network (``val`` empty without a validation split), plus ``"best_epoch"``:
            the epoch kept, one per network of the ensemble.
        """
        if len(series_list) == 0:
            raise ForecastError("fit needs at least one series")
        train_x, train_y, val_x, val_y = self._split(series_list)
        data = (*self._tensors(train_x, train_y), *self._tensors(val_x, val_y))
        with _one_thread_on_cpu(self.device):
            histories = [
                self._fit_member(member, self.config.seed + index, *data)
                for index, member in enumerate(self._members())
            ]
        self.network.eval()
        first = histories[0]
        return {
            "train": first["train"],
            "val": first["val"],
            "best_epoch": [h["best_epoch"][0] for h in histories],
        }

    def _fit_member(
        self,
        network: nn.Module,
        seed: int,
        x: torch.Tensor,
        y: torch.Tensor,
        vx: torch.Tensor,
        vy: torch.Tensor,
    ) -> dict[str, list[float]]:
        """Train one network with early stopping; restore its best weights."""
        config = self.config
        criterion: nn.Module = nn.MSELoss() if config.loss == "mse" else nn.L1Loss()
        optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
        rng = np.random.default_rng(seed)
        history: dict[str, list[float]] = {"train": [], "val": [], "best_epoch": [0]}
        best_loss = float("inf")
        best_state = _state_copy(network)
        stale = 0
        for epoch in range(config.epochs):
            network.train()
            order = torch.as_tensor(rng.permutation(len(x)), device=self.device)
            total = 0.0
            for start in range(0, len(x), config.batch_size):
                batch = order[start : start + config.batch_size]
                optimizer.zero_grad()
                loss = criterion(network(x[batch]), y[batch])
                loss.backward()
                optimizer.step()
                total += float(loss.item()) * len(batch)
            history["train"].append(total / len(x))
            if len(vx):
                network.eval()
                with torch.no_grad():
                    monitored = float(criterion(network(vx), vy).item())
                history["val"].append(monitored)
            else:
                monitored = history["train"][-1]
            if monitored < best_loss:
                best_loss, stale = monitored, 0
                best_state = _state_copy(network)
                history["best_epoch"] = [epoch]
            else:
                stale += 1
                if stale >= config.patience:
                    break
        network.load_state_dict(best_state)
        network.eval()
        return history

    # --- forecasting ---------------------------------------------------------------

    def predict(self, history: ArrayLike) -> np.ndarray:
        """Forecast the ``horizon`` periods after a history.

        Args:
            history: Past demand, oldest first; the last ``lookback`` values are used.

        Returns:
            ``horizon`` non-negative forecasts (float64).
        """
        values = np.asarray(history, dtype=np.float64)
        lookback = self.config.lookback
        if values.ndim != 1 or len(values) < lookback:
            raise ForecastError(
                f"predict needs a 1-D history of at least lookback={lookback} values, "
                f"got shape {values.shape}"
            )
        window = values[-lookback:][None, :]
        scale = _scale(window)
        x = torch.as_tensor(window / scale, dtype=torch.float32, device=self.device)
        self.network.eval()
        with torch.no_grad(), _one_thread_on_cpu(self.device):
            output = self.network(x).cpu().numpy().astype(np.float64)
        return np.maximum(output[0] * scale[0, 0], 0.0)

    # --- persistence ---------------------------------------------------------------

    @staticmethod
    def config_path(path: str | os.PathLike[str]) -> Path:
        """The JSON config file saved next to the weights file ``path``."""
        return Path(path).with_suffix(".json")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the weights (``torch.save`` of the state dict) and a JSON config.

        Args:
            path: The weights file, e.g. ``model.pt``; the config goes to
                ``model.json`` beside it.
        """
        weights = Path(path)
        if weights.suffix == ".json":
            raise ForecastError(f"{weights}: the weights file must not end in .json")
        state = {name: tensor.cpu() for name, tensor in self.network.state_dict().items()}
        config = asdict(self.config)
        config["hidden_sizes"] = list(self.config.hidden_sizes)
        text = (json.dumps(config, indent=2) + "\n").encode("utf-8")
        replace_atomically(weights, lambda stream: torch.save(state, stream))
        replace_atomically(self.config_path(weights), lambda stream: stream.write(text))

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | None = None) -> NeuralForecaster:
        """Read a forecaster written by :meth:`save`; nothing is unpickled.

        Args:
            path: The weights file given to :meth:`save`.
            device: Override the saved ``device`` setting.

        Returns:
            The forecaster, ready to predict.

        Raises:
            ForecastError: Naming the file, if the weights or config are missing,
                corrupt or do not match each other.
        """
        weights = Path(path)
        config_file = cls.config_path(weights)
        if not weights.exists() and not config_file.exists():
            raise ForecastError(f"{weights}: no saved forecaster (nor its {config_file.name})")
        config = cls._read_config(config_file)
        if device is not None:
            config["device"] = device
        try:
            forecaster = cls(ForecasterConfig(**config))
        except (TypeError, ValueError) as exc:
            raise ForecastError(f"{config_file}: invalid forecaster config: {exc}") from None
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise ForecastError(f"{weights}: weights file not found") from None
        except IsADirectoryError:
            raise ForecastError(f"{weights}: is a directory, not a weights file") from None
        except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError, OSError) as exc:
            raise ForecastError(f"{weights}: corrupt or unsupported weights file: {exc}") from None
        if not isinstance(state, dict):
            raise ForecastError(f"{weights}: expected a state dict, got {type(state).__name__}")
        try:
            forecaster.network.load_state_dict(state)
        except RuntimeError as exc:
            raise ForecastError(f"{weights}: weights do not match {config_file}: {exc}") from None
        forecaster.network.eval()
        return forecaster

    @staticmethod
    def _read_config(config_file: Path) -> dict[str, Any]:
        try:
            data = json.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ForecastError(f"{config_file}: config file not found") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ForecastError(f"{config_file}: corrupt config file: {exc}") from None
        if not isinstance(data, dict):
            raise ForecastError(f"{config_file}: expected a JSON object")
        known = {field.name for field in fields(ForecasterConfig)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ForecastError(f"{config_file}: unknown config field(s) {unknown}")
        return data
