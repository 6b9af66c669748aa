#!/usr/bin/env python3
"""Train a small CNN on sklearn's load_digits() and export it to ONNX.

Deterministic (fixed seeds, single thread, deterministic algorithms); runs in
a few seconds on CPU.  Writes, next to this script (or into --out-dir):

  digits_cnn.onnx      float model, input `input` [1,1,8,8] (pixel/16), output `logits` [1,10]
  calib.npy            float32 [64,1,8,8]  calibration samples (from the training split)
  test_x.npy           float32 [N,1,8,8]   held-out test images (pixel/16)
  test_y.npy           int64   [N]         test labels
  float_accuracy.txt   float test accuracy of the exported model
"""
import argparse
import os
import random

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.features(x))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=here)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--verify-ort", type=int, default=0, metavar="K",
                    help="compare torch vs onnxruntime (tools/ort/ort_run.js) on the first K test samples")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]  # [1797,1,8,8] in [0,1]
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=SEED, shuffle=True)

    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    gen = torch.Generator().manual_seed(SEED)
    bs = 32
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1:3d}  train loss {total / len(xt):.4f}")

    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x_te)).numpy()
    acc = float((logits.argmax(1) == y_te).mean())
    print(f"float test accuracy: {acc:.4f} ({int(round(acc * len(y_te)))}/{len(y_te)})")

    onnx_path = os.path.join(args.out_dir, "digits_cnn.onnx")
    torch.onnx.export(
        model, torch.zeros(1, 1, 8, 8), onnx_path,
        input_names=["input"], output_names=["logits"],
        opset_version=13, do_constant_folding=True, export_params=True)

    # Calibration set: 64 training samples, fixed choice.
    rng = np.random.RandomState(SEED)
    calib_idx = np.sort(rng.choice(len(x_tr), 64, replace=False))
    np.save(os.path.join(args.out_dir, "calib.npy"), np.ascontiguousarray(x_tr[calib_idx], dtype=np.float32))
    np.save(os.path.join(args.out_dir, "test_x.npy"), np.ascontiguousarray(x_te, dtype=np.float32))
    np.save(os.path.join(args.out_dir, "test_y.npy"), np.ascontiguousarray(y_te, dtype=np.int64))
    with open(os.path.join(args.out_dir, "float_accuracy.txt"), "w") as f:
        f.write(f"{acc:.4f}\n")

    # Sanity checks on the exported graph.
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), ops:",
          sorted({n.op_type for n in m.graph.node}))

    if args.verify_ort:
        verify_ort(onnx_path, x_te[:args.verify_ort], logits[:args.verify_ort])


def verify_ort(onnx_path, xs, torch_logits):
    """Run the exported model with onnxruntime (node runner) and compare with torch."""
    import subprocess
    import tempfile
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "ort", "ort_run.js")
    worst = 0.0
    with tempfile.TemporaryDirectory() as td:
        for i, x in enumerate(xs):
            inp = os.path.join(td, f"x{i}.npy")
            np.save(inp, np.ascontiguousarray(x[None], dtype=np.float32))
            out = os.path.join(td, f"out{i}")
            subprocess.run(["node", runner, onnx_path, "--inputs", inp, "--output-dir", out], check=True)
            y = np.load(os.path.join(out, "logits.npy"))
            worst = max(worst, float(np.abs(y[0] - torch_logits[i]).max()))
    print(f"onnxruntime vs torch on {len(xs)} samples: max |diff| = {worst:.3g}")
    if worst > 1e-3:
        raise SystemExit("onnxruntime output does not match torch")


if __name__ == "__main__":
    main()
