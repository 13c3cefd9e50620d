"""The benchmark instances shipped with the package, and how to name them.

``data/`` holds one OR-Library file per instance (Fisher & Thompson 1963, Lawrence
1984, Adams, Balas & Zawack 1988, Applegate & Cook 1991, Storer, Wu & Vaccari 1992,
Yamada & Nakano 1992, Taillard 1993) and ``bounds.csv`` with the best known bounds;
``data/fjsplib/`` holds the flexible job shops (Brandimarte 1993 ``mk01``-``mk10``,
Hurink, Jurisch & Thole 1994 ``hurink_edata_la01`` and so on) in FJSPLIB format with
their own ``bounds.csv``; ``data/README.md`` gives their origin. Nothing is read until
an instance or the list of names is asked for, and each file is read at most once.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import os
import re
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from shopfloor.instances._flexible import FlexibleJobShopInstance
from shopfloor.instances._instance import JobShopInstance
from shopfloor.instances._parsers import parse_orlibrary, read_instance

_DATA = "data"
_FLEXIBLE = "fjsplib"

Instance = JobShopInstance | FlexibleJobShopInstance
"""Any static benchmark instance: a job shop or a flexible job shop."""
_NUMBERED = re.compile(r"([a-z_]+)(\d+)")
_RANGE = re.compile(r"([a-z_]+)(\d+)\s*-\s*(?:([a-z_]+)(?=\d))?(\d+)")


class UnknownInstanceError(LookupError):
    """There is no bundled instance of that name; the message suggests close names."""


@dataclass(frozen=True)
class _Entry:
    """One row of ``bounds.csv``."""

    name: str
    n_jobs: int
    n_machines: int
    lower_bound: int | None
    upper_bound: int | None
    optimum: int | None
    reference: str
    flexible: bool = False
    bound_source: str = ""


def _optional(text: str) -> int | None:
    return int(text) if text else None


def _read_bounds(folder: str, flexible: bool) -> dict[str, _Entry]:
    root = resources.files("shopfloor.instances") / _DATA
    path = root / folder / "bounds.csv" if folder else root / "bounds.csv"
    table = {}
    for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
        table[row["name"]] = _Entry(
            name=row["name"],
            n_jobs=int(row["n_jobs"]),
            n_machines=int(row["n_machines"]),
            lower_bound=_optional(row["lower_bound"]),
            upper_bound=_optional(row["upper_bound"]),
            optimum=_optional(row["optimum"]),
            reference=row["reference"],
            flexible=flexible,
            bound_source=row.get("bound_source") or "",
        )
    return table


@functools.cache
def _bounds_table() -> dict[str, _Entry]:
    """Read both ``bounds.csv`` files once: instance name -> its row."""
    return {**_read_bounds("", flexible=False), **_read_bounds(_FLEXIBLE, flexible=True)}


def instance_names() -> list[str]:
    """Names of the bundled job-shop instances, sorted (``abz5``, ..., ``ft06``, ..., ``yn4``).

    The flexible ones are listed by :func:`flexible_instance_names`.
    """
    return sorted(name for name, entry in _bounds_table().items() if not entry.flexible)


def flexible_instance_names() -> list[str]:
    """Names of the bundled flexible job-shop instances, sorted.

    Brandimarte's ``mk01``-``mk10`` and Hurink's three sets, ``hurink_edata_*``,
    ``hurink_rdata_*`` and ``hurink_vdata_*``, each of ``abz5``-``abz9``,
    ``car1``-``car8``, ``la01``-``la40``, ``mt06``, ``mt10``, ``mt20`` and
    ``orb01``-``orb10`` (see ``data/README.md``).
    """
    return sorted(name for name, entry in _bounds_table().items() if entry.flexible)


def instance_reference(name: str) -> str:
    """The publication a bundled instance comes from.

    Raises:
        UnknownInstanceError: No bundled instance has this name.
    """
    return _bounds_table()[_canonical(name)].reference


def _canonical(name: str) -> str:
    """The bundled name for ``name``: any case, ``.txt`` or not, ``ta1`` for ``ta01``."""
    key = name.strip().lower().removesuffix(".txt")
    table = _bounds_table()
    if key in table:
        return key
    numbered = _NUMBERED.fullmatch(key)
    if numbered is not None:  # "ta1" -> "ta01", "yn01" -> "yn1"
        prefix, number = numbered.groups()
        for width in (1, 2, 3):
            padded = f"{prefix}{int(number):0{width}d}"
            if padded in table:
                return padded
    close = difflib.get_close_matches(key, sorted(table), n=5, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownInstanceError(
        f"no bundled instance {name!r}{hint} "
        f"(there are {len(_bounds_table())}; see shopfloor.instances.instance_names() "
        "and flexible_instance_names())"
    )


def load_instance(name: str) -> Instance:
    """Load a bundled benchmark instance with its best known bounds.

    Args:
        name: Instance name, any case: ``"ft06"``, ``"LA01"``, ``"ta42"``, or a
            flexible one: ``"mk01"``, ``"hurink_vdata_la01"``.

    Returns:
        The instance: a :class:`FlexibleJobShopInstance` for a flexible name.

    Raises:
        UnknownInstanceError: No bundled instance has this name.
    """
    return _load(_canonical(name))


@functools.cache
def _load(name: str) -> Instance:
    entry = _bounds_table()[name]
    instance: Instance
    if entry.flexible:
        from shopfloor.instances._fjsplib import parse_fjsplib

        relative = f"{_FLEXIBLE}/{name}.fjs"
        text = (resources.files("shopfloor.instances") / _DATA / relative).read_text(
            encoding="utf-8"
        )
        instance = parse_fjsplib(text, name=name, source=f"shopfloor/instances/data/{relative}")
    else:
        text = (resources.files("shopfloor.instances") / _DATA / f"{name}.txt").read_text(
            encoding="utf-8"
        )
        instance = parse_orlibrary(text, name=name, source=f"shopfloor/instances/data/{name}.txt")
    return replace(
        instance,
        lower_bound=entry.lower_bound,
        upper_bound=entry.upper_bound,
        optimum=entry.optimum,
    )


def instance_names_from_range(spec: str) -> list[str]:
    """Expand a comma-separated list of bundled names and ranges.

    A range ``ta01-ta10`` (or ``ta01-10``) selects every bundled instance with that
    prefix whose number lies between its ends, which must both be bundled names:
    ``ft06-ft20`` gives ``ft06, ft10, ft20``, ``mk01-mk10`` Brandimarte's flexible
    instances, ``hurink_edata_la01-hurink_edata_la05`` (or ``hurink_edata_la01-05``)
    five of Hurink's. Names are returned in the order given, each once.

    Args:
        spec: E.g. ``"ta01-ta10"`` or ``"ft06, la01-la05, mk01-mk10"`` (any case).

    Returns:
        Bundled instance names.

    Raises:
        ValueError: A range is malformed (two prefixes, or counting down).
        UnknownInstanceError: A name, or an end of a range, is not bundled.
    """
    names: list[str] = []
    for raw_item in spec.split(","):
        item = raw_item.strip().lower()
        if not item:
            continue
        if "-" not in item:
            names.append(_canonical(item))
            continue
        match = _RANGE.fullmatch(item)
        if match is None:
            raise ValueError(f"bad instance range {raw_item.strip()!r}; write it like 'ta01-ta10'")
        prefix, first, end_prefix, last = match.groups()
        if end_prefix is not None and end_prefix != prefix:
            raise ValueError(
                f"instance range {raw_item.strip()!r} mixes prefixes {prefix!r} and {end_prefix!r}"
            )
        if end_prefix is None:
            last = last.zfill(len(first))
        _canonical(prefix + first)
        _canonical(prefix + last)
        start, stop = int(first), int(last)
        if start > stop:
            raise ValueError(f"instance range {raw_item.strip()!r} counts down")
        for name in sorted(_bounds_table()):
            number = name.removeprefix(prefix)
            if number != name and number.isdigit() and start <= int(number) <= stop:
                names.append(name)
    return list(dict.fromkeys(names))


def resolve_instance(spec: str | os.PathLike[str]) -> Instance:
    """A bundled instance by name, or an instance file by path.

    A string with a path separator or a dot (``data/my.txt``, ``ft06.txt``) is a path;
    any other string is a bundled name, or failing that a file of that name.

    Args:
        spec: A bundled name (``"ft06"``, ``"mk01"``) or the path of a file in
            OR-Library, Taillard or FJSPLIB format (read with :func:`read_instance`).

    Returns:
        The instance.

    Raises:
        FileNotFoundError: ``spec`` is a path and there is no such file.
        UnknownInstanceError: ``spec`` is neither a bundled name nor a file; the
            message suggests close names.
        InstanceFormatError: The file is malformed.
    """
    text = os.fspath(spec)
    if isinstance(spec, str) and not any(mark in text for mark in ("/", "\\", ".")):
        try:
            return load_instance(text)
        except UnknownInstanceError:
            if not Path(text).is_file():
                raise
    path = Path(text)
    if not path.is_file():
        raise FileNotFoundError(f"no instance file {text!r}")
    return read_instance(path)
