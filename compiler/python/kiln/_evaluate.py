"""kiln.evaluate: task-level accuracy of a network config (``kiln eval CONFIG.yaml``)."""
import json
import logging
import os
import tempfile
import warnings

from . import _kiln

__all__ = ["evaluate"]

_log = logging.getLogger("kiln")


def evaluate(config_path, targets=("quantized",), data=None, size=None, *, calib_size=None,
             hw_arch=None, output_dir=None, progress=None):
    """Optimizes a network config and measures its task accuracy (``kiln eval CONFIG.yaml``):
    runs the evaluation set (the config's eval: data, or `data`) through the float network and
    the test builds, compares each output's decisions (eval: outputs: classes, scores, map,
    regress, sequence) against float and labels, and checks the config's expect: gates.

    config_path: the network config (.yaml) with an eval: section (docs/batch.md).
    targets: the builds compared with float, of kiln.eval_targets(): "quantized" (the integer
      emulation), "kef" (the compiled executable, run by the runtime; compiled for hw_arch),
      "native" (the float reference itself, which always runs); a sequence or a
      comma-separated string (default ("quantized",), --targets).
    data: an evaluation set (path) instead of the config's eval.data (--data).
    size: at most this many samples (default: all; --size). calib_size: calibration samples
      (default: the config's; --calib-size). hw_arch: target of the kef build (default: the
      config's first; --hw-arch).
    output_dir: where the archives, the .kef and <net>.eval.json are written (--output-dir);
      default: a temporary directory, removed afterwards.
    progress: called as progress(step, done, total): optimize's steps, then "evaluation" per
      sample. The GIL is released; Ctrl-C stops the run.

    Returns the report <net>.eval.json holds: network, data, samples, reference, targets
    [{target, outputs [{output, kind, figures...}]}], gates [{key, value, target, output,
    figure, passed, message}], passed. A missed gate (the CLI's exit status 1) is a
    KilnWarning, not an exception: check report["passed"]. The CLI's table is logged (logger
    "kiln", INFO). Raises ValueError for bad arguments, KilnError for the config's and the
    flow's errors.
    """
    if isinstance(targets, str):
        targets = [t for t in targets.split(",")]
    targets = list(targets)
    known = list(_kiln.eval_targets())
    if not targets:
        raise ValueError(f"targets: give at least one of {', '.join(known)}")
    for t in targets:
        if t not in known:
            raise ValueError(f"targets: unknown target {t!r} (expected {', '.join(known)}; "
                             "the float reference always runs)")
    from ._runner import _int_in
    size = None if size is None else _int_in("size", size, 1, 1000000)
    calib_size = None if calib_size is None else _int_in("calib_size", calib_size, 1, 1000000)
    if hw_arch is not None and hw_arch not in _kiln.hw_archs():
        raise ValueError(f"hw_arch={hw_arch!r}: expected one of {', '.join(_kiln.hw_archs())}")
    config_path = os.fspath(config_path)
    data = "" if data is None else os.fspath(data)

    def run(directory):
        return _kiln.evaluate(config_path, targets, data, size or 0, calib_size, hw_arch,
                              directory, progress)

    if output_dir is None:
        with tempfile.TemporaryDirectory(prefix="kiln-eval-") as tmp:
            report, table, passed, warns, infos = run(tmp)
    else:
        report, table, passed, warns, infos = run(os.fspath(output_dir))
    for i in infos:
        _log.info("%s", i)
    for w in warns:
        warnings.warn(w, _kiln_warning(), stacklevel=2)
    _log.info("%s", table.rstrip("\n"))
    result = json.loads(report)
    if not passed:
        missed = [g["message"] for g in result.get("gates", []) if not g["passed"]]
        warnings.warn(f"{config_path}: a quality gate (expect:) was missed: " + "; ".join(missed),
                      _kiln_warning(), stacklevel=2)
    return result


def _kiln_warning():
    from ._runner import KilnWarning
    return KilnWarning
