"""Running Torch-Pruning's dependency tracer safely on models people bring.

Three things make the tracer fail or hang on real architectures, and each is handled here
rather than in the group logic:

- **Attention internals.** Under grouped-query attention, ``repeat_kv`` expands key/value
  heads; Torch-Pruning's index propagation then loops for minutes. Attention modules are
  made *opaque* while tracing: their output is computed without autograd and re-attached
  to their input through one pass-through node, so the tracer sees a single layer whose
  input and output are the hidden size. Heads are units of ``netgraph.transformer``; here
  the attention layer only marks the residual stream around it as not reducible.
- **Layer kinds the tracer does not know**: Hugging Face's ``Conv1D`` (weight stored
  transposed) gets a pruner of its own.
- **Time.** Every trace runs under a wall-clock limit that turns into a clear
  :class:`~netgraph.errors.UnsupportedModelError` instead of a hang.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Any, Iterator

import torch
from torch import nn

from netgraph.errors import UnsupportedModelError
from netgraph.graph.layers import is_transposed_linear

__all__ = ["DEFAULT_TRACE_SECONDS", "attention_modules", "trace_dependencies", "transposed_linear_pruner", "TraceClock"]

DEFAULT_TRACE_SECONDS = 60.0
# Children that name an attention layer's projections in the common code bases.
_ATTENTION_CHILDREN = ({"q_proj", "k_proj", "v_proj"}, {"query", "key", "value"}, {"qkv"}, {"c_attn"}, {"Wqkv"})


def _looks_like_attention(module: nn.Module) -> bool:
    if isinstance(module, nn.MultiheadAttention):
        return False  # Torch-Pruning has its own handler for it
    children = {name for name, _ in module.named_children()}
    if any(names <= children for names in _ATTENTION_CHILDREN):
        return True
    return "attention" in type(module).__name__.lower() and any(
        isinstance(child, nn.Linear) or is_transposed_linear(child) for child in module.children()
    )


def attention_modules(model: nn.Module) -> list[nn.Module]:
    """The innermost attention layers of ``model`` (those holding the q/k/v projections)."""
    # The model itself is never opaque, whatever its class is called.
    found = [m for m in model.modules() if m is not model and _looks_like_attention(m)]
    inner = []
    for module in found:
        if not any(other is not module and other in set(module.modules()) for other in found):
            inner.append(module)
    return inner


class _PassThrough(torch.autograd.Function):
    """Returns ``output`` but, for the tracer, depends only on ``hidden``."""

    @staticmethod
    def forward(ctx, hidden: torch.Tensor, output: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return output.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # noqa: D102
        return None, None


def _first_tensor(args: tuple, kwargs: dict) -> torch.Tensor | None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value
    return None


@contextlib.contextmanager
def _opaque(modules: list[nn.Module], widths: dict[nn.Module, tuple[int, int]]) -> Iterator[None]:
    originals = {}

    def wrap(module: nn.Module):
        forward = module.forward

        def opaque_forward(*args, **kwargs):
            hidden = _first_tensor(args, kwargs)
            with torch.no_grad():
                output = forward(*args, **kwargs)
            first = output[0] if isinstance(output, tuple) else output
            if hidden is None or not isinstance(first, torch.Tensor) or not hidden.requires_grad:
                return output
            widths[module] = (int(hidden.shape[-1]), int(first.shape[-1]))
            attached = _PassThrough.apply(hidden, first)
            return (attached, *output[1:]) if isinstance(output, tuple) else attached

        return opaque_forward

    for module in modules:
        originals[module] = module.__dict__.get("forward")
        module.forward = wrap(module)
    try:
        yield
    finally:
        for module, original in originals.items():
            if original is None:
                del module.forward
            else:
                module.forward = original


def transposed_linear_pruner():
    """Torch-Pruning surgery for Hugging Face's ``Conv1D`` (weight stored (in, out))."""
    return _pruners({})[0]


def _pruners(widths: dict[nn.Module, tuple[int, int]]):
    import torch_pruning as tp

    class TransposedLinearPruner(tp.pruner.function.BasePruningFunc):
        """Hugging Face ``Conv1D``: weight (in, out), bias (out)."""

        TARGET_MODULES = None

        def prune_out_channels(self, layer, idxs):
            keep = sorted(set(range(layer.weight.shape[1])) - set(int(i) for i in idxs))
            layer.weight = self._prune_parameter_and_grad(layer.weight, keep, 1)
            if layer.bias is not None:
                layer.bias = self._prune_parameter_and_grad(layer.bias, keep, 0)
            layer.nf = len(keep)
            return layer

        def prune_in_channels(self, layer, idxs):
            keep = sorted(set(range(layer.weight.shape[0])) - set(int(i) for i in idxs))
            layer.weight = self._prune_parameter_and_grad(layer.weight, keep, 0)
            return layer

        def get_out_channels(self, layer):
            return layer.weight.shape[1]

        def get_in_channels(self, layer):
            return layer.weight.shape[0]

    class OpaquePruner(tp.pruner.function.BasePruningFunc):
        """An attention layer seen from outside: it reads and writes the hidden size."""

        TARGET_MODULES = None

        def prune_out_channels(self, layer, idxs):
            raise UnsupportedModelError(f"netgraph does not cut through the attention layer {type(layer).__name__}.")

        prune_in_channels = prune_out_channels

        def get_out_channels(self, layer):
            return widths.get(layer, (None, None))[1]

        def get_in_channels(self, layer):
            return widths.get(layer, (None, None))[0]

    return TransposedLinearPruner(), OpaquePruner()


class TraceClock:
    """A wall-clock limit for a trace: a SIGALRM timer in the main thread, plus explicit
    checks between groups (the only option in other threads)."""

    def __init__(self, seconds: float | None, what: str):
        self.seconds = seconds
        self.what = what
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def error(self) -> UnsupportedModelError:
        return UnsupportedModelError(
            f"Tracing {self.what} took longer than {self.seconds:g} s and was stopped; "
            "raise trace_seconds, or pass groups= to reduce only some layers."
        )

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise self.error()

    @contextlib.contextmanager
    def alarm(self) -> Iterator[None]:
        usable = (
            self.seconds is not None
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
            and signal.getitimer(signal.ITIMER_REAL)[0] == 0  # never steal a caller's timer
        )
        if not usable:
            yield
            return

        def on_alarm(signum, frame):
            raise self.error()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(self.deadline - time.monotonic(), 1e-3))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _output_tensors(output: Any) -> list[torch.Tensor]:
    """The differentiable tensors of a model's output, whatever holds them (a Hugging Face
    ``ModelOutput``, dicts, tuples); key/value caches and integer tensors are left out."""
    found: list[torch.Tensor] = []
    stack = [output]
    while stack:
        item = stack.pop(0)
        if isinstance(item, torch.Tensor):
            if item.grad_fn is not None:
                found.append(item)
        elif isinstance(item, dict):
            stack.extend(value for key, value in item.items() if "past" not in str(key) and "cache" not in str(key))
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def trace_dependencies(model: nn.Module, example_inputs: Any, clock: TraceClock):
    """Torch-Pruning's DependencyGraph of ``model``, with attention layers opaque.

    Returns ``(graph, opaque)``: the dependency graph and the set of opaque attention layers.
    """
    import torch_pruning as tp

    widths: dict[nn.Module, tuple[int, int]] = {}
    transposed, opaque_pruner = _pruners(widths)
    opaque = attention_modules(model)
    # Torch-Pruning matches customized layers by type (isinstance), not by instance.
    customized: dict[Any, Any] = {type(module): opaque_pruner for module in opaque}
    for module in model.modules():
        if is_transposed_linear(module):
            customized[type(module)] = transposed
            break
    try:
        with torch.enable_grad(), _opaque(opaque, widths), clock.alarm():  # the tracer follows autograd
            graph = tp.DependencyGraph().build_dependency(
                model,
                example_inputs=example_inputs,
                customized_pruners=customized,
                output_transform=_output_tensors,
                verbose=False,
            )
    except UnsupportedModelError:
        raise
    except Exception as error:  # the tracer raises many types; name the model and the cause
        raise UnsupportedModelError(
            f"Torch-Pruning could not trace {type(model).__name__}: {type(error).__name__}: {error}. "
            "Check that example_inputs match what the model's forward() expects."
        ) from error
    return graph, set(opaque)
