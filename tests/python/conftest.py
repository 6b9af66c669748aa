"""Fixtures of the Python API tests: the command-line tools, the digits CNN, and each flow run
once per session through the CLI (the reference) and through the Python API.

Run from CTest (test python_api), or by hand:
    PYTHONPATH=build/python KILN_BIN=build/compiler/kiln KILNRT_BIN=build/runtime/kilnrt \
        /usr/bin/python3 -m pytest tests/python -q
"""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits"
MODELS = Path(os.environ.get("KILN_MODELS_DIR", Path.home() / ".cache" / "kiln" / "models"))


def _tool(env, default):
    path = Path(os.environ.get(env, ROOT / "build" / default))
    if not path.exists():
        pytest.exit(f"{path} does not exist: build first (tools/build.sh) or set {env}")
    return str(path)


@pytest.fixture(scope="session")
def kiln_bin():
    return _tool("KILN_BIN", "compiler/kiln")


@pytest.fixture(scope="session")
def kilnrt_bin():
    return _tool("KILNRT_BIN", "runtime/kilnrt")


def run(*args):
    """Runs a command line; fails the test with its output when it fails."""
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    assert r.returncode == 0, f"{' '.join(map(str, args))} failed:\n{r.stdout}\n{r.stderr}"
    return r


def load_outputs(directory):
    """The arrays an infer command wrote, in output order (outputs.json)."""
    import json
    listing = json.loads((Path(directory) / "outputs.json").read_text())
    return [(o["name"], np.load(Path(directory) / o["file"])) for o in listing["outputs"]]


def same_array(a, b):
    """Equal to the last bit: dtype, shape and bytes."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


class CliFlow:
    """One network through the command line: parse, optimize, infer (3 targets), compile, kilnrt."""

    def __init__(self, kiln, kilnrt, work, onnx, calib, script=None, inputs=None,
                 optimize_args=()):
        self.work = Path(work)
        self.parsed = self.work / "net.kar"
        self.optimized = self.work / "net_optimized.kar"
        run(kiln, "parser", "onnx", onnx, "--net-name", "net", "--har-path", self.parsed)
        args = [kiln, "optimize", self.parsed, "--output-har-path", self.optimized, *optimize_args]
        args += ["--calib-set-path", calib] if calib else ["--use-random-calib-set"]
        if script:
            args += ["--model-script", script]
        run(*args)
        self.inputs = inputs
        self.outputs = {}
        for target, archive in (("native", self.parsed), ("fp-optimized", self.optimized),
                                ("quantized", self.optimized)):
            out = self.work / target
            run(kiln, "infer", archive, "--target", target, "--input-files", *inputs,
                "--output-dir", out)
            self.outputs[target] = load_outputs(out)
        out = self.work / "raw"
        run(kiln, "infer", self.optimized, "--target", "quantized", "--user-format-type", "auto",
            "--input-files", *inputs, "--output-dir", out)
        self.outputs["raw"] = load_outputs(out)
        run(kiln, "compiler", self.optimized, "--hw-arch", "hailo8", "--output-dir", self.work)
        self.kef = self.work / "net.kef"
        for fmt in ("float32", "auto"):
            out = self.work / f"kilnrt_{fmt}"
            run(kilnrt, "infer", self.kef, "--input-files", *inputs, "--output-dir", out,
                "--user-format-type", fmt)
            self.outputs[f"kilnrt_{fmt}"] = load_outputs(out)


@pytest.fixture(scope="session")
def digits_cli(kiln_bin, kilnrt_bin, tmp_path_factory):
    return CliFlow(kiln_bin, kilnrt_bin, tmp_path_factory.mktemp("digits_cli"),
                   DIGITS / "digits_cnn.onnx", DIGITS / "calib.npy",
                   inputs=[DIGITS / "test_x.npy"])


@pytest.fixture(scope="session")
def digits_runner(digits_cli):
    """The digits CNN optimized through the Python API as the CLI did (calibration path)."""
    from kiln import ClientRunner
    runner = ClientRunner(hw_arch="hailo8")
    runner.translate_onnx_model(DIGITS / "digits_cnn.onnx", "net")
    runner.optimize(str(DIGITS / "calib.npy"))
    return runner


@pytest.fixture(scope="session")
def digits_kef(digits_cli):
    return digits_cli.kef
