"""shopfloor: a SimPy factory behind Gymnasium environments for learning to schedule."""

import os

# Intel MKL, torch's matrix library on x86 CPUs, picks its code path by CPU model, and
# RL training amplifies the rounding differences: the quickstart's PPO ended at 4.69,
# 4.98 or 5.29 on one machine under three MKL paths. The COMPATIBLE path gives the same
# results on any x86 CPU (Intel's conditional numerical reproducibility); it takes
# effect before torch's first matrix product. A value set by the user is kept.
os.environ.setdefault("MKL_CBWR", "COMPATIBLE")

__version__ = "0.2.0"

__all__ = ["__version__"]
