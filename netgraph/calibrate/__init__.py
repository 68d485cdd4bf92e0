"""Activation statistics from calibration data, in one streaming pass."""

from netgraph.calibrate.calibrate import Calibration, calibrate, stream_statistics
from netgraph.calibrate.stats import ConsumerStats, UnitStats

__all__ = ["Calibration", "ConsumerStats", "UnitStats", "calibrate", "stream_statistics"]
