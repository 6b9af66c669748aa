"""A tiny YOLOv8-style detector (anchor-free, DFL box regression, strides 8 and 16) trained here on a synthetic
shapes data set, for Kiln's nms_postprocess YOLO path (examples/real/yolo_shapes/README.md):

    /usr/bin/python3 yolo_shapes.py train OUT.onnx [--minutes 4 | --steps 384]   # needs python3-torch (torch 1.13)
    /usr/bin/python3 yolo_shapes.py images OUT.npy --count N [--seed S]   # numpy only

`images` writes N images [N, 3, 64, 64] float32, raw 0..255 (the model script normalizes), each with 1 to 3
shapes (0 circle, 1 square, 2 triangle) on a noisy gradient background; the training set is made the same way
with other seeds. The network ends in two convolutions per stride, as the reference's yolov8 configs expect:
`reg8`/`reg16` [1, 4*8, H, W] (8 DFL bins per side l, t, r, b, in cells) and `cls8`/`cls16` [1, 3, H, W] class
logits (the script's change_output_activation adds the sigmoid). Training is seeded and single-threaded, and
the export is deterministic for given weights; the committed yolo_shapes.onnx is what the tests use."""
import argparse
import sys
import time

import numpy as np

SIZE, CLASSES, BINS, STRIDES = 64, 3, 8, (8, 16)


def draw(rng):
    """One image [3, 64, 64] (0..255) and its boxes [(class, x0, y0, x1, y1)] in pixels."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    base = rng.uniform(20, 120, 3).astype(np.float32)
    grad = rng.uniform(-0.8, 0.8, 2).astype(np.float32)
    img = base[:, None, None] + grad[0] * yy + grad[1] * xx + rng.normal(0, 6, (3, SIZE, SIZE)).astype(np.float32)
    boxes = []
    for _ in range(rng.integers(1, 4)):
        for _attempt in range(20):
            s = float(rng.uniform(10, 30))
            cx, cy = rng.uniform(s / 2, SIZE - s / 2, 2)
            box = (cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2)
            if all(min(box[2], b[3]) - max(box[0], b[1]) < 0 or min(box[3], b[4]) - max(box[1], b[2]) < 0
                   for b in boxes):
                break
        else:
            continue
        k = int(rng.integers(0, CLASSES))
        if k == 0:
            mask = (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= (s / 2) ** 2
        elif k == 1:
            mask = (np.abs(xx + 0.5 - cx) <= s / 2) & (np.abs(yy + 0.5 - cy) <= s / 2)
        else:  # apex up: inside when below both slanted edges
            top = cy - s / 2
            rel = (yy + 0.5 - top) / s
            mask = (rel >= 0) & (rel <= 1) & (np.abs(xx + 0.5 - cx) <= rel * s / 2)
        color = rng.uniform(140, 255, 3).astype(np.float32) * rng.choice([1, -1], 3) % 256
        img[:, mask] = color[:, None]
        boxes.append((k,) + box)
    return np.clip(img, 0, 255), boxes


def make(count, seed):
    rng = np.random.default_rng(seed)
    imgs, labels = [], []
    for _ in range(count):
        im, b = draw(rng)
        imgs.append(im)
        labels.append(b)
    return np.stack(imgs).astype(np.float32), labels


def targets(labels):
    """Per stride: class targets [N, 3, H, W], distances [N, 4, H, W] (cells) and a positive mask [N, H, W].
    A cell is positive for the smallest box whose central half holds the cell's centre, at the stride that
    suits the box (side < 20 px: 8, else 16), and always the cell holding the box centre."""
    out = []
    n = len(labels)
    for s in STRIDES:
        H = SIZE // s
        cls = np.zeros((n, CLASSES, H, H), np.float32)
        dist = np.zeros((n, 4, H, H), np.float32)
        pos = np.zeros((n, H, H), bool)
        area = np.full((n, H, H), np.inf, np.float32)
        for i, boxes in enumerate(labels):
            for k, x0, y0, x1, y1 in boxes:
                side = max(x1 - x0, y1 - y0)
                if (side < 20) != (s == 8):
                    continue
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                for gy in range(H):
                    for gx in range(H):
                        px, py = (gx + 0.5) * s, (gy + 0.5) * s
                        central = abs(px - cx) <= (x1 - x0) / 4 + 1e-3 and abs(py - cy) <= (y1 - y0) / 4 + 1e-3
                        holds = int(cx // s) == gx and int(cy // s) == gy
                        a = (x1 - x0) * (y1 - y0)
                        if (central or holds) and a < area[i, gy, gx]:
                            area[i, gy, gx] = a
                            pos[i, gy, gx] = True
                            cls[i, :, gy, gx] = 0
                            cls[i, k, gy, gx] = 1
                            dist[i, :, gy, gx] = [(px - x0) / s, (py - y0) / s, (x1 - px) / s, (y1 - py) / s]
        out.append((cls, np.clip(dist, 0, BINS - 1.01), pos))
    return out


def train(out_path, minutes, steps):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)
    torch.set_num_threads(1)  # deterministic and polite on a shared machine

    def block(i, o, s):
        return nn.Sequential(nn.Conv2d(i, o, 3, s, 1), nn.BatchNorm2d(o), nn.ReLU())

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.s8 = nn.Sequential(block(3, 16, 2), block(16, 32, 2), block(32, 32, 1), block(32, 48, 2),
                                    block(48, 48, 1))
            self.s16 = nn.Sequential(block(48, 64, 2), block(64, 64, 1))
            self.h8, self.h16 = block(48, 48, 1), block(64, 48, 1)
            self.reg8, self.cls8 = nn.Conv2d(48, 4 * BINS, 1), nn.Conv2d(48, CLASSES, 1)
            self.reg16, self.cls16 = nn.Conv2d(48, 4 * BINS, 1), nn.Conv2d(48, CLASSES, 1)
            for c in (self.cls8, self.cls16):
                nn.init.constant_(c.bias, -4.0)

        def forward(self, x):
            x = x / 255.0
            a = self.s8(x)
            b = self.s16(a)
            a, b = self.h8(a), self.h16(b)
            return self.reg8(a), self.cls8(a), self.reg16(b), self.cls16(b)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    start, step = time.time(), 0
    chunk = 0
    while (step < steps) if steps else (time.time() - start < minutes * 60):
        imgs, labels = make(512, 1000 + chunk)
        tg = targets(labels)
        chunk += 1
        x = torch.from_numpy(imgs)
        for _epoch in range(3):
            perm = torch.randperm(len(imgs))
            for b in range(0, len(imgs), 64):
                idx = perm[b:b + 64]
                outs = net(x[idx])
                loss = 0
                for lvl in range(2):
                    reg, cls = outs[2 * lvl], outs[2 * lvl + 1]
                    tc, td, tp = (torch.from_numpy(t[idx.numpy()]) for t in tg[lvl])
                    loss = loss + F.binary_cross_entropy_with_logits(cls, tc, reduction="sum") / max(1, tp.sum())
                    if tp.any():
                        n, _, H, W = reg.shape
                        logits = reg.view(n, 4, BINS, H, W).permute(0, 3, 4, 1, 2)[tp]  # [P, 4, BINS]
                        d = td.permute(0, 2, 3, 1)[tp]  # [P, 4]
                        lo = d.floor().long()
                        wr = d - lo.float()
                        logp = F.log_softmax(logits, -1)
                        dfl = -(logp.gather(-1, lo[..., None])[..., 0] * (1 - wr) +
                                logp.gather(-1, (lo + 1)[..., None])[..., 0] * wr)
                        loss = loss + dfl.mean() * 2
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
        print(f"{time.time() - start:5.0f} s, step {step}, loss {float(loss):.3f}", flush=True)
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 3, SIZE, SIZE), out_path, opset_version=13,
                      input_names=["images"], output_names=["reg8", "cls8", "reg16", "cls16"],
                      do_constant_folding=True)
    print(f"wrote {out_path} after {step} steps")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("out")
    t.add_argument("--minutes", type=float, default=4)
    t.add_argument("--steps", type=int, default=0,
                   help="stop after this many steps (a multiple of 24) instead of after --minutes: "
                        "the same steps give the same bytes (yolo_shapes.onnx: --steps 384)")
    i = sub.add_parser("images")
    i.add_argument("out")
    i.add_argument("--count", type=int, default=16)
    i.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if args.cmd == "train":
        train(args.out, args.minutes, args.steps)
    else:
        imgs, _ = make(args.count, args.seed)
        np.save(args.out, imgs)
        print(f"{args.count} images -> {args.out}")


if __name__ == "__main__":
    sys.exit(main())
