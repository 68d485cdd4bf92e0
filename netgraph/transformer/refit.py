"""Refit a linear reader on a subset of its input columns so that it reproduces its
original output: the least-squares fold of DESIGN.md applied to head contexts, FFN hidden
units and any other Linear input.

With ``G = Σ [x, 1][x, 1]ᵀ`` and the original map ``y = W x + b``, the best weights on the
kept columns ``K`` solve the ridge normal equations ``(G_KK + λ I) A = G_K: [Wᵀ; b]``; the
relative output error ``‖Ŷ − Y‖² / ‖Y − Ȳ‖²`` comes from the same Gram matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netgraph.algorithms.normal_equations import solve_normal_equations
from netgraph.transformer.statistics import InputStats

__all__ = ["Refit", "refit_columns", "drop_columns"]


@dataclass
class Refit:
    """New weights over the kept columns and the relative output error they leave."""

    weight: np.ndarray  # (out, n_kept)
    bias: np.ndarray | None  # (out,)
    error: float


def _augmented(weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    column = bias if bias is not None else np.zeros(weight.shape[0])
    return np.concatenate([weight.T, column[None, :]], axis=0)  # (d + 1, out)


def relative_error(stats: InputStats, original: np.ndarray, rows: np.ndarray, coefficients: np.ndarray) -> float:
    """``‖[x_K,1] A − [x,1] B‖² / ‖Y − Ȳ‖²`` from the Gram matrix (``B`` = ``original``)."""
    gram = stats.gram
    target = gram @ original  # (d + 1, out)
    target_sq = float(np.sum(original * target))
    target_sum = target[-1]
    residual = (
        float(np.sum(coefficients * (gram[np.ix_(rows, rows)] @ coefficients)))
        - 2 * float(np.sum(coefficients * target[rows]))
        + target_sq
    )
    variance = target_sq - float(target_sum @ target_sum) / max(stats.count, 1)
    return max(residual, 0.0) / max(variance, 1e-30)


def refit_columns(
    weight: np.ndarray, bias: np.ndarray | None, stats: InputStats, kept_columns: np.ndarray, *, ridge: float = 1e-6
) -> Refit:
    """Least-squares weights on ``kept_columns`` reproducing ``weight @ x + bias``.

    Without a bias the intercept is not fitted (the layer keeps having none), so the fit is
    through the origin.
    """
    kept_columns = np.asarray(kept_columns, dtype=np.int64)
    original = _augmented(np.asarray(weight, dtype=np.float64), None if bias is None else np.asarray(bias, np.float64))
    width = stats.width
    rows = np.concatenate([kept_columns, [width]]) if bias is not None else kept_columns
    gram = stats.gram[np.ix_(rows, rows)]
    diagonal = np.diag(gram)[: kept_columns.size]
    penalty = np.full(rows.size, ridge * max(float(diagonal.mean()) if diagonal.size else 0.0, 1e-12))
    if bias is not None:
        penalty[-1] = 0.0  # never shrink the intercept
    solution = solve_normal_equations(gram + np.diag(penalty), stats.gram[rows] @ original)
    if bias is None:
        coefficients = np.concatenate([solution, np.zeros((1, solution.shape[1]))], axis=0)
        new_weight, new_bias = solution.T, None
    else:
        coefficients = solution
        new_weight, new_bias = solution[:-1].T, solution[-1]
    error = relative_error(stats, original, np.concatenate([kept_columns, [width]]), coefficients)
    return Refit(new_weight, new_bias, error)


def drop_columns(
    weight: np.ndarray, bias: np.ndarray | None, stats: InputStats | None, kept_columns: np.ndarray
) -> Refit:
    """Plain drop; the dropped columns' mean input goes into the bias when there is one."""
    weight = np.asarray(weight, dtype=np.float64)
    kept_columns = np.asarray(kept_columns, dtype=np.int64)
    new_bias = None if bias is None else np.asarray(bias, dtype=np.float64).copy()
    if stats is not None and new_bias is not None:
        dropped = np.setdiff1d(np.arange(weight.shape[1]), kept_columns)
        new_bias = new_bias + weight[:, dropped] @ stats.mean[dropped]
    new_weight = weight[:, kept_columns]
    error = float("nan")
    if stats is not None:
        original = _augmented(weight, None if bias is None else np.asarray(bias, np.float64))
        coefficients = _augmented(new_weight, new_bias)
        error = relative_error(stats, original, np.concatenate([kept_columns, [stats.width]]), coefficients)
    return Refit(new_weight, new_bias, error)
