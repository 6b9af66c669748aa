"""kiln.ClientRunner on the digits CNN against the command line, bit for bit."""
import os
import signal
import warnings

import numpy as np
import pytest

import kiln
from kiln import ClientRunner, InferenceContext
from conftest import DIGITS, run, same_array

CONTEXTS = [(InferenceContext.SDK_NATIVE, "native"),
            (InferenceContext.SDK_FP_OPTIMIZED, "fp-optimized"),
            (InferenceContext.SDK_QUANTIZED, "quantized")]


def parsed_runner():
    runner = ClientRunner()
    runner.translate_onnx_model(str(DIGITS / "digits_cnn.onnx"), "net")
    return runner


@pytest.mark.parametrize("context,target", CONTEXTS)
def test_three_contexts_equal_the_cli(digits_cli, digits_runner, context, target):
    x = np.load(DIGITS / "test_x.npy")
    runner = digits_runner
    if context == InferenceContext.SDK_NATIVE:
        runner = ClientRunner(har=digits_cli.parsed)
    with runner.infer_context(context) as ctx:
        out = runner.infer(ctx, x)
    (name, expected), = digits_cli.outputs[target]
    assert same_array(out, expected), f"{target}: differs from kiln infer"
    # A dict in gives a dict out, keyed by the ONNX output name.
    with runner.infer_context(context) as ctx:
        d = runner.infer(ctx, {runner.inputs[0]["name"]: x})
    assert list(d) == [name] and same_array(d[name], expected)


def test_raw_integers_equal_the_cli(digits_cli, digits_runner):
    x = np.load(DIGITS / "test_x.npy")
    with digits_runner.infer_context(InferenceContext.SDK_QUANTIZED) as ctx:
        out = digits_runner.infer(ctx, x, raw=True)
    assert same_array(out, digits_cli.outputs["raw"][0][1])


def test_save_har_equals_the_cli_archive(digits_cli, digits_runner, tmp_path):
    digits_runner.save_har(tmp_path / "a.kar")
    assert (tmp_path / "a.kar").read_bytes() == digits_cli.optimized.read_bytes()
    assert digits_runner.to_bytes() == digits_cli.optimized.read_bytes()
    runner = parsed_runner()
    runner.save_har(tmp_path / "p.kar")
    assert (tmp_path / "p.kar").read_bytes() == digits_cli.parsed.read_bytes()


def test_compile_equals_kiln_compiler(digits_cli, digits_runner):
    kef = digits_runner.compile()
    assert isinstance(kef, bytes)
    assert kef == digits_cli.kef.read_bytes()
    assert digits_runner.compile_plan["contexts"]
    # From a loaded archive as well.
    assert ClientRunner(har=digits_cli.optimized).compile() == kef


def test_compile_options(digits_runner, kiln_bin, digits_cli, tmp_path):
    kef = digits_runner.compile(hw_arch="hailo8l")
    run(kiln_bin, "compiler", digits_cli.optimized, "--hw-arch", "hailo8l", "--output-dir",
        tmp_path)
    assert kef == (tmp_path / "net.kef").read_bytes()
    with pytest.raises(kiln.KilnError, match="hailo9"):
        digits_runner.compile(hw_arch="hailo9")
    script = tmp_path / "bad.alls"
    script.write_text("performance_param(compiler_optimization_level=bogus)\n")
    with pytest.raises(kiln.ModelScriptError) as e:
        digits_runner.compile(model_script=script)
    assert e.value.file == str(script) and e.value.line == 1


def test_noise_report(digits_runner, digits_cli):
    import json
    report = digits_runner.noise_report()
    assert report["outputs"][0]["output"] == "logits"
    assert report["outputs"][0]["snr_db"] > 10
    cli = json.loads((digits_cli.optimized.parent / "net_optimized.kar.report.json").read_text())
    assert report == cli


def test_calibration_array_dict_iterator_give_the_same_archive():
    calib = np.load(DIGITS / "calib.npy")
    archives = []
    for data in (calib, {"input": calib}, (calib[i:i + 10] for i in range(0, len(calib), 10)),
                 [{"input": calib[:32]}, {"input": calib[32:]}]):
        runner = parsed_runner()
        runner.optimize(data)
        archives.append(runner.to_bytes())
    assert all(a == archives[0] for a in archives)
    # An iterator is read until calib_size samples: the same as an array of those samples.
    small = []
    for data in (calib[:8], iter([calib[:5], calib[5:9], calib[9:]])):
        runner = parsed_runner()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runner.optimize(data, calib_size=8)
        small.append(runner.to_bytes())
    assert small[0] == small[1] != archives[0]


def test_model_script_text_and_file(tmp_path):
    text = (DIGITS / "digits_a16.alls").read_text()
    calib = np.load(DIGITS / "calib.npy")
    from_text = parsed_runner()
    from_text.load_model_script(text)
    from_text.optimize(calib)
    from_file = parsed_runner()
    from_file.load_model_script(str(DIGITS / "digits_a16.alls"))
    from_file.optimize(calib)
    for r in (from_text, from_file):
        assert any(layer.get("precision", "").startswith("a16")
                   for layer in r.noise_report()["layers"]) or "a16" in str(r.noise_report())
    assert from_file.noise_report()["script"] == str(DIGITS / "digits_a16.alls")
    assert from_text.noise_report()["script"] == "<model script>"


def test_script_errors_carry_file_and_line(tmp_path):
    runner = parsed_runner()
    runner.load_model_script("model_optimization_config(calibration, calibset_size=64)\n"
                             "quantization_param(nope, precision_mode=a8_w8)\n")
    with pytest.raises(kiln.ModelScriptError) as e:
        runner.optimize(np.load(DIGITS / "calib.npy"))
    assert e.value.file == "<model script>" and e.value.line == 2
    assert runner.state == "parsed"
    bad = tmp_path / "bad.alls"
    bad.write_text("\n\nthis is not a command\n")
    runner.load_model_script(bad)
    with pytest.raises(kiln.ModelScriptError) as e:
        runner.optimize(np.load(DIGITS / "calib.npy"))
    assert e.value.file == str(bad) and e.value.line == 3 and e.value.column
    assert str(bad) + ":3:" in str(e.value)


def test_errors_name_the_file(tmp_path):
    runner = ClientRunner()
    with pytest.raises(kiln.KilnError) as e:
        runner.translate_onnx_model(tmp_path / "missing.onnx")
    assert e.value.file == str(tmp_path / "missing.onnx")
    runner = parsed_runner()
    with pytest.raises(kiln.CalibrationError) as e:
        runner.optimize(str(tmp_path / "nowhere"))
    assert e.value.file == str(tmp_path / "nowhere")
    with pytest.raises(kiln.KilnError, match="--tensor-shapes"):
        runner.translate_onnx_model(DIGITS / "digits_cnn.onnx", net_input_shapes={"input": [1, 0]})
    with pytest.raises(kiln.KilnError) as e:
        ClientRunner(har=tmp_path / "none.kar")
    assert e.value.file == str(tmp_path / "none.kar")
    (tmp_path / "bad.npy").write_bytes(b"not an npy file")
    with pytest.raises(kiln.CalibrationError, match="magic") as e:
        parsed_runner().optimize(str(tmp_path / "bad.npy"))
    assert e.value.file == str(tmp_path / "bad.npy")
    with pytest.raises(kiln.KilnError) as e:
        parsed_runner().save_har(tmp_path)  # a directory
    assert e.value.file == str(tmp_path)


def test_bad_dtype_or_shape_is_a_value_error(digits_runner):
    x = np.load(DIGITS / "test_x.npy")
    with digits_runner.infer_context(InferenceContext.SDK_QUANTIZED) as ctx:
        with pytest.raises(ValueError, match="expects float32 .* holds float64"):
            digits_runner.infer(ctx, x.astype(np.float64))
        with pytest.raises(ValueError, match=r"expects shape \[1, 1, 8, 8\].* holds \[360, 8, 8\]"):
            digits_runner.infer(ctx, x[:, 0])
        with pytest.raises(ValueError, match="complex"):
            digits_runner.infer(ctx, x.astype(np.complex64))
        with pytest.raises(ValueError, match="holds no sample"):  # was out of bounds in kiln infer
            digits_runner.infer(ctx, x[:0])
        with pytest.raises(kiln.InputError, match="gave 2"):
            digits_runner.infer(ctx, [x, x])
        with pytest.raises(kiln.InputError, match="no array for input"):
            digits_runner.infer(ctx, {"other": x})
    runner = parsed_runner()
    with pytest.raises(ValueError, match="calib"):
        runner.optimize(np.zeros((4, 1, 7, 7), np.float32))
    with pytest.raises(ValueError):
        runner.optimize(np.zeros((4, 1, 8, 8), np.int64))
    with pytest.raises(ValueError, match="exactly one"):
        runner.optimize()


def test_wrong_state_errors(digits_cli):
    runner = parsed_runner()
    with runner.infer_context(InferenceContext.SDK_QUANTIZED) as ctx:
        with pytest.raises(kiln.KilnError, match="needs an optimized archive"):
            runner.infer(ctx, np.load(DIGITS / "test_x.npy"))
    with pytest.raises(RuntimeError, match="optimize"):
        runner.compile()
    with pytest.raises(RuntimeError, match="translate_onnx_model"):
        ClientRunner().optimize(random_calib=True)
    with pytest.raises(ValueError, match="hw_arch"):
        ClientRunner(hw_arch="hailo9")


def test_progress_and_warnings():
    runner = parsed_runner()
    calls = []
    with pytest.warns(kiln.KilnWarning, match="random"):
        runner.optimize(random_calib=True, calib_size=8, report_samples=2,
                        progress=lambda step, done, total: calls.append((step, done, total)))
    steps = [c[0] for c in calls]
    assert "script" in steps and "noise report" in steps
    assert ("calibration", 8, 8) in calls


def test_interrupt_from_progress_leaves_the_runner_as_it_was():
    runner = parsed_runner()

    def stop(step, done, total):
        if step == "calibration" and done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.optimize(np.load(DIGITS / "calib.npy"), progress=stop)
    assert runner.state == "parsed"
    runner.optimize(np.load(DIGITS / "calib.npy"))
    assert runner.state == "optimized"


def test_ctrl_c_interrupts_optimize_and_infer():
    runner = parsed_runner()
    sent = []

    def ctrl_c(step, done, total):
        if step == "calibration" and done == 1 and not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C

    with pytest.raises(KeyboardInterrupt):
        runner.optimize(np.load(DIGITS / "calib.npy"), progress=ctrl_c)
    assert runner.state == "parsed"
    x = np.repeat(np.load(DIGITS / "test_x.npy"), 4, axis=0)
    done = []

    def ctrl_c_infer(d, total):
        done.append(d)
        if d == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        with runner.infer_context(InferenceContext.SDK_NATIVE) as ctx:
            runner.infer(ctx, x, progress=ctrl_c_infer)
    assert done[-1] < len(x)


def test_translate_options(kiln_bin, tmp_path):
    runner = ClientRunner()
    runner.translate_onnx_model(DIGITS / "digits_cnn.onnx", net_name="digits")
    assert runner.model_name == "digits"
    assert runner.inputs[0]["shape"] == (1, 1, 8, 8)
    assert runner.outputs[0]["name"] == "logits"
    with pytest.raises(kiln.KilnError, match="no_such_node"):
        runner.translate_onnx_model(DIGITS / "digits_cnn.onnx", end_node_names=["no_such_node"])
    assert kiln.hw_archs() and "hailo8" in kiln.hw_archs()


def test_help_and_stubs():
    assert "calib_data" in kiln.ClientRunner.optimize.__doc__
    import importlib.util
    import pathlib
    pkg = pathlib.Path(importlib.util.find_spec("kiln").origin).parent
    assert (pkg / "__init__.pyi").exists() and (pkg / "py.typed").exists()
