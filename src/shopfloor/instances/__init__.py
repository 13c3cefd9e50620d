"""Job-shop benchmark instances: the classic test sets, their text formats, random ones.

A :class:`JobShopInstance` is the static job-shop problem: every job a fixed sequence
of operations, each on one machine for an integer time, minimise the makespan. The
package bundles the standard benchmarks (ft06-ft20, la01-la40, abz5-abz9, orb01-orb10,
swv01-swv20, yn1-yn4 and Taillard's ta01-ta80) with their best known bounds, reads and
writes the OR-Library and Taillard (1993) text formats, and draws random instances
Taillard-style. Files are read lazily, when an instance is first asked for.

A :class:`FlexibleJobShopInstance` lets every operation choose among several machines,
each with its own time. The flexible benchmarks (Brandimarte's mk01-mk10, Hurink's
edata, rdata and vdata sets) are bundled with their bounds and read and written in
the FJSPLIB format; they load by name like the others (``load_instance("mk01")``).
Random ones follow the deep-RL papers' recipe (``generate_flexible_instance``).

Example:
    >>> from shopfloor.instances import load_instance
    >>> ft06 = load_instance("ft06")
    >>> ft06.n_jobs, ft06.n_machines, ft06.optimum
    (6, 6, 55)
"""

from shopfloor.instances._bundled import (
    Instance,
    UnknownInstanceError,
    flexible_instance_names,
    instance_names,
    instance_names_from_range,
    instance_reference,
    load_instance,
    resolve_instance,
)
from shopfloor.instances._fjsplib import parse_fjsplib, read_fjsplib, write_fjsplib
from shopfloor.instances._flexible import FlexibleJobShopInstance
from shopfloor.instances._generator import generate_flexible_instance, generate_instance
from shopfloor.instances._instance import JobShopInstance
from shopfloor.instances._parsers import (
    InstanceFormatError,
    detect_format,
    parse_orlibrary,
    parse_taillard,
    read_instance,
    write_orlibrary,
)

__all__ = [
    "FlexibleJobShopInstance",
    "Instance",
    "InstanceFormatError",
    "JobShopInstance",
    "UnknownInstanceError",
    "detect_format",
    "flexible_instance_names",
    "generate_flexible_instance",
    "generate_instance",
    "instance_names",
    "instance_names_from_range",
    "instance_reference",
    "load_instance",
    "parse_fjsplib",
    "parse_orlibrary",
    "parse_taillard",
    "read_fjsplib",
    "read_instance",
    "resolve_instance",
    "write_fjsplib",
    "write_orlibrary",
]
