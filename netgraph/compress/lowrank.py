"""Low-rank factorization of Linear (truncated SVD) and Conv2d (Tucker-2 / CP) layers.

A Linear ``y = W x + b`` with ``W`` of shape (out, in) becomes two thinner Linears,
``y = B (A x) + b`` with ``A`` (r, in) and ``B`` (out, r), from the truncated SVD
``W ≈ U_r S_r V_rᵀ`` (``A = S_r^½ V_rᵀ``, ``B = U_r S_r^½``). It pays off only when
``r (in + out) < in · out``; layers where it would not are skipped.

**Activation-aware (whitened) SVD.** The SVD minimises ``‖W − Ŵ‖_F``, which treats all
input directions alike. What matters is the output error ``E‖(W − Ŵ) x‖²`` =
``‖(W − Ŵ) L‖_F²`` where ``E[x xᵀ] = L Lᵀ``. So factorize ``W L = U S Vᵀ``, truncate,
and unwhiten: ``A = S_r^½ V_rᵀ L⁻¹``. With ``calibration`` data this is done for every
layer (Conv2d: on the input-channel mode, see :mod:`netgraph.compress.tucker`).

**Ranks.** Exactly one of ``ratio`` (fraction of weights kept), ``energy`` (fraction of
squared singular values kept) or ``rank`` (explicit). ``scope="global"`` spends one
budget over all Linear layers by normalised singular-value energy (one threshold),
instead of the same fraction in every layer.

**Files.** A factorized model is saved as ``lowrank.json`` (which modules were replaced
by what, with which ranks) + ``model.safetensors``; :func:`load_factorized` rebuilds
the structure on a fresh copy of the original architecture and loads the weights. No
pickle.

Example
-------
>>> import torch
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
>>> result = lowrank_factorize(model, ratio=0.25)
>>> result.layers[0].ranks
[8]
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from netgraph.compress._checks import check_fraction, check_int, weight_layers
from netgraph.compress.tucker import (
    channel_singular_values,
    cp_conv,
    cp_parameters,
    cp_structure,
    tucker2_conv,
    tucker2_parameters,
    tucker2_structure,
)
from netgraph.atomic import atomic_write_bytes
from netgraph.errors import CheckpointError, InvalidParameterError, UnsupportedModelError

__all__ = [
    "FactorizedLayer",
    "FactorizationResult",
    "lowrank_factorize",
    "svd_linear",
    "svd_structure",
    "apply_factorization_spec",
    "factorization_spec",
    "save_factorized",
    "load_factorized",
    "input_moments",
]

SPEC_ATTRIBUTE = "netgraph_lowrank"
FORMAT = "netgraph-lowrank"
VERSION = 1


@dataclass
class FactorizedLayer:
    """What happened to one layer."""

    name: str
    method: str  # "svd", "tucker2", "cp" or "skipped"
    ranks: list[int]
    parameters_before: int
    parameters_after: int
    reason: str = ""


@dataclass
class FactorizationResult:
    """A factorized copy of a model and the per-layer record."""

    model: nn.Module
    layers: list[FactorizedLayer] = field(default_factory=list)

    @property
    def spec(self) -> dict[str, dict]:
        """``{module name: {"method": ..., "ranks": [...]}}`` — what :func:`save_factorized` writes."""
        return factorization_spec(self.model)

    def report(self) -> dict:
        before = sum(layer.parameters_before for layer in self.layers)
        after = sum(layer.parameters_after for layer in self.layers)
        return {"parameters_before": before, "parameters_after": after, "layers": [asdict(x) for x in self.layers]}


def svd_structure(linear: nn.Linear, rank: int) -> nn.Sequential:
    """An (untrained) two-Linear replacement of ``linear`` with inner width ``rank``."""
    factory = {"device": linear.weight.device, "dtype": linear.weight.dtype}
    return nn.Sequential(
        nn.Linear(linear.in_features, rank, bias=False, **factory),
        nn.Linear(rank, linear.out_features, bias=linear.bias is not None, **factory),
    )


def _whitening(moment: np.ndarray | None, size: int) -> tuple[np.ndarray, np.ndarray]:
    if moment is None:
        eye = np.eye(size)
        return eye, eye
    ridge = 1e-6 * max(float(np.mean(np.diag(moment))), 1e-12)
    factor = np.linalg.cholesky(moment + ridge * np.eye(size))
    return factor, np.linalg.inv(factor)


def _linear_svd(linear: nn.Linear, moment: np.ndarray | None):
    weight = linear.weight.detach().double().cpu().numpy()
    factor, inverse = _whitening(moment, linear.in_features)
    u, s, vt = np.linalg.svd(weight @ factor, full_matrices=False)
    return u, s, vt @ inverse


def svd_linear(linear: nn.Linear, rank: int, *, input_moment: np.ndarray | None = None) -> nn.Sequential:
    """Replace ``linear`` by two Linears from its (optionally whitened) truncated SVD."""
    if not isinstance(linear, nn.Linear):
        raise UnsupportedModelError(f"svd_linear handles nn.Linear, got {type(linear).__name__}.")
    u, s, vt = _linear_svd(linear, input_moment)
    root = np.sqrt(s[:rank])
    module = svd_structure(linear, rank)
    dtype = linear.weight.dtype
    with torch.no_grad():
        module[0].weight.copy_(torch.as_tensor(root[:, None] * vt[:rank], dtype=dtype))
        module[1].weight.copy_(torch.as_tensor(u[:, :rank] * root[None, :], dtype=dtype))
        if linear.bias is not None:
            module[1].bias.copy_(linear.bias.detach())
    return module


def input_moments(model: nn.Module, names: Iterable[str], calibration) -> dict[str, np.ndarray]:
    """``E[x xᵀ]`` of the input features (Linear) or channels (Conv2d) of named modules.

    ``calibration`` is a tensor of model inputs or an iterable of such tensors (or of
    ``(inputs, targets)`` pairs). Accumulated in float64 in one pass.
    """
    modules = dict(model.named_modules())
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}

    def hook(name):
        def record(module, inputs, output):
            x = inputs[0].detach().double()
            x = x.movedim(1, -1) if isinstance(module, nn.Conv2d) else x
            x = x.reshape(-1, x.shape[-1]).cpu()
            gram = (x.T @ x).numpy()
            sums[name] = sums.get(name, 0) + gram
            counts[name] = counts.get(name, 0) + x.shape[0]

        return record

    handles = [modules[name].register_forward_hook(hook(name)) for name in names]
    batches = [calibration] if isinstance(calibration, torch.Tensor) else calibration
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                if isinstance(batch, (tuple, list)):
                    batch = batch[0]
                model(batch)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    if not counts:
        raise InvalidParameterError.expected("calibration", "lowrank_factorize", "at least one batch", calibration)
    return {name: sums[name] / counts[name] for name in sums}


def _rank_for_ratio(ratio: float, cost_per_rank: int, full: int) -> int:
    return max(1, int(np.floor(ratio * full / cost_per_rank)))


def _rank_for_energy(singular_values: np.ndarray, energy: float) -> int:
    squared = singular_values**2
    total = squared.sum()
    if total == 0:
        return 1
    cumulative = np.cumsum(squared) / total
    return int(min(np.searchsorted(cumulative, energy - 1e-12) + 1, singular_values.size))


def _tucker_ranks_for_ratio(conv: nn.Conv2d, ratio: float) -> tuple[int, int]:
    full = conv.weight.numel()
    low, high = 0.0, 1.0
    for _ in range(50):
        alpha = (low + high) / 2
        ranks = (max(1, int(alpha * conv.in_channels)), max(1, int(alpha * conv.out_channels)))
        if tucker2_parameters(conv, ranks) <= ratio * full:
            low = alpha
        else:
            high = alpha
    return max(1, int(low * conv.in_channels)), max(1, int(low * conv.out_channels))


def lowrank_factorize(
    model: nn.Module,
    *,
    ratio: float | None = None,
    energy: float | None = None,
    rank: int | Mapping[str, int | list[int]] | None = None,
    calibration=None,
    layers: Iterable[str] | None = None,
    scope: str = "layer",
    conv_method: str = "tucker2",
    hooi_iterations: int = 2,
    skip_unprofitable: bool = True,
    random_state: int = 0,
) -> FactorizationResult:
    """Factorize the Linear / Conv2d layers of a copy of ``model``.

    Parameters
    ----------
    model : nn.Module
        Left unchanged; the result holds a factorized deep copy.
    ratio : float in (0, 1), optional
        Fraction of each layer's weights to keep (``scope="global"``: of all Linear
        weights together).
    energy : float in (0, 1], optional
        Keep the smallest rank whose squared singular values reach this fraction.
    rank : int or mapping of name to int (or [r_in, r_out] for Tucker-2), optional
        Explicit ranks; an int applies to every layer.
    calibration : tensor or iterable of input batches, optional
        Enables the activation-aware (whitened) decomposition.
    layers : iterable of str, optional
        Modules to consider (default: every Linear and Conv2d).
    scope : {"layer", "global"}
    conv_method : {"tucker2", "cp", "none"}
        How Conv2d layers are factorized; "none" leaves them alone.
    hooi_iterations : int
        HOOI refinement sweeps after the HOSVD initialisation of Tucker-2.
    skip_unprofitable : bool
        Skip a layer whose factorization would not reduce its weight count.
    random_state : int
        Seed of the CP fit.

    Returns
    -------
    FactorizationResult
        ``.model`` holds ordinary modules (``nn.Sequential`` of Linear/Conv2d in place
        of each factorized layer) and carries its spec for :func:`save_factorized`.
    """
    owner = "lowrank_factorize"
    chosen = [n for n, v in (("ratio", ratio), ("energy", energy), ("rank", rank)) if v is not None]
    if len(chosen) != 1:
        raise InvalidParameterError.expected(
            "ratio", owner, "given alone (exactly one of ratio, energy, rank)", {"ratio": ratio, "energy": energy, "rank": rank}
        )
    if ratio is not None:
        ratio = check_fraction(ratio, "ratio", owner, allow_zero=False, allow_one=False)
    if energy is not None:
        energy = check_fraction(energy, "energy", owner, allow_zero=False, allow_one=True)
    if isinstance(rank, int) or isinstance(rank, bool):
        check_int(rank, "rank", owner, 1)
    if scope not in ("layer", "global"):
        raise InvalidParameterError.expected("scope", owner, "'layer' or 'global'", scope)
    if scope == "global" and rank is not None:
        raise InvalidParameterError.expected("scope", owner, "'layer' when explicit ranks are given", scope)
    if conv_method not in ("tucker2", "cp", "none"):
        raise InvalidParameterError.expected("conv_method", owner, "'tucker2', 'cp' or 'none'", conv_method)
    check_int(hooi_iterations, "hooi_iterations", owner, 0)
    if isinstance(rank, Mapping) and layers is None:
        layers = list(rank)
    types = (nn.Linear, nn.Conv2d) if conv_method != "none" else (nn.Linear,)
    found = weight_layers(model, layers, owner, types=types)

    result_model = copy.deepcopy(model)
    modules = dict(result_model.named_modules())
    targets = [(name, modules[name]) for name, _ in found]
    moments = input_moments(result_model, [n for n, _ in targets], calibration) if calibration is not None else {}

    # Rank of every layer.
    plan: dict[str, list[int]] = {}
    svds = {}
    for name, module in targets:
        if isinstance(module, nn.Linear):
            svds[name] = _linear_svd(module, moments.get(name))
    global_ranks = _global_linear_ranks(targets, svds, ratio, energy) if scope == "global" else {}
    records: list[FactorizedLayer] = []
    for name, module in targets:
        full = module.weight.numel()
        if isinstance(module, nn.Linear):
            cost = module.in_features + module.out_features
            if name in global_ranks:
                r = global_ranks[name]
            elif ratio is not None:
                r = _rank_for_ratio(ratio, cost, full)
            elif energy is not None:
                r = _rank_for_energy(svds[name][1], energy)
            else:
                r = rank if isinstance(rank, int) else rank[name]
                r = check_int(r if not isinstance(r, list) else r[0], "rank", owner, 1)
            r = min(r, min(module.in_features, module.out_features))
            ranks, after = [r], r * cost
            method = "svd"
        elif conv_method == "tucker2":
            if module.groups != 1:
                records.append(FactorizedLayer(name, "skipped", [], full, full, "grouped convolution"))
                continue
            if ratio is not None:
                r_in, r_out = _tucker_ranks_for_ratio(module, ratio)
            elif energy is not None:
                s_in, s_out = channel_singular_values(module, moments.get(name))
                r_in, r_out = _rank_for_energy(s_in, energy), _rank_for_energy(s_out, energy)
            else:
                r = rank if isinstance(rank, int) else rank[name]
                r_in, r_out = (r, r) if isinstance(r, int) else (int(r[0]), int(r[1]))
                check_int(r_in, "rank", owner, 1)
                check_int(r_out, "rank", owner, 1)
            r_in, r_out = min(r_in, module.in_channels), min(r_out, module.out_channels)
            ranks, after, method = [r_in, r_out], tucker2_parameters(module, (r_in, r_out)), "tucker2"
        else:
            if module.groups != 1:
                records.append(FactorizedLayer(name, "skipped", [], full, full, "grouped convolution"))
                continue
            cost = cp_parameters(module, 1)
            if ratio is not None:
                r = _rank_for_ratio(ratio, cost, full)
            elif energy is not None:
                raise InvalidParameterError.expected("energy", owner, "None with conv_method='cp' (use ratio or rank)", energy)
            else:
                r = rank if isinstance(rank, int) else rank[name]
                r = check_int(r, "rank", owner, 1)
            ranks, after, method = [r], cp_parameters(module, r), "cp"
        if skip_unprofitable and after >= full:
            records.append(FactorizedLayer(name, "skipped", ranks, full, full, "factorizing would not reduce parameters"))
            continue
        plan[name] = ranks
        records.append(FactorizedLayer(name, method, ranks, full, after))

    # Build the replacements from the (unchanged) copy, then swap them in.
    spec: dict[str, dict] = dict(getattr(result_model, SPEC_ATTRIBUTE, {}) or {})
    for record in records:
        if record.method == "skipped":
            continue
        module = modules[record.name]
        moment = moments.get(record.name)
        if record.method == "svd":
            replacement = svd_linear(module, record.ranks[0], input_moment=moment)
        elif record.method == "tucker2":
            replacement = tucker2_conv(
                module, tuple(record.ranks), input_moment=moment, hooi_iterations=hooi_iterations, name=record.name
            )
        else:
            replacement = cp_conv(module, record.ranks[0], random_state=random_state, name=record.name)
        _replace(result_model, record.name, replacement)
        spec[record.name] = {"method": record.method, "ranks": record.ranks, "whitened": moment is not None}
    setattr(result_model, SPEC_ATTRIBUTE, spec)
    return FactorizationResult(result_model, records)


def _global_linear_ranks(targets, svds, ratio, energy) -> dict[str, int]:
    """One threshold on normalised squared singular values across all Linear layers."""
    linear = [(name, m) for name, m in targets if isinstance(m, nn.Linear)]
    if not linear:
        return {}
    normalised = {}
    for name, _ in linear:
        squared = svds[name][1] ** 2
        normalised[name] = squared / max(squared.sum(), 1e-300)
    candidates = np.unique(np.concatenate(list(normalised.values())))[::-1]

    def ranks_at(threshold: float) -> dict[str, int]:
        return {name: max(1, int((normalised[name] >= threshold).sum())) for name, _ in linear}

    if ratio is not None:
        budget = ratio * sum(m.weight.numel() for _, m in linear)
        cost = {name: m.in_features + m.out_features for name, m in linear}
        best = ranks_at(candidates[0])
        for threshold in candidates:  # descending threshold: ranks only grow
            ranks = ranks_at(threshold)
            if sum(ranks[n] * cost[n] for n in ranks) > budget:
                break
            best = ranks
        return best
    for threshold in candidates:
        ranks = ranks_at(threshold)
        kept = np.mean([normalised[n][: ranks[n]].sum() for n in ranks])
        if kept >= energy - 1e-12:
            return ranks
    return ranks_at(candidates[-1])


def _replace(model: nn.Module, name: str, replacement: nn.Module) -> None:
    if not name:
        raise UnsupportedModelError("The model itself is a single layer; wrap it in a container to factorize it.")
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, replacement)


def factorization_spec(model: nn.Module) -> dict[str, dict]:
    """The factorization record a model carries (empty if none)."""
    return copy.deepcopy(dict(getattr(model, SPEC_ATTRIBUTE, {}) or {}))


def apply_factorization_spec(model: nn.Module, spec: Mapping[str, Mapping]) -> nn.Module:
    """Rebuild the factorized structure (untrained weights) on a copy of ``model``."""
    result = copy.deepcopy(model)
    modules = dict(result.named_modules())
    for name, entry in spec.items():
        if not isinstance(entry, Mapping) or name not in modules:
            raise CheckpointError(f"Factorization spec names module {name!r}, which the model does not have.")
        module, method, ranks = modules[name], entry.get("method"), entry.get("ranks")
        if not isinstance(ranks, list) or not all(isinstance(r, int) and r >= 1 for r in ranks):
            raise CheckpointError(f"Factorization spec of {name!r} has invalid ranks {ranks!r}.")
        if method == "svd" and isinstance(module, nn.Linear) and len(ranks) == 1:
            replacement = svd_structure(module, ranks[0])
        elif method == "tucker2" and isinstance(module, nn.Conv2d) and len(ranks) == 2:
            replacement = tucker2_structure(module, (ranks[0], ranks[1]))
        elif method == "cp" and isinstance(module, nn.Conv2d) and len(ranks) == 1:
            replacement = cp_structure(module, ranks[0])
        else:
            raise CheckpointError(
                f"Factorization spec entry {name!r} ({method!r}, {ranks!r}) does not fit a {type(module).__name__}."
            )
        _replace(result, name, replacement)
    setattr(result, SPEC_ATTRIBUTE, {k: dict(v) for k, v in spec.items()})
    return result


def save_factorized(model: nn.Module, directory: str | os.PathLike) -> Path:
    """Write ``lowrank.json`` + ``model.safetensors`` into ``directory``; returns it."""
    from safetensors.torch import save

    directory = Path(directory)
    document = {"format": FORMAT, "version": VERSION, "layers": factorization_spec(model)}
    tensors = {name: tensor.detach().contiguous().clone() for name, tensor in model.state_dict().items()}
    atomic_write_bytes(directory / "model.safetensors", save(tensors))
    atomic_write_bytes(directory / "lowrank.json", json.dumps(document, indent=2, sort_keys=True).encode())
    return directory


def load_factorized(template: nn.Module, directory: str | os.PathLike) -> nn.Module:
    """Rebuild a factorized model on a copy of ``template`` (the original architecture)."""
    from safetensors.torch import load

    directory = Path(directory)
    try:
        document = json.loads((directory / "lowrank.json").read_text())
        raw = (directory / "model.safetensors").read_bytes()
    except (OSError, ValueError) as error:
        raise CheckpointError(f"Cannot read a factorized model from {directory}: {error}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{directory / 'lowrank.json'} is not a {FORMAT} file.")
    if document.get("version") != VERSION:
        raise CheckpointError(f"{directory / 'lowrank.json'} has version {document.get('version')!r}; expected {VERSION}.")
    model = apply_factorization_spec(template, document.get("layers", {}))
    try:
        tensors = load(raw)
        model.load_state_dict(tensors, strict=True)
    except Exception as error:  # safetensors raises its own error types
        raise CheckpointError(f"Weights in {directory} do not fit the factorized model: {error}") from error
    return model
