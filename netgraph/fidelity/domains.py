"""Domains: is a reduced model specialised to its calibration data, and mixing in reference data.

Units are chosen and folded on the calibration data's activations; units that matter
only on other inputs look redundant and are dropped. Measured on MiniLM's FFN at keep
0.5: calibrated on template sentences it scores 0.977 on held-out template sentences but
0.664 on real documentation text. The check below compares held-out fidelity in-domain
with fidelity on reference data and says so in one sentence; mixing reference data into
the calibration set is the remedy it points to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from netgraph.batches import batch_size, first_rows
from netgraph.errors import InvalidParameterError
from netgraph.fidelity.score import Fidelity

__all__ = ["SpecialisationCheck", "check_specialisation", "mix_calibration"]


@dataclass(frozen=True)
class SpecialisationCheck:
    """In-domain vs reference fidelity, and whether the gap means the model is specialised."""

    in_domain: float
    reference: float
    metric: str
    specialised: bool
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {"in_domain": self.in_domain, "reference": self.reference, "metric": self.metric,
                "specialised": self.specialised, "sentence": self.sentence}


def check_specialisation(in_domain: Fidelity, reference: Fidelity, *, min_gap: float = 0.02) -> SpecialisationCheck:
    """Whether the reduced model is much worse on reference data than on held-out in-domain data.

    It is, when the reference score falls below the in-domain score by more than
    ``min_gap`` *and* by more than the in-domain loss itself (the reference loss is more
    than twice the in-domain loss). The first condition ignores noise, the second scales
    with how hard the reduction is: held-out real text at 0.944 fires below 0.888,
    template-sentence calibration at 0.977 fires below 0.954 (measured: 0.664).
    """
    if in_domain.kind != reference.kind:
        raise InvalidParameterError(
            f"check_specialisation compares like with like; got a {in_domain.kind} and a {reference.kind} score."
        )
    if not 0 <= min_gap < 1:
        raise InvalidParameterError.expected("min_gap", "check_specialisation", "a float in [0, 1)", min_gap)
    inside, outside = in_domain.headline, reference.headline
    gap = inside - outside
    specialised = gap > max(min_gap, 1.0 - inside)
    name = in_domain.headline_name
    if specialised:
        sentence = (
            f"The reduced model is specialised to its calibration data: {name} {inside:.3f} on held-out "
            f"calibration-like data but {outside:.3f} on the reference data; calibrate on data like what it "
            "will see, or mix reference data into the calibration set (--mix)."
        )
    else:
        sentence = f"Not specialised: {name} {inside:.3f} in-domain, {outside:.3f} on the reference data."
    return SpecialisationCheck(inside, outside, name, specialised, sentence)


def _count(batches: Sequence[Any]) -> int:
    return sum(batch_size(batch) for batch in batches)


def _concatenate(parts: list[Any]) -> Any:
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(parts)
    if isinstance(first, dict):
        return {key: _pad_cat([part[key] for part in parts]) for key in first}
    if isinstance(first, (tuple, list)):
        return type(first)(_concatenate([part[i] for part in parts]) for i in range(len(first)))
    raise InvalidParameterError(f"Cannot mix batches of type {type(first).__name__}; give tensors, tuples or dicts.")


def _pad_cat(tensors: list[torch.Tensor]) -> torch.Tensor:
    # Token batches from different sources have different lengths: pad to the longest (zeros
    # are padding ids and a zero attention mask).
    if all(t.dim() >= 2 for t in tensors) and len({t.shape[1] for t in tensors}) > 1:
        width = max(t.shape[1] for t in tensors)
        tensors = [torch.nn.functional.pad(t, (0, width - t.shape[1])) for t in tensors]
    return torch.cat(tensors)


def _take(batches: Sequence[Any], n: int) -> list[Any]:
    out, left = [], n
    for batch in batches:
        if left <= 0:
            break
        size = batch_size(batch)
        out.append(batch if size <= left else first_rows(batch, left))
        left -= min(size, left)
    return out


def mix_calibration(data: Sequence[Any], reference: Sequence[Any], mix: float, *, batch_rows: int | None = None) -> list[Any]:
    """Calibration batches made of ``(1 - mix)`` user data and ``mix`` reference data.

    The total number of samples stays that of ``data`` (so calibration cost is unchanged);
    ``mix=0`` returns ``data`` and ``mix=1`` only reference samples. Batches are rebuilt
    with ``batch_rows`` samples each (default: the first batch's size), each holding both
    kinds in proportion, with token inputs padded to a common length.
    """
    if isinstance(mix, bool) or not isinstance(mix, (int, float)) or not 0 <= mix <= 1:
        raise InvalidParameterError.expected("mix", "mix_calibration", "a float in [0, 1]", mix)
    data, reference = list(data), list(reference)
    if not data:
        raise InvalidParameterError("mix_calibration needs at least one batch of calibration data.")
    if mix == 0:
        return data
    if not reference:
        raise InvalidParameterError("mix > 0 needs reference data; pass reference batches (e.g. the built-in text).")
    total = _count(data)
    n_reference = min(round(mix * total), _count(reference))
    chosen = _take(reference, n_reference) + _take(data, total - n_reference)
    pooled = _concatenate(chosen)
    n = batch_size(pooled)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    rows = batch_rows or batch_size(data[0])

    def select(value: Any, index: torch.Tensor) -> Any:
        if isinstance(value, torch.Tensor):
            return value[index]
        if isinstance(value, dict):
            return {key: select(item, index) for key, item in value.items()}
        return type(value)(select(item, index) for item in value)

    return [select(pooled, order[start : start + rows]) for start in range(0, n, rows)]
