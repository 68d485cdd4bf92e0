"""The calibration guard: statistics from too few samples are flagged, and least squares
falls back to the data-free fold instead of fitting noise.

A least-squares refit of a consumer solves for one weight per kept input column (taps
of a convolution counted) plus a bias, from the rows it saw: samples, or samples × spatial
positions for convolutions, or tokens for text. With fewer rows than unknowns the ridge
solution is rank-deficient: from one MNIST sample, LeNet-300-100's ``fc2`` came out rank
one, so all its 100 rows were "exact duplicates", 98 were merged away, and accuracy fell
from 0.94 to 0.10 with an output error of 0 on the (single) calibration sample. Unit
statistics from fewer samples than units cannot tell the units apart either. Both facts
are recorded in the group's metrics (``calibration_warning``, ``fallback``) so the plan,
its summary and the reports say so.
"""

from __future__ import annotations

import math

__all__ = ["refit_shortfall", "thin_unit_statistics", "data_free_fold"]


def refit_shortfall(stats, n_kept: int, n_units: int) -> str | None:
    """Why a least-squares refit from consumer ``stats`` would be underdetermined, or None.

    Parameters
    ----------
    stats : ConsumerStats or None
        The consumer's statistics (``gram`` over its unfolded input plus a ones column).
    n_kept, n_units : int
        Kept and total units of the group being reduced; the consumer's other input
        columns (a concatenation) are counted as kept.
    """
    if stats is None or getattr(stats, "gram", None) is None:
        return None
    inputs = stats.gram.shape[0] - 1
    unknowns = inputs - math.floor(inputs * (n_units - n_kept) / max(n_units, 1)) + 1
    if stats.count >= unknowns:
        return None
    return (
        f"least squares needs at least {unknowns} calibration rows here (kept inputs + bias) but got "
        f"{stats.count}; used the data-free exact fold instead (give more calibration samples)"
    )


def thin_unit_statistics(stats, n_units: int) -> str | None:
    """A warning when unit statistics come from fewer samples than there are units, else None."""
    if stats is None or stats.count >= n_units:
        return None
    return (
        f"only {stats.count} calibration samples for {n_units} units: data-driven choices and "
        f"errors are unreliable; give at least {n_units} samples"
    )


def data_free_fold(scales):
    """The fold used instead of an underdetermined ``lstsq``: weight-space ``exact`` merging
    (dropped units folded into their kept twins by the merge scales), or a plain drop when
    the group has no merge scales (residual streams). The planner runs it without the thin
    statistics, whose means are as unreliable as their Gram matrices. Measured with
    ``netgraph reduce zoo:lenet-300-100 --samples 1`` (keep 0.5, SBM): held-out accuracy
    0.891 (original 0.937) with 150 and 50 units kept, against 0.10 with 2 of 100 units
    left in ``fc2`` before the guard; with ``plan_reduction``'s own default method, 0.705 this
    way and 0.24 when the one-sample means are still folded into the biases."""
    return "exact" if scales is not None else "none"
