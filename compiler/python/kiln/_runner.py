"""ClientRunner: one network from ONNX to a .kef, in Python (the reference SDK's names).

Each method calls the library the matching ``kiln`` command calls, with the same defaults, so
the results equal the command line's byte for byte. See docs/python.md.
"""
import enum
import json
import logging
import operator
import os
import warnings

import numpy as np

from . import _kiln

__all__ = ["ClientRunner", "InferenceContext", "KilnWarning"]

_log = logging.getLogger("kiln")
_SCRIPT_NAME = "<model script>"


class KilnWarning(UserWarning):
    """A warning of the flow (the CLI's ``kiln: warning:`` lines and script diagnostics)."""


class InferenceContext(enum.Enum):
    """What ClientRunner.infer runs: the CLI's ``kiln infer --target``."""

    SDK_NATIVE = "native"  #: the parsed float network
    SDK_FP_OPTIMIZED = "fp-optimized"  #: the optimized network in float (script changes, equalization)
    SDK_QUANTIZED = "quantized"  #: the integer emulation, bit-exact with kilnrt


class _InferContext:
    """What ``runner.infer_context(...)`` returns; pass it to ``runner.infer``."""

    def __init__(self, runner, context):
        self.runner = runner
        self.context = InferenceContext(context)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        return f"<kiln inference context {self.context.name}>"


def _warn_all(messages):
    for m in messages:
        warnings.warn(m, KilnWarning, stacklevel=3)


def _int_in(name, value, lo, hi):
    """An integer argument (int or numpy integer) from lo to hi, else a ValueError naming it."""
    try:
        v = operator.index(value)
    except TypeError:
        v = None
    if v is None or isinstance(value, bool) or not lo <= v <= hi:
        raise ValueError(f"{name}={value!r}: expected an integer from {lo} to {hi}")
    return v


def _is_array_like(x):
    return isinstance(x, (np.ndarray, list, tuple)) or hasattr(x, "__array__")


class ClientRunner:
    """One network through Kiln's flow: translate, load a model script, optimize, infer, compile.

    ClientRunner(hw_arch="hailo8") starts empty; ClientRunner(har="net.kar") loads an archive
    (parsed or optimized) written by save_har or by the ``kiln`` command line.
    """

    def __init__(self, hw_arch="hailo8", har=None):
        if hw_arch not in _kiln.hw_archs():
            raise ValueError(f"hw_arch={hw_arch!r}: expected one of {', '.join(_kiln.hw_archs())}")
        self.hw_arch = hw_arch
        self._archive = None
        self._scripts = []  # (text, path or None) in load order
        self.notes = []  # what the last translate did that the user should hear about
        self.mixed_precision = None  # optimize(target_snr=...)'s choice (<output>.mixed.json)
        self.mixed_script = None  # and its script (<output>.mixed.alls)
        self.noise_analysis_summary = None  # analyze_noise()'s terminal report
        if har is not None:
            self.load_har(har)

    # -- state -------------------------------------------------------------------------------
    @property
    def model_name(self):
        """The network's name (None before translate_onnx_model / load_har)."""
        return self._archive.net_name if self._archive else None

    @property
    def state(self):
        """'empty', 'parsed' or 'optimized'."""
        if self._archive is None:
            return "empty"
        return "optimized" if "optimize" in self._archive.stages else "parsed"

    @property
    def inputs(self):
        """The network's inputs: dicts of name (ONNX), layer (Kiln) and shape (ONNX layout)."""
        return self._need("parsed").inputs

    @property
    def outputs(self):
        """The network's outputs: dicts of name (ONNX), layer (Kiln) and shape."""
        return self._need("parsed").outputs

    def _need(self, what):
        if self._archive is None:
            raise RuntimeError("no network yet: call translate_onnx_model() or load_har() first")
        if what == "optimized" and self.state != "optimized":
            raise RuntimeError("the network is not optimized yet: call optimize() first")
        return self._archive

    # -- parse -------------------------------------------------------------------------------
    def translate_onnx_model(self, model, net_name=None, start_node_names=None,
                             end_node_names=None, net_input_shapes=None, *,
                             accept_suggested_cuts=False):
        """Parses an ONNX model into Kiln's IR (``kiln parser onnx``).

        model: path of the .onnx file. net_name: the network's name (default: the file's stem).
        start_node_names / end_node_names: ONNX node names where the network starts / ends
        (--start-node-names / --end-node-names). net_input_shapes: {input name: [d0, d1, ...]}
        fixing dynamic dimensions (--tensor-shapes). accept_suggested_cuts: apply the
        end_node_names Kiln suggests when the model has unsupported operators (-y).

        Replaces any network the runner held and forgets loaded scripts. Returns the notes of
        the import (cuts applied, nodes removed), also kept in ``self.notes``. Raises KilnError
        naming the file and the node at fault.
        """
        if isinstance(start_node_names, str):
            start_node_names = [start_node_names]
        if isinstance(end_node_names, str):
            end_node_names = [end_node_names]
        archive, notes = _kiln.parse_onnx(os.fspath(model), net_name, start_node_names,
                                          end_node_names, net_input_shapes,
                                          accept_suggested_cuts)
        self._archive = archive
        self._scripts = []
        self.notes = list(notes)
        for n in notes:
            _log.info("%s", n)
        return self.notes

    # -- archives ----------------------------------------------------------------------------
    def load_har(self, har):
        """Loads a Kiln archive (.kar; the reference calls it HAR), parsed or optimized."""
        self._archive = _kiln.load_archive(os.fspath(har))
        self._scripts = []

    def save_har(self, har_path):
        """Writes the network as a Kiln archive (.kar), atomically: the same bytes the command
        line writes for the same network (kiln parser onnx --har-path, kiln optimize)."""
        self._need("parsed").save(os.fspath(har_path))

    def to_bytes(self):
        """The archive's bytes (what save_har writes)."""
        return self._need("parsed").to_bytes()

    # -- model script ------------------------------------------------------------------------
    def load_model_script(self, model_script, append=False):
        """Sets the model script optimize() applies (the Hailo Dataflow Compiler's .alls
        language, docs/alls.md): the script's text, or the path of a .alls file.

        append=True adds it after the scripts loaded before. The script is parsed and
        validated by optimize() (errors: ModelScriptError with file, line and column; a text
        script is named "<model script>").
        """
        path = None
        if isinstance(model_script, os.PathLike) or (
                isinstance(model_script, str) and "\n" not in model_script
                and os.path.isfile(model_script)):
            path = os.fspath(model_script)
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        elif isinstance(model_script, str):
            text = model_script
        else:
            raise TypeError("model_script: expected the script's text or a path, got "
                            f"{type(model_script).__name__}")
        if not append:
            self._scripts = []
        self._scripts.append((text, path))

    def _script_args(self):
        """(script_path, script_text or None) for optimize: one file is read by Kiln itself,
        as the CLI's --model-script; texts (and several scripts) are passed as text."""
        if not self._scripts:
            return "", None
        if len(self._scripts) == 1 and self._scripts[0][1] is not None:
            return self._scripts[0][1], None
        text = ""
        for t, _ in self._scripts:
            text += t if t.endswith("\n") or not t else t + "\n"
        return _SCRIPT_NAME, text

    # -- optimize ----------------------------------------------------------------------------
    def _calib_arrays(self, calib_data, calib_size, what="calib_data"):
        """The calibration (or held-out) data as one array per network input, in input order;
        `what` names it in messages."""
        names = [i["name"] for i in self._archive.inputs]

        def as_dict(item, where):
            if isinstance(item, dict):
                unknown = [k for k in item if k not in names]
                missing = [n for n in names if n not in item]
                if unknown or missing:
                    from .errors import InputError
                    raise InputError(
                        f"{where}: the network's inputs are {', '.join(names)}; "
                        + (f"no array for {', '.join(missing)}" if missing else "")
                        + ("; " if missing and unknown else "")
                        + (f"not inputs: {', '.join(map(str, unknown))}" if unknown else ""))
                return [item[n] for n in names]
            if len(names) != 1:
                from .errors import InputError
                raise InputError(f"{where}: the network has {len(names)} inputs "
                                 f"({', '.join(names)}); give a dict {{input name: array}}")
            return [item]

        if isinstance(calib_data, dict) or isinstance(calib_data, np.ndarray):
            return as_dict(calib_data, what)
        # An iterator or iterable of batches (arrays or dicts), read to its end or until
        # calib_size samples.
        parts = [[] for _ in names]
        count = 0
        for i, batch in enumerate(calib_data):
            arrays = as_dict(batch, f"{what} batch {i}")
            for k, a in enumerate(arrays):
                parts[k].append(np.asarray(a))
            count += len(parts[0][-1]) if np.ndim(parts[0][-1]) else 1
            if calib_size and count >= calib_size:
                break
        if not parts[0]:
            from .errors import InputError
            raise InputError(f"{what}: the iterator gave no batches")
        arrays = [np.concatenate(p, axis=0) if len(p) > 1 else p[0] for p in parts]
        # Exactly calib_size samples when the last batch went past it (as of one array).
        if calib_size and count > calib_size:
            arrays = [a[:calib_size] for a in arrays]
        return arrays

    def _data_args(self, data, size, what):
        """(path, arrays or None) of data given as a path or as arrays / dicts / batches."""
        if isinstance(data, (str, os.PathLike)):
            return os.fspath(data), None
        return "", self._calib_arrays(data, size, what)

    def optimize(self, calib_data=None, *, calib_size=None, random_calib=False,
                 report_samples=16, strict=False, progress=None, target_snr=None, target_gates=None,
                 data=None, data_size=16, max_16bit_fraction=0.25, mixed_script_path=None,
                 search_trials=3):
        """Quantizes the network (``kiln optimize``): applies the model script, calibrates,
        computes every tensor's quantization and layer's integer parameters, and runs the noise
        report (noise_report()).

        calib_data: a numpy array (N, ...) for a one-input network, a dict {input name: array},
          an iterable of such batches (read to its end or until calib_size samples), or a path
          (a directory of images or .npy files, a .npy, an .npz: --calib-set-path). Values as
          the model takes them (float32, float64 or uint8), in the ONNX model's layout.
        random_calib: calibrate on random data instead (--use-random-calib-set; for trying the
          flow only). calib_size: samples to use (default: the script's calibset_size, else 64).
        report_samples: samples the noise report runs (default 16). strict: script commands
          Kiln parses but does not apply are errors (--strict).
        progress: called as progress(step, done, total): at each step's start with 0, 0, and
          per sample of the calibration and noise report steps.

        Automatic mixed precision (``kiln optimize --target-snr DB --data-path HELD_OUT``):
        target_snr: lift the fewest tensors to 16 bits so that every output reaches this SNR
          (dB, against float) on the held-out `data`; rounds of optimize, measure, and the
          advanced noise analysis's ranking (see analyze_noise) add script lines.
        target_gates: instead of target_snr (``--target-gates CONFIG``): the path of a network
          config (YAML) whose quality gates (expect:, over its eval: outputs) must pass on the
          held-out data; rounds are judged by those task figures (docs/batch.md).
        data: the held-out samples (required with target_snr / target_gates; NOT the
          calibration set), in any form calib_data takes. data_size: held-out samples used
          (default 16).
        max_16bit_fraction: at most this fraction of activation bytes in 16 bits (default 0.25).
          The runner's hw_arch prices the choice (estimated FPS).
        search_trials: with target_gates, layers with weights tried whole (precision_mode=
          a16_w16) per round, each a trial optimize measured on `data` (--search-trials;
          default 3; 0: single tensors only).
        mixed_script_path: where the chosen script is written before each round (the CLI's
          <output>.mixed.alls) and the name the archive records for it; default: kept in
          memory, named "<model script>" like a script loaded as text.
        With target_snr or target_gates, returns the choice as the CLI's <output>.mixed.json holds it (met,
        lines, fraction_16bit, fps, rounds, ...), also kept in ``self.mixed_precision``; the
        chosen script's text is ``self.mixed_script`` (load_model_script(runner.mixed_script)
        and optimize(calib_data) rebuild the same archive). A target not met is a KilnWarning
        (the CLI's exit status 3) and the best archive found is kept. Without target_snr,
        returns None.

        The GIL is released while Kiln works; Ctrl-C (or an exception raised by progress)
        stops it and leaves the runner as it was. Warnings are issued as KilnWarning.
        Raises ModelScriptError, CalibrationError, InputError (a ValueError: arrays of the wrong
        dtype or shape) or KilnError.
        """
        archive = self._need("parsed")
        if (calib_data is None) == (not random_calib):
            raise ValueError("give exactly one of calib_data and random_calib=True")
        if calib_size is not None and not 1 <= calib_size <= 1000000:
            raise ValueError(f"calib_size={calib_size}: expected an integer from 1 to 1000000")
        if not 1 <= report_samples <= 1000000:
            raise ValueError(f"report_samples={report_samples}: expected an integer from 1 to "
                             "1000000")
        mixed = None
        if target_snr is not None and target_gates is not None:
            raise ValueError("give one of target_snr and target_gates: the search meets one "
                             "target")
        if target_snr is None and target_gates is None:
            if data is not None:
                raise ValueError("data is the held-out data of target_snr / target_gates: give "
                                 "one of them too")
        else:
            what = "target_snr" if target_gates is None else "target_gates"
            if data is None:
                raise ValueError(f"{what} needs held-out data to measure on: data=... (not "
                                 "the calibration set)")
            if target_snr is not None and not -100.0 <= target_snr <= 150.0:
                raise ValueError(f"target_snr={target_snr}: expected dB from -100 to 150")
            if target_gates is not None and not os.path.isfile(os.fspath(target_gates)):
                raise ValueError(f"target_gates={os.fspath(target_gates)!r}: no such network "
                                 "config (a YAML file with eval: and expect:)")
            if not 0.0 <= max_16bit_fraction <= 1.0:
                raise ValueError(f"max_16bit_fraction={max_16bit_fraction}: expected a fraction "
                                 "from 0 to 1")
            data_size = _int_in("data_size", data_size, 1, 1000000)
            search_trials = _int_in("search_trials", search_trials, 0, 64)
            data_path, data_arrays = self._data_args(data, data_size, "data")
            mixed = {"target_snr": float(target_snr or 0.0),
                     "gates_config": (None if target_gates is None
                                      else os.fspath(target_gates)),
                     "data_path": data_path,
                     "data_arrays": data_arrays, "data_size": data_size,
                     "max_16bit_fraction": float(max_16bit_fraction), "hw_arch": self.hw_arch,
                     "search_trials": search_trials,
                     "script_path": (_SCRIPT_NAME if mixed_script_path is None
                                     else os.fspath(mixed_script_path)),
                     "write_script": mixed_script_path is not None}
        calib_path, arrays = "", None
        if isinstance(calib_data, (str, os.PathLike)):
            calib_path = os.fspath(calib_data)
        elif calib_data is not None:
            arrays = self._calib_arrays(calib_data, calib_size)
        script_path, script_text = self._script_args()
        optimized, warns, infos, mixed_out = _kiln.optimize(
            archive, calib_path, arrays, random_calib, script_path, script_text, strict,
            calib_size or 0, report_samples, progress, mixed)
        for i in infos:
            _log.info("%s", i)
        _warn_all(warns)
        self._archive = optimized
        if mixed_out is None:
            return None
        report, script, summary = mixed_out
        self.mixed_precision = json.loads(report)
        self.mixed_script = script
        _log.info("%s", summary.rstrip("\n"))
        if not self.mixed_precision["met"]:
            _warn_all([summary.rstrip("\n")])
        return self.mixed_precision

    def noise_report(self):
        """The noise report of optimize() as Python data (the archive's optimize/report.json,
        also written by kiln optimize beside the archive): per output and per layer SNR, the
        ranges, the script lines applied."""
        report = self._need("optimized").extra("optimize/report.json")
        return json.loads(report)

    def analyze_noise(self, data, mode="simple", data_size=16, hw_arch=None, top=10, *,
                      progress=None):
        """The quantization noise of the optimized network on held-out data
        (``kiln analyze-noise``), as the CLI's --json file holds it (kind
        "kiln-noise-analysis").

        data: held-out samples, NOT the calibration set, in any form optimize()'s calib_data
          takes (an array, a dict, an iterable of batches, or a path: --data-path).
        mode: "simple": every output's and every layer's SNR against float, all layers
          quantized. "advanced": also, for every tensor, each output's SNR with only that tensor
          quantized and the gain of lifting only it to 16 bits, and the ranked suggestions
          (script lines with their gain, extra bytes and FPS before / after).
        data_size: samples used (default 16). hw_arch: the target whose resource plan prices
          the suggestions' FPS (default: the runner's). top: suggestions listed (default 10).
        progress: called as progress(step, done, total) ("noise analysis" or "noise analysis
          (advanced)"); Ctrl-C stops the analysis.

        Returns a dict: mode, archive, hw_arch, data {path, samples}, outputs [{name, snr_db}],
        layers [{name, type, precision, bits, snr_db, effects (advanced)}], suggestions
        [{line, output, gain_db, gains_db, activation_bytes, weight_bytes, fps_before,
        fps_after}]. The CLI's terminal report is kept in ``self.noise_analysis_summary``.
        Raises InputError (a ValueError) for arrays of the wrong dtype or shape,
        CalibrationError for unreadable data, KilnError.
        """
        archive = self._need("optimized")
        if mode not in ("simple", "advanced"):
            raise ValueError(f"mode={mode!r}: expected 'simple' or 'advanced'")
        data_size = _int_in("data_size", data_size, 1, 1000000)
        top = _int_in("top", top, 1, 1000)
        hw_arch = hw_arch or self.hw_arch
        if hw_arch not in _kiln.hw_archs():
            raise ValueError(f"hw_arch={hw_arch!r}: expected one of {', '.join(_kiln.hw_archs())}")
        if data is None:
            raise ValueError("data: give the held-out samples (an array, a dict, batches or a "
                             "path)")
        data_path, arrays = self._data_args(data, data_size, "data")
        report, text, warns, infos = _kiln.analyze_noise(archive, data_path, arrays, mode,
                                                         data_size, hw_arch, top, progress)
        for i in infos:
            _log.info("%s", i)
        _warn_all(warns)
        self.noise_analysis_summary = text
        return json.loads(report)

    # -- infer -------------------------------------------------------------------------------
    def infer_context(self, context):
        """A context for infer(): InferenceContext.SDK_NATIVE, SDK_FP_OPTIMIZED or
        SDK_QUANTIZED (the CLI's --target native, fp-optimized, quantized)."""
        return _InferContext(self, context)

    def infer(self, context, data, *, raw=False, progress=None):
        """Runs the network on numpy data (``kiln infer``), the same numbers to the last bit.

        context: from infer_context() (or an InferenceContext). data: a float32 array for a
          one-input network, a list of arrays in input order, or a dict {input name: array};
          each in the ONNX model's layout and shape, or [N, ...] to run N samples.
        raw: SDK_QUANTIZED only: the device integers (uint8/uint16) instead of dequantized
          float32 (--user-format-type auto). progress: called as progress(done, total) after
          each sample; Ctrl-C stops the run.

        Returns a dict {output name: array} for a dict of data, one array for a one-output
        network, else a list in output order. Raises InputError (a ValueError) for a wrong
        count, dtype or shape.
        """
        ctx = context.context if isinstance(context, _InferContext) else InferenceContext(context)
        archive = self._need("parsed")
        names = [i["name"] for i in archive.inputs]
        if isinstance(data, dict):
            from .errors import InputError
            unknown = [k for k in data if k not in names]
            missing = [n for n in names if n not in data]
            if unknown or missing:
                raise InputError(f"data: the network's inputs are {', '.join(names)}; "
                                 + (f"no array for {', '.join(missing)}" if missing else "")
                                 + ("; " if missing and unknown else "")
                                 + (f"not inputs: {', '.join(map(str, unknown))}" if unknown
                                    else ""))
            arrays = [data[n] for n in names]
            labels = [f"data['{n}']" for n in names]
        elif isinstance(data, (list, tuple)):
            arrays = list(data)
            labels = [f"data[{k}]" for k in range(len(arrays))]
        else:
            arrays = [data]
            labels = ["data"]
        arrays = [np.asarray(a) for a in arrays]
        outs = _kiln.infer(archive, ctx.value, arrays, labels, raw, progress)
        if isinstance(data, dict):
            return {name: a for name, a in outs}
        if len(outs) == 1:
            return outs[0][1]
        return [a for _, a in outs]

    # -- compile -----------------------------------------------------------------------------
    def compile(self, *, hw_arch=None, model_script=None, fail_on_unfit=False):
        """Compiles the optimized network for a target (``kiln compiler``) and returns the .kef
        bytes -- the same bytes the command line writes. Run them with kilnrt.Model(bytes).

        hw_arch: the target (default: the runner's). model_script: a .alls file whose
        resources_param / context_switch_param / performance_param replace those optimize
        applied (--model-script). fail_on_unfit: raise KilnError when a context of the
        resource plan does not fit the target's memory (--fail-on-unfit) instead of a warning.
        The resource plan is kept in ``self.compile_plan`` (the .compile.json data) and its
        summary in ``self.compile_summary``.
        """
        archive = self._need("optimized")
        kef, plan, summary, warns = _kiln.compile(
            archive, hw_arch or self.hw_arch,
            "" if model_script is None else os.fspath(model_script), fail_on_unfit)
        _warn_all(warns)
        self.compile_plan = json.loads(plan)
        self.compile_summary = summary
        return kef
