"""Shared pieces of the task evaluators (eval_blazeface.py, eval_ppocr_det.py, eval_mlsd.py): reading
the output folders kiln infer / kilnrt infer write, greedy one-to-one matching, F1."""
import json
import os

import numpy as np


def load_outputs(folder):
    """{output name: array} from FOLDER/outputs.json (kiln infer and kilnrt infer write the same)."""
    path = os.path.join(folder, "outputs.json")
    try:
        meta = json.load(open(path))
    except OSError as e:
        raise SystemExit(f"{path}: {e.strerror}; run kiln infer / kilnrt infer with --output-dir {folder}")
    outs = meta["outputs"] if isinstance(meta, dict) else meta
    return {o["name"]: np.load(os.path.join(folder, o["file"])).astype(np.float64) for o in outs}


def greedy_match(cost, limit):
    """Pairs rows and columns of COST (lower is better) one-to-one, cheapest first, while cost <= LIMIT.
    Returns the number of pairs."""
    if cost.size == 0:
        return 0
    order = np.argsort(cost, axis=None, kind="stable")
    used_r, used_c, n = set(), set(), 0
    for flat in order:
        r, c = divmod(int(flat), cost.shape[1])
        if cost[r, c] > limit:
            break
        if r in used_r or c in used_c:
            continue
        used_r.add(r)
        used_c.add(c)
        n += 1
    return n


def f1(matched, n_ref, n_test):
    """F1 of TEST against REF with MATCHED pairs; 1.0 when both are empty."""
    if n_ref == 0 and n_test == 0:
        return 1.0
    return 2.0 * matched / (n_ref + n_test)


def box_iou(a, b):
    """IoU matrix of boxes [N,4] x [M,4] as (x0, y0, x1, y1)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def write_json(path, figures):
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(figures, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
