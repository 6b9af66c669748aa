"""Quantization-aware fine-tuning (QFT) prototype for PP-OCRv4 det 640 at a8_w8 (issue 10).

    nice /usr/bin/python3 tools/experiments/qft_ppocr_det.py --work /tmp/qft [--epochs 4] [--lr 5e-5]

Question: does fine-tuning the weights and biases against the float network as teacher, with
8-bit fake quantization as Kiln's device model (per-tensor uint8 activations with least-error
ranges from the calibration set, per-channel int8 weights; onnx_torch.py), bring the text-box
F1 of the quantized network against float to >= 0.97 on the evaluation set?

Steps (each cached in --work, so a rerun resumes):
 1. float text maps of the 32 evaluation images (the reference);
 2. activation ranges from the 64 calibration images (least squared error per tensor);
 3. F1 of the fake-quantized network before tuning (should be near Kiln's a8_w8, 0.906);
 4. fine-tuning: random --crop crops of the calibration images (the network is convolutional;
    crops keep a step cheap), loss = MSE of the text probability map against the float
    network's + --feature-weight x the normalized MSE of the neck's concatenated features;
    Adam, cosine-decayed --lr; activation ranges stay those of step 2 (with --recalibrate they
    are re-chosen on the tuned float network after each epoch, as Kiln will choose them);
 5. F1 after tuning, with the ranges of step 4 and re-calibrated on the tuned network; the tuned weights are written to WORK/ppocr_v4_det.qft.onnx, which Kiln's
    own flow then optimizes and evaluates against the ORIGINAL float model (see --help of
    tools/experiments/qft_kiln_eval.sh).
Needs torch and onnx (Debian python3-torch, python3-onnx) and examples/real/fetch.sh's data."""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "examples", "real"))
from eval_ppocr_det import text_boxes  # noqa: E402
from evallib import box_iou, f1, greedy_match  # noqa: E402
from onnx_torch import OnnxModule, least_error_range  # noqa: E402

DATA = os.path.join(ROOT, "examples", "real", ".data")
MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
FEATURES = "p2o.Concat.1"  # the neck's output, read by the head


def load_images(folder):
    names = sorted(n for n in os.listdir(folder) if n.endswith(".png"))
    imgs = [np.asarray(Image.open(os.path.join(folder, n)).convert("RGB"), np.float32) for n in names]
    return (torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2) - MEAN) / STD


def run_maps(model, images):
    with torch.no_grad():
        return np.concatenate([model(images[i:i + 1])[0].numpy() for i in range(len(images))])[:, 0]


def box_f1(float_maps, test_maps, threshold=0.3, box_threshold=0.6):
    """eval_ppocr_det.py's figures: text-box F1 (IoU >= 0.5) and map IoU at THRESHOLD."""
    matched = n_f = n_t = inter = union = 0
    for fm, tm in zip(float_maps, test_maps):
        bf, bt = fm > threshold, tm > threshold
        inter += int((bf & bt).sum())
        union += int((bf | bt).sum())
        ff, tf = text_boxes(fm, threshold, box_threshold), text_boxes(tm, threshold, box_threshold)
        n_f, n_t = n_f + len(ff), n_t + len(tf)
        matched += greedy_match(1 - box_iou(ff, tf), 0.5)
    return {"box_f1": f1(matched, n_f, n_t), "map_iou": inter / max(union, 1), "boxes_float": n_f,
            "boxes_test": n_t, "boxes_matched": matched}


def calibrate(model, images):
    model.record = {}
    with torch.no_grad():
        for i in range(len(images)):
            model(images[i:i + 1])
    ranges = {name: least_error_range(torch.cat(samples)) for name, samples in model.record.items()}
    model.record = None
    return ranges


def kiln_ranges(info_path, model):
    """Kiln's own activation grids from `kiln info --json` of an optimized archive: {tensor: (lo, hi)}
    for each layer's output (the output of the last ONNX node the layer absorbed), and the script
    lines that pin them (force_range_out) so Kiln keeps them when it optimizes the tuned network."""
    order = {n.name: (i, n.output[0]) for i, n in enumerate(model.nodes)}
    ranges, lines = {}, []
    for layer in json.load(open(info_path))["layers"]:
        q = layer.get("quant")
        names = [order[n] for n in layer.get("original_names", []) if n in order]
        if not q or not names or layer["type"] in ("input_layer", "normalization", "output_layer", "pad"):
            continue
        lo, hi = (0 - q["zero_point"]) * q["scale"], (255 - q["zero_point"]) * q["scale"]
        ranges[max(names)[1]] = (lo, hi)
        # Not pinned: layers with a table activation. force_range_out on them (same output grid)
        # took conv35 (+hardsigmoid) from 18.5 to 3.1 dB and the text-box F1 to 0 (Kiln 2026-12-08).
        if layer.get("activation", "none") in ("none", "relu"):
            lines.append(f"quantization_param({layer['name']}, force_range_out=[{lo:.9g}, {hi:.9g}])")
    return ranges, lines


def cached(path, make):
    if os.path.exists(path):
        return json.load(open(path)) if path.endswith(".json") else np.load(path)
    value = make()
    if path.endswith(".json"):
        json.dump(value, open(path, "w"), indent=1)
    else:
        np.save(path, value)
    return value


def float_ranges(model, images):
    """Least-error ranges of MODEL's own float activations (what Kiln's calibration of it would choose)."""
    saved = model.act_ranges, model.quantize_weights
    model.act_ranges, model.quantize_weights = {}, False
    ranges = calibrate(model, images)
    model.act_ranges, model.quantize_weights = saved
    return ranges


def finetune(student, teacher, images, args, log):
    params = [p for p in student.params.values()]
    opt = torch.optim.Adam(params, lr=args.lr)
    steps = args.epochs * len(images)
    gen = torch.Generator().manual_seed(0)
    size = images.shape[-1]
    step = 0
    for epoch in range(args.epochs):
        order = torch.randperm(len(images), generator=gen)
        total, t0 = 0.0, time.time()
        for i in order.tolist():
            y0, x0 = (int(v) for v in torch.randint(0, size - args.crop + 1, (2,), generator=gen) // 32 * 32)
            x = images[i:i + 1, :, y0:y0 + args.crop, x0:x0 + args.crop]
            with torch.no_grad():
                (t_map,), t_feat = teacher(x, keep=(FEATURES,))
            (s_map,), s_feat = student(x, keep=(FEATURES,))
            loss = ((s_map - t_map) ** 2).mean() * args.map_weight
            if args.feature_weight > 0:
                tf = t_feat[FEATURES]
                loss = loss + args.feature_weight * ((s_feat[FEATURES] - tf) ** 2).mean() / tf.var().clamp_min(1e-6)
            for g in opt.param_groups:
                g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss)
            step += 1
        if args.recalibrate and epoch + 1 < args.epochs:
            student.act_ranges = float_ranges(student, images)
        log(f"epoch {epoch + 1}/{args.epochs}: mean loss {total / len(images):.3e} ({time.time() - t0:.0f} s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--onnx", default=os.path.join(DATA, "models", "ppocr_v4_det.onnx"))
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--crop", type=int, default=320)
    ap.add_argument("--map-weight", type=float, default=1.0)
    ap.add_argument("--feature-weight", type=float, default=0.1)
    ap.add_argument("--recalibrate", action="store_true",
                    help="re-choose the activation ranges on the tuned float network after each epoch")
    ap.add_argument("--kiln-info", help="`kiln info --json` of Kiln's optimized archive of the original network: "
                    "quantize where Kiln does, on Kiln's grids, and write them as force_range_out script lines")
    ap.add_argument("--tag", default="qft", help="name of this run's outputs in --work")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    os.makedirs(args.work, exist_ok=True)
    t_start = time.time()
    logf = open(os.path.join(args.work, f"{args.tag}.log"), "a")

    def log(msg):
        line = f"[{time.time() - t_start:6.0f} s] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    log(f"args {vars(args)}")
    calib = load_images(os.path.join(DATA, "sets", "calib", "text"))
    evals = load_images(os.path.join(DATA, "sets", "eval", "text"))
    teacher = OnnxModule(args.onnx)
    float_maps = cached(os.path.join(args.work, "float_eval.npy"), lambda: run_maps(teacher, evals))
    if args.kiln_info:  # Kiln's layers and grids instead of the prototype's own
        ranges, lines = kiln_ranges(args.kiln_info, teacher)
        with open(os.path.join(args.work, f"{args.tag}.force_ranges.alls"), "w") as f:
            f.write("\n".join(lines) + "\n")
    else:
        ranges = cached(os.path.join(args.work, "ranges.json"), lambda: calibrate(teacher, calib))
    log(f"{len(ranges)} quantized activations; float maps of {len(float_maps)} evaluation images")

    student = OnnxModule(args.onnx)
    student.act_ranges = {k: tuple(v) for k, v in ranges.items()}
    student.quant_points = teacher.quant_points = set(ranges)
    student.quantize_weights = True
    before = cached(os.path.join(args.work, f"fakequant_before{'.kiln' if args.kiln_info else ''}.json"),
                    lambda: box_f1(float_maps, run_maps(student, evals)))
    log(f"fake-quant before tuning: {before}")

    finetune(student, teacher, calib, args, log)
    torch.save(student.params.state_dict(), os.path.join(args.work, f"{args.tag}.pt"))
    after = box_f1(float_maps, run_maps(student, evals))
    log(f"fake-quant after tuning: {after}")
    if not args.kiln_info:  # with Kiln's grids, the Kiln run pins them (force_range_out)
        student.act_ranges = float_ranges(student, calib)
        after_recal = box_f1(float_maps, run_maps(student, evals))
        log(f"fake-quant after tuning, ranges re-calibrated on the tuned network (as Kiln would): {after_recal}")
    student.quantize_weights, student.act_ranges = False, {}
    tuned_float = box_f1(float_maps, run_maps(student, evals))
    log(f"tuned network in float against the original float: {tuned_float}")
    out = os.path.join(args.work, f"ppocr_v4_det.{args.tag}.onnx")
    student.export_onnx(out)
    log(f"wrote {out}; total {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()
