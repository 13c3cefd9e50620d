"""shopfloor: a SimPy factory behind Gymnasium environments for learning to schedule."""

__version__ = "0.1.0"

__all__ = ["__version__"]
