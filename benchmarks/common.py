"""Shared helpers for the benchmarks: provenance, timing, peak memory, latency, size.

Every figure a benchmark reports is measured in the same process, side by side, so that
ratios (reduced / original, tool time / one calibration pass) survive the drift of a
shared machine. Absolute seconds are recorded too, but only ratios should be compared
across runs.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from netgraph.batches import call_model

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SEED = 0

__all__ = [
    "RESULTS_DIR",
    "SEED",
    "PeakRSS",
    "measure",
    "machine_info",
    "write_json",
    "read_json",
    "forward_seconds",
    "paired_latency",
    "serialized_bytes",
    "macs_and_params",
    "mean",
    "fmt",
    "target_row",
]


# --- provenance ------------------------------------------------------------------------
def _version(package: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:  # noqa: BLE001 - absent optional packages are recorded as None
        return None


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=10
        ).stdout.strip() or None
    except Exception:  # noqa: BLE001
        return None


def machine_info() -> dict[str, Any]:
    """Machine, library versions and git commit: stored with every result file."""
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model or platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "versions": {
            name: _version(name)
            for name in ("netgraph", "torch", "torch-pruning", "numpy", "scipy", "scikit-learn",
                         "transformers", "graspologic", "networkx", "matplotlib")
        },
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "seed": SEED,
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_json(path: str | os.PathLike, payload: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=_json_default))
    os.replace(tmp, path)
    return path


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def _json_default(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


# --- memory and time -------------------------------------------------------------------
def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: fall back to the (monotonic) max RSS
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRSS:
    """Peak resident-set growth over a block, sampled by a background thread.

    Unlike tracemalloc this sees torch's and numpy's C allocations and costs almost
    nothing; it can miss spikes shorter than ``interval`` seconds.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self.baseline = self.peak = _rss_bytes()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, _rss_bytes())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 2**20


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``fn()``; return (result, wall seconds, peak RSS growth in MiB)."""
    with PeakRSS() as peak:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    return result, seconds, peak.growth_mb


# --- model runs ------------------------------------------------------------------------
def forward_seconds(model: nn.Module, batches: list, repeats: int = 3) -> float:
    """Median wall time of one inference pass over ``batches`` (the calibration-pass unit)."""
    model.eval()
    times = []
    with torch.inference_mode():
        call_model(model, batches[0])  # warm-up
        for _ in range(repeats):
            started = time.perf_counter()
            for batch in batches:
                call_model(model, batch)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def paired_latency(models: dict[str, nn.Module], batch: Any, *, repeats: int = 30, warmup: int = 3) -> dict[str, float]:
    """Median CPU latency (ms) of each model on ``batch``, runs interleaved round-robin so
    that load changes on a shared machine hit every model alike."""
    samples: dict[str, list[float]] = {name: [] for name in models}
    with torch.inference_mode():
        for model in models.values():
            model.eval()
            for _ in range(warmup):
                call_model(model, batch)
        for _ in range(repeats):
            for name, model in models.items():
                started = time.perf_counter()
                call_model(model, batch)
                samples[name].append((time.perf_counter() - started) * 1e3)
    return {name: statistics.median(values) for name, values in samples.items()}


def serialized_bytes(model: nn.Module) -> int:
    """Size of the model's state dict written as safetensors (what one would ship)."""
    from safetensors.torch import save

    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    return len(save(state))


def macs_and_params(model: nn.Module, example: Any) -> tuple[int, int]:
    import torch_pruning as tp

    with torch.no_grad():
        macs, params = tp.utils.count_ops_and_params(model, example)
    return int(macs), int(params)


# --- formatting ------------------------------------------------------------------------
def mean(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def target_row(name: str, measured: float | None, target: str, passed: bool | None, reference: str = "") -> dict:
    """One line of a PASS/MISS table."""
    return {
        "target": name,
        "measured": measured,
        "goal": target,
        "reference": reference,
        "status": "n/a" if passed is None else ("PASS" if passed else "MISS"),
    }


@contextmanager
def seeded(seed: int = SEED):
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.random.set_rng_state(state)


def targets_markdown(target_rows: list[dict]) -> list[str]:
    """The PASS/MISS table every benchmark prints under its results."""
    if not target_rows:
        return []
    lines = ["", "| target | measured | goal | status | note |", "|---|---|---|---|---|"]
    for t in target_rows:
        lines.append(f"| {t['target']} | {fmt(t['measured'])} | {t['goal']} | {t['status']} | {t['reference']} |")
    return lines


def statistics_seconds(model: nn.Module, example: Any, batches: list, groups: str | None = None) -> float:
    """Wall time of one ``netgraph.calibrate`` pass (forward + Gram statistics) over ``batches``
    for the groups a reduction would touch: the other unit for the tool's cost."""
    import netgraph
    from netgraph.reduce.planning import select_groups

    chosen, _ = select_groups(netgraph.find_unit_groups(model, example), groups)
    started = time.perf_counter()
    netgraph.calibrate(model, batches, chosen)
    return time.perf_counter() - started
