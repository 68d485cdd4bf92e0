"""The exceptions netgraph raises.

Every error is a :class:`NetgraphError`; most also inherit the builtin a caller would
naturally catch (``ValueError`` for bad values, ``TypeError`` for unsupported models),
as scikit-learn does, so generic handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "NetgraphError",
    "InvalidParameterError",
    "UnsupportedModelError",
    "CalibrationError",
    "PlanError",
    "CheckpointError",
    "TrainingError",
]


class NetgraphError(Exception):
    """Base class of every error raised by netgraph."""


class InvalidParameterError(NetgraphError, ValueError):
    """A parameter has a value outside what the function accepts."""

    @classmethod
    def expected(cls, parameter: str, owner: str, constraint: str, got: object) -> "InvalidParameterError":
        """Build the standard message: which parameter, of what, must be what, got what."""
        return cls(f"The {parameter!r} parameter of {owner} must be {constraint}. Got {got!r} instead.")


class UnsupportedModelError(NetgraphError, TypeError):
    """The model holds something netgraph cannot trace, reduce or rebuild."""


class CalibrationError(NetgraphError, ValueError):
    """Calibration data is empty, mis-shaped or produces non-finite activations."""


class PlanError(NetgraphError, ValueError):
    """A reduction plan is malformed or does not fit the model it is applied to."""


class CheckpointError(NetgraphError, OSError):
    """A file to read is missing, truncated, corrupt or of the wrong kind."""


class TrainingError(NetgraphError, RuntimeError):
    """Fine-tuning or distillation could not continue (e.g. the loss became NaN)."""
