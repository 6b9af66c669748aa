"""Compares two outputs.json directories (Kiln vs onnxruntime): same output names in the same
order, same shapes, and max|a - b| / max|b| <= tolerance for every output."""
import json
import sys

import numpy as np

model, kiln_dir, ort_dir, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
kiln = json.load(open(f"{kiln_dir}/outputs.json"))["outputs"]
ort = json.load(open(f"{ort_dir}/outputs.json"))["outputs"]
ok = [k["name"] for k in kiln] == [o["name"] for o in ort]
if not ok:
    print(f"{model}: output names differ: {[k['name'] for k in kiln]} vs {[o['name'] for o in ort]}")
for k, o in zip(kiln, ort):
    a = np.load(f"{kiln_dir}/{k['file']}")
    b = np.load(f"{ort_dir}/{o['file']}")
    if a.shape != b.shape:
        print(f"{model} {k['name']}: shape {a.shape} vs onnxruntime {b.shape}")
        ok = False
        continue
    rel = float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))
    status = "ok" if rel <= tol else "FAIL"
    print(f"{model} {k['name']} {list(a.shape)}: relative error {rel:.2e} ({status}, limit {tol:g})")
    ok = ok and rel <= tol
sys.exit(0 if ok else 1)
