"""PP-OCRv4 det task evaluation: quantized (or .kef) text boxes against float, no labels needed.

    /usr/bin/python3 examples/real/eval_ppocr_det.py FLOAT_DIR TEST_DIR [--json OUT.json]

FLOAT_DIR and TEST_DIR are --output-dir folders of `kiln infer` / `kilnrt infer` on the same images.
DBNet post-processing as PaddleOCR's defaults: probability map > --threshold (0.3), connected
components (8-connected), a box kept when its mean probability >= --box-threshold (0.6) and its
short side >= 3 px. Reports text-box F1 (boxes match at IoU >= 0.5) and the IoU of the thresholded
maps."""
import argparse

import numpy as np
from skimage import measure

from evallib import box_iou, f1, greedy_match, load_outputs, write_json


def text_boxes(prob, threshold, box_threshold):
    labels = measure.label(prob > threshold, connectivity=2)
    boxes = []
    for region in measure.regionprops(labels, intensity_image=prob):
        y0, x0, y1, x1 = region.bbox
        if min(y1 - y0, x1 - x0) < 3 or region.mean_intensity < box_threshold:
            continue
        boxes.append((x0, y0, x1, y1))
    return np.array(boxes, np.float64).reshape(-1, 4)


def prob_map(folder):
    outs = load_outputs(folder)
    if len(outs) != 1:
        raise SystemExit(f"eval_ppocr_det.py: {folder}: expected one output (the text probability map)")
    arr = next(iter(outs.values()))
    return arr.reshape(-1, arr.shape[-2], arr.shape[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("float_dir")
    ap.add_argument("test_dir")
    ap.add_argument("--threshold", type=float, default=0.3)
    ap.add_argument("--box-threshold", type=float, default=0.6)
    ap.add_argument("--json")
    args = ap.parse_args()
    fm, tm = prob_map(args.float_dir), prob_map(args.test_dir)
    if fm.shape != tm.shape:
        raise SystemExit(f"eval_ppocr_det.py: float maps {fm.shape}, test maps {tm.shape}")
    inter = union = matched = n_f = n_t = 0
    for f, t in zip(fm, tm):
        bf, bt = f > args.threshold, t > args.threshold
        inter += int((bf & bt).sum())
        union += int((bf | bt).sum())
        ff = text_boxes(f, args.threshold, args.box_threshold)
        tf = text_boxes(t, args.threshold, args.box_threshold)
        n_f, n_t = n_f + len(ff), n_t + len(tf)
        matched += greedy_match(1 - box_iou(ff, tf), 0.5)
    figures = {"images": int(fm.shape[0]), "boxes_float": n_f, "boxes_test": n_t, "boxes_matched": matched,
               "box_f1": f1(matched, n_f, n_t), "map_iou": inter / union if union else 1.0,
               "threshold": args.threshold, "box_threshold": args.box_threshold}
    print(f"text-box F1 {figures['box_f1']:.3f} ({matched} matched; float {n_f} boxes, test {n_t}); "
          f"map IoU {figures['map_iou']:.3f} at {args.threshold}")
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
