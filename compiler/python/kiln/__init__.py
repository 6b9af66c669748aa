"""Kiln for Python: ONNX -> quantized .kef executables, the way the reference SDK works.

    from kiln import ClientRunner, InferenceContext
    runner = ClientRunner(hw_arch="hailo8")
    runner.translate_onnx_model("model.onnx")
    runner.optimize(calib)                                  # numpy (N, ...) or {name: array}
    with runner.infer_context(InferenceContext.SDK_QUANTIZED) as ctx:
        outs = runner.infer(ctx, data)
    kef = runner.compile()                                  # bytes; run with kilnrt.Model(kef)
    noise = runner.analyze_noise(held_out, mode="advanced")  # kiln analyze-noise
    report = kiln.evaluate("net.yaml", targets="quantized,kef")  # kiln eval

See docs/python.md; the runtime is the separate package ``kilnrt``.
"""
from . import _kiln
from ._evaluate import evaluate
from ._runner import ClientRunner, InferenceContext, KilnWarning
from .errors import (CalibrationError, ExecutableError, FileError, InputError, KilnError,
                     ModelScriptError)

__version__ = _kiln.tool_version()

__all__ = [
    "ClientRunner", "InferenceContext", "KilnWarning", "KilnError", "ModelScriptError",
    "CalibrationError", "FileError", "InputError", "ExecutableError", "hw_archs", "evaluate",
    "eval_targets",
]


def hw_archs():
    """The targets compile() accepts (``kiln compiler --hw-arch``)."""
    return list(_kiln.hw_archs())


def eval_targets():
    """The targets evaluate() takes (``kiln eval --targets``): native, quantized, kef."""
    return list(_kiln.eval_targets())
