"""BlazeFace 128 task evaluation: quantized (or .kef) outputs against float, no labels needed.

    /usr/bin/python3 examples/real/eval_blazeface.py FLOAT_DIR TEST_DIR [--json OUT.json]

FLOAT_DIR and TEST_DIR are --output-dir folders of `kiln infer` (--target fp-optimized for float,
quantized for the emulation) or `kilnrt infer` on the same N images. Reports:
- faces found: faces float finds (anchors decoded, score > --face-threshold, weighted NMS) that the
  test build also finds (IoU >= 0.5), and faces only the test build finds;
- score F1: anchors with sigmoid(score) > --threshold (default 0.5) in the test build vs float."""
import argparse

import numpy as np

from evallib import box_iou, f1, greedy_match, load_outputs, write_json


def anchors():
    """MediaPipe's SSD anchors of the 128x128 front model: 16x16 cells x 2 (stride 8), 8x8 x 6 (stride 16)."""
    out = []
    for grid, per in ((16, 2), (8, 6)):
        for y in range(grid):
            for x in range(grid):
                out += [((x + 0.5) / grid, (y + 0.5) / grid)] * per
    return np.array(out)


def split(outs):
    """Scores [N, 896] and boxes [N, 896, 16], in anchor order (512 stride-8 anchors first)."""
    by_count = {}
    for arr in outs.values():
        by_count.setdefault((arr.shape[1], arr.shape[2]), arr)
    try:
        scores = np.concatenate([by_count[(512, 1)], by_count[(384, 1)]], axis=1)[..., 0]
        boxes = np.concatenate([by_count[(512, 16)], by_count[(384, 16)]], axis=1)
    except KeyError:
        raise SystemExit("eval_blazeface.py: expected outputs [N,512,1], [N,384,1], [N,512,16], [N,384,16]; "
                         f"found {[a.shape for a in outs.values()]}")
    return scores, boxes


def faces(scores, boxes, threshold, nms_iou=0.3):
    """Decoded faces (x0, y0, x1, y1) in 0..1 of one image, after MediaPipe's weighted NMS."""
    prob = 1 / (1 + np.exp(-np.clip(scores, -100, 100)))
    a = anchors()
    cx = boxes[:, 0] / 128 + a[:, 0]
    cy = boxes[:, 1] / 128 + a[:, 1]
    w, h = boxes[:, 2] / 128, boxes[:, 3] / 128
    rects = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    idx = [int(i) for i in np.argsort(-prob, kind="stable") if prob[i] > threshold]
    found = []
    while idx:
        iou = box_iou(rects[idx[0]], rects[idx])[0]
        group = [idx[k] for k in range(len(idx)) if iou[k] > nms_iou]
        wts = prob[group][:, None]
        found.append((rects[group] * wts).sum(0) / wts.sum())
        idx = [i for k, i in enumerate(idx) if iou[k] <= nms_iou]
    return np.array(found).reshape(-1, 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("float_dir")
    ap.add_argument("test_dir")
    ap.add_argument("--threshold", type=float, default=0.5, help="anchor score threshold for the F1 (default 0.5)")
    ap.add_argument("--face-threshold", type=float, default=0.75,
                    help="score a decoded face needs (default 0.75, MediaPipe's min_score_thresh)")
    ap.add_argument("--json")
    args = ap.parse_args()
    fs, fb = split(load_outputs(args.float_dir))
    ts, tb = split(load_outputs(args.test_dir))
    if fs.shape != ts.shape:
        raise SystemExit(f"eval_blazeface.py: float has {fs.shape[0]} images, the test build {ts.shape[0]}")
    logit = np.log(args.threshold / (1 - args.threshold))
    pos_f, pos_t = fs > logit, ts > logit  # strict: a logit clipped to exactly 0 is not a face
    both = int((pos_f & pos_t).sum())
    n_float = n_test = n_found = 0
    for i in range(fs.shape[0]):
        ff = faces(fs[i], fb[i], args.face_threshold)
        tf = faces(ts[i], tb[i], args.face_threshold)
        n_float += len(ff)
        n_test += len(tf)
        n_found += greedy_match(1 - box_iou(ff, tf), 0.5)
    figures = {
        "images": int(fs.shape[0]),
        "faces_float": n_float, "faces_test": n_test, "faces_found": n_found,
        "faces_found_fraction": n_found / n_float if n_float else 1.0,
        "faces_extra": n_test - n_found,
        "score_f1": f1(both, int(pos_f.sum()), int(pos_t.sum())),
        "score_positives_float": int(pos_f.sum()), "score_positives_test": int(pos_t.sum()),
        "threshold": args.threshold, "face_threshold": args.face_threshold,
    }
    print(f"faces found {n_found} of {n_float} float finds ({100 * figures['faces_found_fraction']:.1f} %), "
          f"{figures['faces_extra']} extra; anchor score F1 {figures['score_f1']:.3f} at {args.threshold} "
          f"({figures['score_positives_test']} positives vs {figures['score_positives_float']} in float)")
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
