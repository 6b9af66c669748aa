"""Stacks an evaluation folder's PNGs (sorted by name) into one float32 .npy that kiln infer and
kilnrt infer take, in the model's own input layout, raw 0-255 (the model scripts normalize):

    /usr/bin/python3 examples/real/images_to_npy.py FOLDER OUT.npy --model blazeface_128|ppocr_v4_det|mlsd_tiny_320

The sets of make_sets.py are already at each model's input size, so nothing is resized."""
import argparse
import os

import numpy as np
from PIL import Image

# Input size, layout and channels of each real model (see /work/shared docs and examples/real/*.yaml).
MODELS = {"blazeface_128": (128, "nhwc", 3), "ppocr_v4_det": (640, "nchw", 3), "mlsd_tiny_320": (320, "nhwc", 4)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("out")
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    args = ap.parse_args()
    size, layout, channels = MODELS[args.model]
    names = sorted(n for n in os.listdir(args.folder) if n.lower().endswith((".png", ".jpg", ".jpeg")))
    if not names:
        raise SystemExit(f"images_to_npy.py: no PNG/JPEG images in {args.folder}")
    batch = []
    for n in names:
        img = np.asarray(Image.open(os.path.join(args.folder, n)).convert("RGB"), dtype=np.float32)
        if img.shape[:2] != (size, size):
            raise SystemExit(f"images_to_npy.py: {n} is {img.shape[1]}x{img.shape[0]}, {args.model} takes "
                             f"{size}x{size} (make the sets with make_sets.py)")
        if channels == 4:  # M-LSD's RGBA: opaque alpha
            img = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.float32)], axis=-1)
        batch.append(img.transpose(2, 0, 1) if layout == "nchw" else img)
    tmp = args.out + ".tmp.npy"
    np.save(tmp, np.stack(batch).astype(np.float32))
    os.replace(tmp, args.out)
    print(f"{len(batch)} images -> {args.out}")


if __name__ == "__main__":
    main()
