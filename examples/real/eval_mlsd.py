"""M-LSD tiny 320 task evaluation: quantized (or .kef) line segments against float, no labels needed.

    /usr/bin/python3 examples/real/eval_mlsd.py FLOAT_DIR TEST_DIR [--json OUT.json]

FLOAT_DIR and TEST_DIR are --output-dir folders of `kiln infer` / `kilnrt infer` on the same images,
of the full model (outputs: scores [N,160,160,1], the centre heat map after its sigmoid masked to its
3x3 peaks by the model's own Equal(MaxPool(heat), heat), and displacements offsets [N,160,160,4]) or
of the network cut before its peak test (--end-node-names Transpose__300 Transpose__305: the heat map
itself). Decoding as M-LSD's pred_lines: centres that are 3x3 local maxima (the full model's peaks
are already; the test here changes nothing for them) with score > --score (0.1), the 200 best,
segments centre +/- displacement (x2 to 320 px), kept when longer than --min-length (20 px). Two
segments match when their endpoints, in the better orientation, lie on average within --tolerance
px (5). Reports line F1."""
import argparse

import numpy as np
from scipy.ndimage import maximum_filter

from evallib import f1, greedy_match, load_outputs, write_json


def split(outs):
    heat = disp = None
    for arr in outs.values():
        if arr.shape[-1] == 1:
            heat = arr[..., 0]
        elif arr.shape[-1] == 4:
            disp = arr
    if heat is None or disp is None:
        raise SystemExit(f"eval_mlsd.py: expected outputs [N,160,160,1] and [N,160,160,4], "
                         f"found {[a.shape for a in outs.values()]}")
    return heat.reshape(-1, 160, 160), disp.reshape(-1, 160, 160, 4)


def lines(heat, disp, score, min_length, top_k=200):
    peaks = (heat == maximum_filter(heat, size=3, mode="constant", cval=-np.inf)) & (heat > score)
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-heat[ys, xs], kind="stable")[:top_k]
    ys, xs = ys[order], xs[order]
    d = disp[ys, xs]
    seg = np.stack([xs + d[:, 0], ys + d[:, 1], xs + d[:, 2], ys + d[:, 3]], axis=1) * 2
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    return seg[length > min_length]


def distance(a, b):
    """Mean endpoint distance of every pair, in the better of the two orientations."""
    def d(p, q):
        return np.hypot(p[:, None, 0] - q[None, :, 0], p[:, None, 1] - q[None, :, 1])
    same = (d(a[:, :2], b[:, :2]) + d(a[:, 2:], b[:, 2:])) / 2
    flip = (d(a[:, :2], b[:, 2:]) + d(a[:, 2:], b[:, :2])) / 2
    return np.minimum(same, flip)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("float_dir")
    ap.add_argument("test_dir")
    ap.add_argument("--score", type=float, default=0.1)
    ap.add_argument("--min-length", type=float, default=20.0)
    ap.add_argument("--tolerance", type=float, default=5.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    fh, fd = split(load_outputs(args.float_dir))
    th, td = split(load_outputs(args.test_dir))
    if fh.shape != th.shape:
        raise SystemExit(f"eval_mlsd.py: float has {fh.shape[0]} images, the test build {th.shape[0]}")
    matched = n_f = n_t = 0
    for i in range(fh.shape[0]):
        lf = lines(fh[i], fd[i], args.score, args.min_length)
        lt = lines(th[i], td[i], args.score, args.min_length)
        n_f, n_t = n_f + len(lf), n_t + len(lt)
        matched += greedy_match(distance(lf, lt), args.tolerance)
    figures = {"images": int(fh.shape[0]), "lines_float": n_f, "lines_test": n_t, "lines_matched": matched,
               "line_f1": f1(matched, n_f, n_t), "score": args.score, "min_length": args.min_length,
               "tolerance": args.tolerance}
    print(f"line F1 {figures['line_f1']:.3f} ({matched} matched; float {n_f} lines, test {n_t})")
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
