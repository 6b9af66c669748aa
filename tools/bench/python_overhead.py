#!/usr/bin/env python3
"""Calling overhead of the Python runtime API: kilnrt.Session.run per frame against the C++
API's Session::run per frame (`kilnrt run`, which times the C++ calls in-process), on the same
.kef and the same frame. Rounds alternate between the two so that load from other processes
hits both alike; prints each round and the medians.

    PYTHONPATH=build/python /usr/bin/python3 tools/bench/python_overhead.py \
        [--kef out/digits.kef] [--frames 20000] [--rounds 5]

Without --kef it compiles the digits CNN (examples/digits) with kiln.ClientRunner first.
"""
import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import kilnrt

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "examples" / "digits"


def digits_kef(work):
    from kiln import ClientRunner
    runner = ClientRunner()
    runner.translate_onnx_model(DIGITS / "digits_cnn.onnx", "digits_cnn")
    runner.optimize(np.load(DIGITS / "calib.npy"))
    path = Path(work) / "digits_cnn.kef"
    path.write_bytes(runner.compile())
    return path


def python_ms_per_frame(session, frame, frames, output_type):
    for _ in range(50):
        session.run(frame, output_type=output_type)
    t0 = time.perf_counter()
    for _ in range(frames):
        session.run(frame, output_type=output_type)
    return (time.perf_counter() - t0) * 1e3 / frames


def wrapper_us_per_call(session, frame, frames, output_type):
    """Wall time of a Python call minus the C++ Session::run time inside it (conversions
    included), per call: what the binding adds (argument checks, arrays, the GIL)."""
    outside = inside = 0.0
    for _ in range(frames):
        t0 = time.perf_counter()
        session.run(frame, output_type=output_type)
        outside += time.perf_counter() - t0
        inside += session.last_run_seconds
    return (outside - inside) * 1e6 / frames


def cpp_ms_per_frame(kilnrt_bin, kef, frame_file, frames, output_type):
    r = subprocess.run([kilnrt_bin, "run", str(kef), "--frames-count", str(frames), "--warmup",
                        "50", "--input-files", str(frame_file), "--user-format-type",
                        output_type, "--json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["ms_per_frame"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kef", help="the executable (default: the digits CNN, compiled here)")
    ap.add_argument("--kilnrt", default=str(ROOT / "build" / "runtime" / "kilnrt"))
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--output-type", default="float32")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        kef = Path(args.kef) if args.kef else digits_kef(work)
        model = kilnrt.Model(kef)
        shape = model.inputs[0]["shape"]
        frame = (np.load(DIGITS / "test_x.npy")[:1] if not args.kef
                 else np.random.default_rng(1).uniform(-1, 1, shape).astype(np.float32))
        frame_file = Path(work) / "frame.npy"
        np.save(frame_file, frame)
        session = model.session()
        print(f"{kef}: {args.frames} frames per round, {args.rounds} rounds, "
              f"output_type={args.output_type}")
        print(f"{'round':>5} {'C++ API ms/frame':>17} {'Python ms/frame':>16} {'overhead':>9} "
              f"{'binding us/call':>16}")
        cpp, py, wrap = [], [], []
        for r in range(args.rounds):
            cpp.append(cpp_ms_per_frame(args.kilnrt, kef, frame_file, args.frames,
                                        args.output_type))
            py.append(python_ms_per_frame(session, frame, args.frames, args.output_type))
            wrap.append(wrapper_us_per_call(session, frame, args.frames, args.output_type))
            print(f"{r + 1:>5} {cpp[-1]:>17.4f} {py[-1]:>16.4f} {py[-1] / cpp[-1] - 1:>+9.1%} "
                  f"{wrap[-1]:>16.2f}")
        c, p, w = statistics.median(cpp), statistics.median(py), statistics.median(wrap)
        print(f"{'median':>5} {c:>17.4f} {p:>16.4f} {p / c - 1:>+9.1%} {w:>16.2f}")
        print(f"binding overhead: {w:.2f} us per call = {w / (c * 1e3):.1%} of the C++ API's "
              "time per frame")


if __name__ == "__main__":
    main()
