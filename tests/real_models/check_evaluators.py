"""The task evaluators of examples/real/ on hand-made output folders with known answers:
a face, a text box and a line segment found by "float", then kept, lost or moved by "test"."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

REAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../examples/real")


def folder(root, name, outputs):
    d = os.path.join(root, name)
    os.makedirs(d)
    meta = []
    for i, (n, a) in enumerate(outputs.items()):
        np.save(os.path.join(d, f"o{i}.npy"), a.astype(np.float32))
        meta.append({"name": n, "file": f"o{i}.npy", "shape": list(a.shape), "dtype": "float32"})
    json.dump({"batch": 1, "outputs": meta, "target": "quantized"}, open(os.path.join(d, "outputs.json"), "w"))
    return d


def run(script, a, b, root):
    out = os.path.join(root, "r.json")
    subprocess.run([sys.executable, os.path.join(REAL, script), a, b, "--json", out], check=True,
                   stdout=subprocess.DEVNULL)
    return json.load(open(out))


def blazeface(root):
    s0, s1 = np.full((1, 512, 1), -10.0), np.full((1, 384, 1), -10.0)
    b0, b1 = np.zeros((1, 512, 16)), np.zeros((1, 384, 16))
    s1[0, 100, 0] = 5.0
    b1[0, 100, :4] = [0, 0, 40, 40]  # a 40x40 face on anchor 100
    f = folder(root, "bf_f", {"s0": s0, "s1": s1, "b0": b0, "b1": b1})
    same = run("eval_blazeface.py", f, f, root)
    assert same["faces_float"] == 1 and same["faces_found"] == 1 and same["score_f1"] == 1.0, same
    s1b = s1.copy()
    s1b[0, 100, 0] = -1.0  # the face's score drops below 0.5
    t = folder(root, "bf_t", {"s0": s0, "s1": s1b, "b0": b0, "b1": b1})
    lost = run("eval_blazeface.py", f, t, root)
    assert lost["faces_found"] == 0 and lost["score_f1"] == 0.0, lost


def ppocr(root):
    m = np.zeros((1, 1, 64, 64))
    m[0, 0, 10:20, 5:40] = 0.9
    f = folder(root, "oc_f", {"map": m})
    assert run("eval_ppocr_det.py", f, f, root)["box_f1"] == 1.0
    moved = np.zeros_like(m)
    moved[0, 0, 40:50, 5:40] = 0.9
    r = run("eval_ppocr_det.py", f, folder(root, "oc_t", {"map": moved}), root)
    assert r["box_f1"] == 0.0 and r["map_iou"] == 0.0, r


def mlsd(root):
    heat = np.zeros((1, 160, 160, 1))
    disp = np.zeros((1, 160, 160, 4))
    heat[0, 80, 80, 0] = 0.9
    disp[0, 80, 80] = [-20, 0, 20, 0]  # a horizontal segment 80 px long at 320 px scale
    f = folder(root, "ml_f", {"heat": heat, "offsets": disp})
    assert run("eval_mlsd.py", f, f, root)["line_f1"] == 1.0
    d2 = disp.copy()
    d2[0, 80, 80] = [0, -20, 0, 20]  # the same centre, now vertical
    r = run("eval_mlsd.py", f, folder(root, "ml_t", {"heat": heat, "offsets": d2}), root)
    assert r["line_f1"] == 0.0, r


with tempfile.TemporaryDirectory() as root:
    for check in (blazeface, ppocr, mlsd):
        sub = os.path.join(root, check.__name__)
        os.makedirs(sub)
        check(sub)
print("1 passed, 0 failed")
