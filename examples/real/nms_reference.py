"""A plain numpy decode + NMS of a detector's outputs from the reference's nms_postprocess JSON config,
and its comparison with the boxes Kiln decodes (kilnrt infer / kiln infer write nms_postprocess.npy):

    /usr/bin/python3 examples/real/nms_reference.py CONFIG.json META_ARCH RAW_DIR NMS_DIR [--exact] [--json OUT]

RAW_DIR: the network's float outputs (`kiln infer OPT.kar --target fp-optimized --raw-outputs`, the float
network after the script's changes, sigmoids included), or with --exact the quantized ones (`--target
quantized --raw-outputs`). NMS_DIR: an output folder holding nms_postprocess.npy. The decoders' layer names
must be the network's ONNX output names. Written from the reference's definitions, independently of Kiln's
C++ (float64, its own loops):
  ssd: anchors at cell centres, x = tx / centers_scale * wa + xa, w = exp(tw / dims_scale) * wa
       ("kiln_box_size": "linear": w = tw / dims_scale * wa; "kiln_reg_order": "xywh" for x, y, w, h rows);
  yolov5: sigmoid outputs, xy = (2 v - 0.5 + cell) * stride, wh = (2 v)^2 * anchor, score = obj * class;
  yolov8: DFL (softmax expectation over regression_length bins per side) or direct ltrb, x = (cx -+ d) * stride.
Per class: score >= nms_scores_th, greedy NMS suppressing IoU > nms_iou_th, at most max_proposals_per_class.

Checks (exit 1 when one fails): boxes matched one-to-one per class at IoU >= 0.5 all have IoU >= 0.9
(--min-iou), and at least --min-found of the reference's boxes are matched. --exact (same inputs as Kiln's
decode): the same box count per class and IoU >= 0.999 on every box."""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evallib import box_iou, load_outputs, write_json  # noqa: E402


def cells(arr, A, P, stride, dims, rows_used, key):
    """[H*W, A, P] view of one output: a map [1, A*P, H, W] or rows [1, N, K] (the decoder's rows)."""
    if arr.ndim == 4:
        _, C, H, W = arr.shape
        assert C == A * P, f"{key}: {C} channels, expected {A}x{P}"
        return arr[0].reshape(A, P, H, W).transpose(2, 3, 0, 1).reshape(H * W, A, P), H, W
    rows = arr.reshape(-1, arr.shape[-1])
    H, W = -(-dims[0] // stride), -(-dims[1] // stride)
    start = rows_used.get(key, 0)
    rows_used[key] = start + H * W * A
    return rows[start:start + H * W * A, :P].reshape(H * W, A, P), H, W


def decode(cfg, arch, outs):
    """Candidates (class, score, y0, x0, y1, x1) of one image, in decoding order."""
    dims = cfg["image_dims"]
    C = cfg["classes"]
    th = cfg.get("nms_scores_th", 0.3)
    cand = []
    used = {}
    for d in cfg["bbox_decoders"]:
        if arch == "ssd":
            A = len(d["w"])
            reg, H, W = cells(outs[d["reg_layer"]], A, 4, d.get("stride", 0), dims, used, d["reg_layer"])
            cls, _, _ = cells(outs[d["cls_layer"]], A, C, d.get("stride", 0), dims, used, d["cls_layer"])
            order = {"yxhw": [0, 1, 2, 3], "xywh": [1, 0, 3, 2]}[cfg.get("kiln_reg_order", "yxhw")]
            cs, ds = cfg.get("centers_scale_factor", 1), cfg.get("bbox_dimensions_scale_factor", 1)
            linear = cfg.get("kiln_box_size", "exponential") == "linear"
            for cell in range(H * W):
                y, x = divmod(cell, W)
                ya, xa = (y + 0.5) / H, (x + 0.5) / W
                for a in range(A):
                    wa, ha = d["w"][a], d["h"][a]
                    v = reg[cell, a]
                    ty, tx, th_, tw = (v[order[i]] for i in range(4))
                    cx, cy = tx / cs * wa + xa, ty / cs * ha + ya
                    w = tw / ds * wa if linear else np.exp(tw / ds) * wa
                    h = th_ / ds * ha if linear else np.exp(th_ / ds) * ha
                    for k in range(C):
                        if cfg.get("background_removal") and k == cfg.get("background_removal_index", 0):
                            continue
                        if cls[cell, a, k] >= th:
                            cand.append((k, cls[cell, a, k], cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2))
        elif arch == "yolov5":
            A, s = len(d["w"]), d["stride"]
            v, H, W = cells(outs[d["encoded_layer"]], A, 5 + C, s, dims, used, d["encoded_layer"])
            for cell in range(H * W):
                y, x = divmod(cell, W)
                for a in range(A):
                    p = v[cell, a]
                    cx, cy = (2 * p[0] - 0.5 + x) * s, (2 * p[1] - 0.5 + y) * s
                    w, h = (2 * p[2]) ** 2 * d["w"][a], (2 * p[3]) ** 2 * d["h"][a]
                    for k in range(C):
                        sc = p[4] * p[5 + k]
                        if sc >= th:
                            cand.append((k, sc, (cy - h / 2) / dims[0], (cx - w / 2) / dims[1],
                                         (cy + h / 2) / dims[0], (cx + w / 2) / dims[1]))
        else:  # yolov8
            R, s = cfg.get("regression_length", 16), d["stride"]
            reg, H, W = cells(outs[d["reg_layer"]], 1, 4 * max(R, 1), s, dims, used, d["reg_layer"])
            cls, _, _ = cells(outs[d["cls_layer"]], 1, C, s, dims, used, d["cls_layer"])
            for cell in range(H * W):
                y, x = divmod(cell, W)
                if not (cls[cell, 0] >= th).any():
                    continue
                if R:
                    bins = reg[cell, 0].reshape(4, R)
                    e = np.exp(bins - bins.max(axis=1, keepdims=True))
                    dist = (e * np.arange(R)).sum(1) / e.sum(1)
                else:
                    dist = reg[cell, 0, :4]
                l, t, r, b = dist
                box = ((y + 0.5 - t) * s / dims[0], (x + 0.5 - l) * s / dims[1],
                       (y + 0.5 + b) * s / dims[0], (x + 0.5 + r) * s / dims[1])
                for k in range(C):
                    if cls[cell, 0, k] >= th:
                        cand.append((k, cls[cell, 0, k]) + box)
    return cand


def nms(cfg, cand):
    """{class: [N, 5] boxes (y0, x0, y1, x1, score)} after per-class greedy NMS."""
    out = {}
    for k in range(cfg["classes"]):
        mine = [c for c in cand if c[0] == k]
        mine.sort(key=lambda c: -c[1])  # stable: ties keep decoding order
        kept = []
        for c in mine:
            if len(kept) >= cfg.get("max_proposals_per_class", 100):
                break
            box = np.array(c[2:6])
            if all(iou_yx(box, np.array(q[:4])) <= cfg.get("nms_iou_th", 0.6) for q in kept):
                kept.append(list(box) + [c[1]])
        out[k] = np.array(kept).reshape(-1, 5)
    return out


def iou_yx(a, b):
    ih = min(a[2], b[2]) - max(a[0], b[0])
    iw = min(a[3], b[3]) - max(a[1], b[1])
    if ih <= 0 or iw <= 0:
        return 0.0
    inter = ih * iw
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def parse_kiln(row, cfg):
    """The by-class layout of nms_postprocess.npy (docs/runtime.md) -> {class: [N, 5]}."""
    out, at = {}, 0
    for k in range(cfg["classes"]):
        n = int(row[at])
        out[k] = row[at + 1:at + 1 + 5 * n].reshape(n, 5)
        at += 1 + 5 * n
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config")
    ap.add_argument("meta_arch", choices=["ssd", "yolov5", "yolov8"])
    ap.add_argument("raw_dir")
    ap.add_argument("nms_dir")
    ap.add_argument("--exact", action="store_true")
    ap.add_argument("--min-iou", type=float, default=0.9)
    ap.add_argument("--min-found", type=float, default=0.9)
    ap.add_argument("--json")
    args = ap.parse_args()
    cfg = json.load(open(args.config))
    raw = load_outputs(args.raw_dir)
    got = load_outputs(args.nms_dir)["nms_postprocess"]
    n_img = got.shape[0]
    ref_n = test_n = matched = 0
    worst = 1.0
    count_mismatch = 0
    for i in range(n_img):
        outs = {k: v[i:i + 1] for k, v in raw.items()}
        ref = nms(cfg, decode(cfg, args.meta_arch, outs))
        test = parse_kiln(got[i], cfg)
        for k in ref:
            r, t = ref[k], test[k]
            ref_n += len(r)
            test_n += len(t)
            if len(r) != len(t):
                count_mismatch += 1
            if len(r) == 0 or len(t) == 0:
                continue
            # (x0, y0, x1, y1) for box_iou
            iou = box_iou(r[:, [1, 0, 3, 2]], t[:, [1, 0, 3, 2]])
            pairs = sorted(((iou[a, b], a, b) for a in range(len(r)) for b in range(len(t))), reverse=True)
            ur, ut = set(), set()
            for v, a, b in pairs:
                if v < 0.5:
                    break
                if a in ur or b in ut:
                    continue
                ur.add(a)
                ut.add(b)
                matched += 1
                worst = min(worst, v)
    found = matched / ref_n if ref_n else 1.0
    figures = {"images": n_img, "boxes_reference": ref_n, "boxes_kiln": test_n, "matched": matched,
               "found_fraction": found, "min_matched_iou": worst, "images_classes_count_differs": count_mismatch}
    print(f"{n_img} images: reference {ref_n} boxes, Kiln {test_n}, matched {matched} ({100 * found:.1f} %), "
          f"lowest IoU of a matched box {worst:.4f}")
    write_json(args.json, figures)
    if ref_n == 0:
        sys.exit("nms_reference.py: the reference decodes no box: nothing is compared")
    if args.exact:
        ok = count_mismatch == 0 and matched == ref_n == test_n and worst >= 0.999
    else:
        ok = worst >= args.min_iou and found >= args.min_found
    if not ok:
        print("FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
