"""Hand a model (original or reduced) to the tools people deploy with.

ONNX files checked against onnxruntime (:func:`export_onnx`). Needs the ``export`` extra:
``pip install 'netgraph[export]'`` (onnx, onnxscript, onnxruntime); importing this package
does not import them.
"""

from netgraph.export.onnx import (DEFAULT_RTOL, ExportError, OnnxExport, check_export_dependencies, export_onnx, onnx_session,
                                  run_onnx)

__all__ = ["DEFAULT_RTOL", "ExportError", "OnnxExport", "check_export_dependencies", "export_onnx", "onnx_session", "run_onnx"]
