"""ClientRunner.analyze_noise, optimize(target_snr=...) and kiln.evaluate on the digits CNN,
against kiln analyze-noise --json, kiln optimize --target-snr and kiln eval."""
import json
import os
import subprocess
import warnings

import numpy as np
import pytest

import kiln
from kiln import ClientRunner
from conftest import DIGITS, run

HELD_OUT = DIGITS / "test_x.npy"  # the test digits: not the calibration set (calib.npy)


def cli(kiln_bin, *args, cwd=None, status=0):
    r = subprocess.run([os.path.abspath(kiln_bin), *map(str, args)], capture_output=True,
                       text=True, cwd=cwd)
    assert r.returncode == status, f"kiln {' '.join(map(str, args))}:\n{r.stdout}\n{r.stderr}"
    return r


# -- analyze_noise -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["simple", "advanced"])
def test_analyze_noise_equals_the_cli(kiln_bin, digits_cli, tmp_path, mode):
    out = tmp_path / "noise.json"
    r = cli(kiln_bin, "analyze-noise", digits_cli.optimized, "--data-path", HELD_OUT, "--mode",
            mode, "--top", "5", "--json", out)
    expected = json.loads(out.read_text())
    runner = ClientRunner(har=digits_cli.optimized)
    got = runner.analyze_noise(HELD_OUT, mode=mode, top=5)
    assert got == expected  # every number, the archive's and the data's names included
    assert runner.noise_analysis_summary in r.stdout
    assert len(got["layers"]) > 3 and got["outputs"][0]["name"] == "logits"
    assert bool(got["suggestions"]) == (mode == "advanced")
    # The same samples as an array, a dict and batches: the same figures.
    x = np.load(HELD_OUT)
    for data in (x, {"input": x[:16]}, (x[i:i + 5] for i in range(0, 40, 5))):
        d = runner.analyze_noise(data, mode=mode, top=5)
        assert d["data"] == {"path": "the data arrays", "samples": 16}
        assert {k: v for k, v in d.items() if k != "data"} == \
               {k: v for k, v in expected.items() if k != "data"}


def test_analyze_noise_options_match_the_cli(kiln_bin, digits_cli, tmp_path):
    out = tmp_path / "noise.json"
    cli(kiln_bin, "analyze-noise", digits_cli.optimized, "--data-path", HELD_OUT, "--mode",
        "advanced", "--data-size", "4", "--hw-arch", "hailo8l", "--top", "2", "--json", out)
    runner = ClientRunner(hw_arch="hailo8l", har=digits_cli.optimized)
    got = runner.analyze_noise(str(HELD_OUT), mode="advanced", data_size=np.int64(4), top=2)
    assert got == json.loads(out.read_text())
    assert got["hw_arch"] == "hailo8l" and got["data"]["samples"] == 4
    assert len(got["suggestions"]) <= 2


def test_analyze_noise_bad_arguments(digits_runner, tmp_path):
    with pytest.raises(ValueError, match="mode='loud'"):
        digits_runner.analyze_noise(HELD_OUT, mode="loud")
    with pytest.raises(ValueError, match="data_size=0"):
        digits_runner.analyze_noise(HELD_OUT, data_size=0)
    with pytest.raises(ValueError, match="top=0"):
        digits_runner.analyze_noise(HELD_OUT, top=0)
    with pytest.raises(ValueError, match="top=2.5"):
        digits_runner.analyze_noise(HELD_OUT, top=2.5)
    with pytest.raises(ValueError, match="hailo9"):
        digits_runner.analyze_noise(HELD_OUT, hw_arch="hailo9")
    with pytest.raises(ValueError, match="held-out"):
        digits_runner.analyze_noise(None)
    with pytest.raises(ValueError,
                       match=r"the data arrays:input: expected .*\[1, 1, 8, 8\].* \[4, 1, 7, 7\]"):
        digits_runner.analyze_noise(np.zeros((4, 1, 7, 7), np.float32))
    with pytest.raises(kiln.InputError, match="not inputs: x"):
        digits_runner.analyze_noise({"x": np.load(HELD_OUT)})
    with pytest.raises(kiln.CalibrationError) as e:
        digits_runner.analyze_noise(tmp_path / "nowhere")
    assert e.value.file == str(tmp_path / "nowhere")
    parsed = ClientRunner()
    parsed.translate_onnx_model(DIGITS / "digits_cnn.onnx")
    with pytest.raises(RuntimeError, match="optimize"):
        parsed.analyze_noise(HELD_OUT)


def test_analyze_noise_progress_and_interrupt(digits_runner):
    calls = []
    digits_runner.analyze_noise(HELD_OUT, mode="advanced", data_size=2,
                                progress=lambda *a: calls.append(a))
    assert calls and all(c[0] == "noise analysis (advanced)" for c in calls)
    assert calls[-1][1] == calls[-1][2] > 0

    def stop(step, done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        digits_runner.analyze_noise(HELD_OUT, progress=stop)


# -- optimize(target_snr=...) --------------------------------------------------------------------
def test_mixed_precision_equals_the_cli(kiln_bin, digits_cli, tmp_path, monkeypatch):
    a, b = tmp_path / "cli", tmp_path / "py"
    a.mkdir()
    b.mkdir()
    cli(kiln_bin, "optimize", digits_cli.parsed, "--calib-set-path", DIGITS / "calib.npy",
        "--target-snr", "42", "--data-path", HELD_OUT, "--output-har-path", "m.kar", cwd=a)
    monkeypatch.chdir(b)
    runner = ClientRunner(har=digits_cli.parsed)
    choice = runner.optimize(str(DIGITS / "calib.npy"), target_snr=42, data=HELD_OUT,
                             mixed_script_path="m.kar.mixed.alls")
    runner.save_har("m.kar")
    assert (b / "m.kar").read_bytes() == (a / "m.kar").read_bytes()
    script = (a / "m.kar.mixed.alls").read_text()
    assert (b / "m.kar.mixed.alls").read_text() == script == runner.mixed_script
    assert choice == json.loads((a / "m.kar.mixed.json").read_text()) == runner.mixed_precision
    assert choice["met"] and choice["lines"] and all(l in script for l in choice["lines"])
    assert 0 < choice["fraction_16bit"] <= 0.25 and choice["fps"] > 0

    # In memory: arrays, no file; the script rebuilds the same archive (as the CLI's does).
    mem = ClientRunner(har=digits_cli.parsed)
    calib = np.load(DIGITS / "calib.npy")
    got = mem.optimize(calib, target_snr=42, data=np.load(HELD_OUT))
    assert got["lines"] == choice["lines"] and got["script"] == "<model script>"
    assert sorted(os.listdir(b)) == ["m.kar", "m.kar.mixed.alls"]
    again = ClientRunner(har=digits_cli.parsed)
    again.load_model_script(mem.mixed_script)
    assert again.optimize(calib) is None
    assert again.to_bytes() == mem.to_bytes()


def test_mixed_precision_unmet_target_warns_and_keeps_the_best(digits_cli):
    runner = ClientRunner(har=digits_cli.parsed)
    with pytest.warns(kiln.KilnWarning, match="TARGET NOT MET"):
        choice = runner.optimize(str(DIGITS / "calib.npy"), target_snr=90, data=HELD_OUT,
                                 max_16bit_fraction=0.01, data_size=8)
    assert not choice["met"] and choice["data"]["samples"] == 8
    assert choice["fraction_16bit"] <= 0.01
    assert runner.state == "optimized"


def test_mixed_precision_bad_arguments(digits_cli):
    runner = ClientRunner(har=digits_cli.parsed)
    calib = str(DIGITS / "calib.npy")
    with pytest.raises(ValueError, match="needs held-out data"):
        runner.optimize(calib, target_snr=40)
    with pytest.raises(ValueError, match="give one of them too"):
        runner.optimize(calib, data=HELD_OUT)
    with pytest.raises(ValueError, match="max_16bit_fraction=2"):
        runner.optimize(calib, target_snr=40, data=HELD_OUT, max_16bit_fraction=2)
    with pytest.raises(ValueError, match="target_snr=500"):
        runner.optimize(calib, target_snr=500, data=HELD_OUT)
    with pytest.raises(ValueError, match="the data arrays"):
        runner.optimize(calib, target_snr=40, data=np.zeros((3, 8, 8), np.float32))
    with pytest.raises(kiln.CalibrationError, match="nowhere"):
        runner.optimize(calib, target_snr=40, data="nowhere")
    assert runner.state == "parsed"


def test_mixed_precision_by_gates_equals_the_cli(kiln_bin, digits_cli, tmp_path, monkeypatch):
    # The digits build reaches about 40.7 dB at a8_w8: a 42 dB gate fails until a tensor is lifted.
    config = tmp_path / "gates.yaml"
    config.write_text(f"name: digits_gates\nonnx: {DIGITS / 'digits_cnn.onnx'}\n"
                      f"calib: {DIGITS / 'calib.npy'}\neval:\n  data: {HELD_OUT}\n"
                      "  outputs:\n    logits: {kind: classes}\nexpect:\n"
                      "  min_agreement: 0.99\n  min_output_snr_db: 42\n")
    held_out = DIGITS / "calib.npy"  # samples only; not the config's evaluation set
    a, b = tmp_path / "cli", tmp_path / "py"
    a.mkdir()
    b.mkdir()
    cli(kiln_bin, "optimize", digits_cli.parsed, "--calib-set-path", DIGITS / "calib.npy",
        "--target-gates", config, "--data-path", held_out, "--output-har-path", "m.kar", cwd=a)
    monkeypatch.chdir(b)
    runner = ClientRunner(har=digits_cli.parsed)
    choice = runner.optimize(str(DIGITS / "calib.npy"), target_gates=config, data=held_out,
                             mixed_script_path="m.kar.mixed.alls")
    runner.save_har("m.kar")
    assert (b / "m.kar").read_bytes() == (a / "m.kar").read_bytes()
    assert (b / "m.kar.mixed.alls").read_text() == (a / "m.kar.mixed.alls").read_text()
    assert choice == json.loads((a / "m.kar.mixed.json").read_text())
    assert choice["met"] and choice["target"] == "gates" and choice["lines"]
    # search_trials=0 is --search-trials 0: single tensors only, the same bytes as the CLI's.
    c = tmp_path / "cli0"
    c.mkdir()
    cli(kiln_bin, "optimize", digits_cli.parsed, "--calib-set-path", DIGITS / "calib.npy",
        "--target-gates", config, "--data-path", held_out, "--search-trials", "0",
        "--output-har-path", "m.kar", cwd=c)
    runner0 = ClientRunner(har=digits_cli.parsed)
    single = runner0.optimize(str(DIGITS / "calib.npy"), target_gates=config, data=held_out,
                              mixed_script_path="m.kar.mixed.alls", search_trials=0)
    assert single == json.loads((c / "m.kar.mixed.json").read_text())
    assert single["lines"] != choice["lines"]
    assert runner0.mixed_script == (c / "m.kar.mixed.alls").read_text()
    with pytest.raises(ValueError, match="search_trials"):
        runner.optimize(str(DIGITS / "calib.npy"), target_gates=config, data=held_out,
                        search_trials=-1)
    with pytest.raises(ValueError, match="give one of target_snr and target_gates"):
        runner.optimize(str(DIGITS / "calib.npy"), target_snr=40, target_gates=config,
                        data=held_out)
    with pytest.raises(ValueError, match="no such network config"):
        runner.optimize(str(DIGITS / "calib.npy"), target_gates=tmp_path / "none.yaml",
                        data=held_out)
    no_gates = tmp_path / "no_gates.yaml"
    no_gates.write_text(config.read_text().split("expect:")[0])
    with pytest.raises(ValueError, match="no quality gates"):
        runner.optimize(str(DIGITS / "calib.npy"), target_gates=no_gates, data=held_out)


# -- kiln.evaluate -------------------------------------------------------------------------------
def test_evaluate_equals_kiln_eval(kiln_bin, tmp_path):
    config = DIGITS / "digits.yaml"
    cli(kiln_bin, "eval", config, "--targets", "quantized,kef", "--output-dir", tmp_path / "cli")
    expected = json.loads((tmp_path / "cli" / "digits.eval.json").read_text())
    out = tmp_path / "py"
    steps = set()
    got = kiln.evaluate(config, targets=["quantized", "kef"], output_dir=out,
                        progress=lambda step, done, total: steps.add(step))
    assert got == expected
    assert json.loads((out / "digits.eval.json").read_text()) == expected
    assert (out / "digits.kef").read_bytes() == (tmp_path / "cli" / "digits.kef").read_bytes()
    assert {"calibration", "evaluation"} <= steps
    assert got["passed"] and [t["target"] for t in got["targets"]] == ["native", "quantized",
                                                                        "kef"]
    # Default output_dir: a temporary directory, nothing left in the working directory.
    assert kiln.evaluate(str(config), targets="quantized,kef") == expected


def test_evaluate_options_and_missed_gates(kiln_bin, tmp_path):
    config = tmp_path / "strict.yaml"
    config.write_text(f"name: strict\nonnx: {DIGITS / 'digits_cnn.onnx'}\n"
                      f"calib: {DIGITS / 'calib.npy'}\n"
                      f"eval:\n  data: {HELD_OUT}\n  outputs:\n    logits: {{kind: classes}}\n"
                      "expect:\n  min_output_snr_db: 99\n")
    r = cli(kiln_bin, "eval", config, "--calib-size", "16", "--output-dir", tmp_path / "cli",
            status=1)
    assert "quality gate" in r.stderr
    with pytest.warns(kiln.KilnWarning, match="quality gate.*min_output_snr_db 99"):
        got = kiln.evaluate(config, calib_size=16)
    assert not got["passed"]
    assert got == json.loads((tmp_path / "cli" / "strict.eval.json").read_text())


def test_evaluate_bad_arguments(tmp_path):
    config = DIGITS / "digits.yaml"
    with pytest.raises(ValueError, match="unknown target 'gpu'"):
        kiln.evaluate(config, targets="quantized,gpu")
    with pytest.raises(ValueError, match="size=0"):
        kiln.evaluate(config, size=0)
    with pytest.raises(ValueError, match="hailo9"):
        kiln.evaluate(config, hw_arch="hailo9")
    with pytest.raises(kiln.KilnError) as e:
        kiln.evaluate(tmp_path / "missing.yaml")
    assert e.value.file == str(tmp_path / "missing.yaml")
    bare = tmp_path / "bare.yaml"
    bare.write_text(f"name: bare\nonnx: {DIGITS / 'digits_cnn.onnx'}\n"
                    f"calib: {DIGITS / 'calib.npy'}\n")
    with pytest.raises(kiln.KilnError, match="no evaluation set"):
        kiln.evaluate(bare)
    assert kiln.eval_targets() == ["native", "quantized", "kef"]


def test_evaluate_interrupt_releases_the_output_dir(tmp_path):
    config = DIGITS / "digits.yaml"

    def stop(step, done, total):
        if step == "evaluation" and done == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        kiln.evaluate(config, output_dir=tmp_path, progress=stop)
    assert not (tmp_path / "digits.eval.json").exists()
    # The directory's lock went with the interrupted call: a second run proceeds.
    assert kiln.evaluate(config, output_dir=tmp_path)["passed"]
    assert (tmp_path / "digits.eval.json").exists()


def test_help_and_stubs_of_the_new_calls():
    assert "kiln analyze-noise" in kiln.ClientRunner.analyze_noise.__doc__
    assert "target_snr" in kiln.ClientRunner.optimize.__doc__
    assert "kiln eval" in kiln.evaluate.__doc__
    import importlib.util
    import pathlib
    stub = (pathlib.Path(importlib.util.find_spec("kiln").origin).parent / "__init__.pyi")
    text = stub.read_text()
    for name in ("def analyze_noise(", "target_snr:", "mixed_precision:", "def evaluate(",
                 "def eval_targets("):
        assert name in text, name
