"""BlazeFace (the smallest real model) through the Python API against the command line: the
three contexts, compile() and kilnrt, bit for bit. Skipped when the model is not cached
(tools/models/fetch_real_models.sh)."""
import numpy as np
import pytest

import kilnrt
from kiln import ClientRunner, InferenceContext
from conftest import MODELS, ROOT, CliFlow, same_array

ONNX = MODELS / "blazeface_128.onnx"
SCRIPT = ROOT / "tests" / "real_models" / "scripts" / "blazeface_128.alls"


@pytest.fixture(scope="module")
def blazeface(kiln_bin, kilnrt_bin, tmp_path_factory):
    if not ONNX.exists():
        pytest.skip(f"{ONNX} is not cached (tools/models/fetch_real_models.sh)")
    work = tmp_path_factory.mktemp("blazeface")
    rng = np.random.default_rng(7)
    probe = ClientRunner()
    probe.translate_onnx_model(ONNX, "net")
    shape = probe.inputs[0]["shape"]
    calib = rng.uniform(0, 255, size=(4, *shape[1:])).astype(np.float32)
    np.save(work / "calib.npy", calib)
    x = rng.uniform(0, 255, size=(2, *shape[1:])).astype(np.float32)
    np.save(work / "x.npy", x)
    opts = ("--calib-size", "4", "--report-samples", "2")
    cli = CliFlow(kiln_bin, kilnrt_bin, work, ONNX, work / "calib.npy", script=SCRIPT,
                  inputs=[work / "x.npy"], optimize_args=opts)
    runner = ClientRunner()
    runner.translate_onnx_model(ONNX, "net")
    runner.load_model_script(str(SCRIPT))
    runner.optimize(str(work / "calib.npy"), calib_size=4, report_samples=2)
    return cli, runner, x


@pytest.mark.parametrize("context,target", [
    (InferenceContext.SDK_NATIVE, "native"), (InferenceContext.SDK_FP_OPTIMIZED, "fp-optimized"),
    (InferenceContext.SDK_QUANTIZED, "quantized")])
def test_contexts_equal_the_cli(blazeface, context, target):
    cli, runner, x = blazeface
    if context == InferenceContext.SDK_NATIVE:
        runner = ClientRunner(har=cli.parsed)
    with runner.infer_context(context) as ctx:
        outs = runner.infer(ctx, x)
    expected = cli.outputs[target]
    assert len(outs) == len(expected)
    for got, (name, want) in zip(outs, expected):
        assert same_array(got, want), f"{target} output {name} differs from kiln infer"


def test_archive_compile_and_kilnrt_equal_the_cli(blazeface):
    cli, runner, x = blazeface
    assert runner.to_bytes() == cli.optimized.read_bytes()
    kef = runner.compile()
    assert kef == cli.kef.read_bytes()
    outs = kilnrt.Model(kef).session().run(x)
    for got, (name, want) in zip(outs, cli.outputs["kilnrt_float32"]):
        assert same_array(got, want), f"kilnrt output {name} differs from kilnrt infer"
