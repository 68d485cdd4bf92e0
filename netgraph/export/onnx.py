"""ONNX export of an original or reduced model, checked against onnxruntime before it is kept.

A reduced model is an ordinary ``nn.Module`` with smaller layers, so it goes through
PyTorch's own exporter (``torch.onnx.export(..., dynamo=True)``). What this module adds is
what a deployment needs on top: named inputs for keyword models (Hugging Face), a dynamic
batch (and, for token inputs, sequence) dimension, a file that appears only once it is
complete, and a round trip through onnxruntime whose worst difference must stay within a
stated relative tolerance, or no file is written at all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from netgraph.atomic import umask_mode
from netgraph.errors import InvalidParameterError, NetgraphError

__all__ = ["ExportError", "OnnxExport", "check_export_dependencies", "export_onnx", "onnx_session", "run_onnx", "DEFAULT_RTOL"]

#: Largest accepted ``max |onnxruntime - torch| / max |torch|`` on the example inputs.
#: float32 kernels differ in summation order; measured differences are ~1e-7 relative.
DEFAULT_RTOL = 1e-4

_EXTRA_HINT = "install them with pip install 'netgraph[export]'"


class ExportError(NetgraphError, RuntimeError):
    """The model could not be exported, or the exported file does not reproduce its outputs."""


@dataclass(frozen=True)
class OnnxExport:
    """What :func:`export_onnx` wrote and how closely onnxruntime reproduces PyTorch.

    Attributes
    ----------
    path : Path
        The ONNX file.
    input_names, output_names : tuple of str
        Names of the graph's inputs (the keyword names for dict inputs) and outputs.
    max_abs_diff : float or None
        Largest absolute difference between onnxruntime and PyTorch outputs on the example
        inputs; ``None`` when ``verify=False``.
    relative_diff : float or None
        ``max_abs_diff`` divided by the largest absolute PyTorch output (at least 1e-12).
    rtol : float
        The relative tolerance the check was held to.
    """

    path: Path
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    max_abs_diff: float | None
    relative_diff: float | None
    rtol: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "input_names": list(self.input_names),
            "output_names": list(self.output_names),
            "max_abs_diff": self.max_abs_diff,
            "relative_diff": self.relative_diff,
            "rtol": self.rtol,
        }


class _TensorsInTensorsOut(nn.Module):
    """Positional tensors in, a flat tuple of tensors out: the shape ONNX graphs have.

    Keyword models (Hugging Face) get their argument names back from ``names``; structured
    outputs (``ModelOutput``, dicts, nested tuples) are flattened in their own order.
    """

    def __init__(self, model: nn.Module, names: tuple[str, ...] | None):
        super().__init__()
        self.model = model
        self.names = names

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.names is not None:
            output = self.model(**dict(zip(self.names, tensors)))
        else:
            output = self.model(*tensors)
        return tuple(_flatten(output))


def _flatten(output: Any) -> Iterator[torch.Tensor]:
    if isinstance(output, torch.Tensor):
        yield output
    elif isinstance(output, dict):  # includes transformers' ModelOutput
        for value in output.values():
            yield from _flatten(value)
    elif isinstance(output, (tuple, list)):
        for value in output:
            yield from _flatten(value)
    # None and other non-tensor values have no place in an ONNX graph.


def _positional(example_inputs: Any) -> tuple[tuple[torch.Tensor, ...], tuple[str, ...] | None]:
    if isinstance(example_inputs, torch.Tensor):
        tensors, names = (example_inputs,), None
    elif isinstance(example_inputs, dict):
        names = tuple(str(k) for k in example_inputs)
        tensors = tuple(example_inputs.values())
    elif isinstance(example_inputs, (tuple, list)):
        tensors, names = tuple(example_inputs), None
    else:
        raise InvalidParameterError.expected("example_inputs", "export_onnx", "a tensor, a tuple of tensors or a dict of tensors",
                                             type(example_inputs).__name__)
    if not tensors or not all(isinstance(t, torch.Tensor) for t in tensors):
        raise InvalidParameterError.expected("example_inputs", "export_onnx", "made of tensors only",
                                             [type(t).__name__ for t in tensors])
    return tensors, names


def _dynamic_shapes(tensors: tuple[torch.Tensor, ...]) -> tuple[dict[int, Any], ...]:
    """Batch (dim 0) dynamic everywhere; dim 1 also for 2-D integer inputs (token ids, masks)."""
    shapes = []
    for tensor in tensors:
        dims: dict[int, Any] = {}
        if tensor.dim() >= 1:
            dims[0] = torch.export.Dim.AUTO
        if tensor.dim() == 2 and not tensor.is_floating_point():
            dims[1] = torch.export.Dim.AUTO
        shapes.append(dims)
    return tuple(shapes)


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The exporter logs a warning per missing torchvision op and emits deprecation
    notices; the library never prints, so both are held back during the export."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def check_export_dependencies() -> None:
    missing = []
    for module in ("onnx", "onnxscript", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ExportError(f"ONNX export needs {', '.join(missing)}; {_EXTRA_HINT}.")


def onnx_session(path: str | os.PathLike, *, threads: int | None = None):
    """An onnxruntime CPU session for ``path`` (``threads`` intra-op threads when given)."""
    check_export_dependencies()
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def run_onnx(session, example_inputs: Any) -> list:
    """Run ``session`` on inputs shaped like a model batch; returns numpy arrays."""
    tensors, _ = _positional(example_inputs)
    names = [item.name for item in session.get_inputs()]
    if len(names) != len(tensors):
        raise ExportError(f"The ONNX graph takes {len(names)} inputs but {len(tensors)} were given; "
                          "pass the same kind of inputs the model was exported with.")
    feed = {name: tensor.detach().cpu().numpy() for name, tensor in zip(names, tensors)}
    return session.run(None, feed)


def export_onnx(
    model: nn.Module,
    example_inputs: Any,
    path: str | os.PathLike,
    *,
    dynamic: bool = True,
    verify: bool = True,
    rtol: float = DEFAULT_RTOL,
) -> OnnxExport:
    """Write ``model`` as an ONNX file that onnxruntime runs with the same outputs.

    Parameters
    ----------
    model : nn.Module
        Any model PyTorch's exporter traces (a reduced model is an ordinary module). It is
        exported in eval mode; its train/eval mode is restored afterwards.
    example_inputs : Tensor, tuple of Tensors or dict of Tensors
        One batch, as the model is called (a dict for Hugging Face models, whose keys become
        the ONNX input names). Use a batch of at least 2 so the batch size stays dynamic.
    path : path-like
        Where the ``.onnx`` file goes. It is written next to its destination under a
        temporary name and renamed once checked, so ``path`` is never half-written.
    dynamic : bool
        Let the batch dimension (and the sequence dimension of 2-D integer inputs such as
        token ids) vary at run time.
    verify : bool
        Run the file in onnxruntime on ``example_inputs`` and compare with PyTorch.
    rtol : float
        Largest accepted ``max |onnx - torch| / max |torch|``.

    Returns
    -------
    OnnxExport

    Raises
    ------
    ExportError
        onnx/onnxscript/onnxruntime are missing, the exporter cannot trace the model, or the
        outputs differ beyond ``rtol`` (then no file is written).

    Examples
    --------
    >>> import torch, netgraph
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> result = netgraph.export_onnx(model, torch.randn(3, 4), "model.onnx")  # doctest: +SKIP
    >>> result.relative_diff < 1e-4  # doctest: +SKIP
    True
    """
    if not (isinstance(rtol, (int, float)) and rtol > 0):
        raise InvalidParameterError.expected("rtol", "export_onnx", "a positive float", rtol)
    check_export_dependencies()
    tensors, names = _positional(example_inputs)
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        raise InvalidParameterError(f"ONNX files end in .onnx; got {str(path)!r}. Name the file e.g. model.onnx.")
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = _TensorsInTensorsOut(model, names)
    input_names = names if names is not None else tuple(f"input_{i}" for i in range(len(tensors)))
    was_training = model.training
    model.eval()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        with torch.no_grad():
            reference = wrapper(*tensors)
        if not reference:
            raise ExportError(f"{type(model).__name__} returns no tensors; ONNX graphs need at least one output.")
        output_names = tuple(f"output_{i}" for i in range(len(reference)))
        try:
            with _quiet_exporter():
                program = torch.onnx.export(
                    wrapper, tensors, dynamo=True, input_names=list(input_names), output_names=list(output_names),
                    # One entry for the wrapper's *tensors: a tuple with one shape dict per tensor.
                    dynamic_shapes=(_dynamic_shapes(tensors),) if dynamic else None, verbose=False, report=False,
                )
                program.save(temporary, external_data=False)
        except ExportError:
            raise
        except Exception as error:  # the exporter raises many types; name the model and the cause
            cause = error
            while cause.__cause__ is not None:  # the exporter wraps the tracer's own message
                cause = cause.__cause__
            first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
            raise ExportError(f"PyTorch's ONNX exporter could not trace {type(model).__name__}: {first}") from error
        max_abs = relative = None
        if verify:
            outputs = run_onnx(onnx_session(temporary), tensors)
            max_abs, relative = _compare(outputs, reference)
            if relative > rtol:
                raise ExportError(
                    f"onnxruntime's outputs differ from PyTorch's by {relative:.2e} (relative), more than rtol={rtol:g}; "
                    "the file was not written. Export with verify=False to keep it anyway."
                )
        os.chmod(temporary, umask_mode())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
        model.train(was_training)
    return OnnxExport(path=path, input_names=tuple(input_names), output_names=output_names,
                      max_abs_diff=max_abs, relative_diff=relative, rtol=float(rtol))


def _compare(outputs: list, reference: tuple[torch.Tensor, ...]) -> tuple[float, float]:
    import numpy as np

    if len(outputs) != len(reference):
        raise ExportError(f"The ONNX graph has {len(outputs)} outputs but the model returns {len(reference)}.")
    max_abs = 0.0
    scale = 1e-12
    for got, want in zip(outputs, reference):
        want = want.detach().cpu().numpy()
        if got.shape != want.shape:
            raise ExportError(f"An ONNX output has shape {tuple(got.shape)} where PyTorch gives {tuple(want.shape)}.")
        if want.size:
            max_abs = max(max_abs, float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))))
            scale = max(scale, float(np.max(np.abs(want.astype(np.float64)))))
    return max_abs, max_abs / scale
