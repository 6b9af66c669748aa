#!/usr/bin/env python3
"""The quick start in Python: the digits CNN parsed, optimized at 8 and 16 bits, evaluated in
float, compiled, and run with the runtime -- printing the same three accuracies as
tools/quickstart.sh.

    tools/build.sh && PYTHONPATH=build/python /usr/bin/python3 examples/python/digits.py

(or, after `cmake --install build`, without PYTHONPATH).
"""
import sys
from pathlib import Path

import numpy as np

import kilnrt
from kiln import ClientRunner, InferenceContext

DIGITS = Path(__file__).resolve().parents[1] / "digits"


def accuracy(logits, labels):
    return float((logits.reshape(len(labels), -1).argmax(1) == labels).mean())


def main(hw_arch="hailo8l"):
    calib = np.load(DIGITS / "calib.npy")  # 64 training samples, scaled like the model's input
    test_x, test_y = np.load(DIGITS / "test_x.npy"), np.load(DIGITS / "test_y.npy")
    results = {}
    for label, script in (("int8", None), ("int16", DIGITS / "digits_a16.alls")):
        runner = ClientRunner(hw_arch=hw_arch)
        runner.translate_onnx_model(DIGITS / "digits_cnn.onnx", "digits_cnn")
        if "float32" not in results:
            with runner.infer_context(InferenceContext.SDK_NATIVE) as ctx:
                results["float32"] = accuracy(runner.infer(ctx, test_x), test_y)
        if script:
            runner.load_model_script(str(script))
        runner.optimize(calib)
        snr = runner.noise_report()["outputs"][0]["snr_db"]
        kef = runner.compile()  # the .kef bytes, as `kiln compiler` writes them
        session = kilnrt.Model(kef).session()
        results[label] = accuracy(session.run(test_x), test_y)
        print(f"{label}: optimized (output SNR {snr:.1f} dB), compiled for {hw_arch} "
              f"({len(kef)} bytes), ran {len(test_x)} test digits with kilnrt")
    print()
    for label in ("float32", "int8", "int16"):
        print(f"{label:<7} accuracy: {100 * results[label]:.2f} %")


if __name__ == "__main__":
    main(*sys.argv[1:])
