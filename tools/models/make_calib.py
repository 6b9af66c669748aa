"""Writes a calibration set of natural images: DEST/img_NNN.png, RGB, 256x256 crops of the photos
that Debian's python3-skimage ships (astronaut, coffee, chelsea, rocket, ...), deterministic.

    /usr/bin/python3 tools/models/make_calib.py DEST [COUNT]

Kiln's image loader resizes them to each network's input; the model scripts add the published
normalization, so these stay raw 0-255 pixels."""
import os
import sys

import numpy as np
from skimage import data, io, transform

PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "page", "coins", "moon", "text",
          "hubble_deep_field", "immunohistochemistry", "motorcycle_left"]


def load(name):
    fn = getattr(data, name, None)
    if fn is None:
        return None
    try:
        img = fn()
    except Exception:  # an image that needs a download
        return None
    if isinstance(img, tuple):
        img = img[0]
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = (255 * (img.astype(np.float64) / max(img.max(), 1))).astype(np.uint8)
    return img


def main():
    dest = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    os.makedirs(dest, exist_ok=True)
    photos = [p for p in (load(n) for n in PHOTOS) if p is not None]
    rng = np.random.default_rng(0)
    for i in range(count):
        img = photos[i % len(photos)]
        h, w = img.shape[:2]
        # The whole photo first, then crops of 40-100 % of the short side.
        side = min(h, w) if i < len(photos) else int(min(h, w) * rng.uniform(0.4, 1.0))
        y = int(rng.integers(0, h - side + 1))
        x = int(rng.integers(0, w - side + 1))
        crop = img[y:y + side, x:x + side]
        crop = transform.resize(crop, (256, 256), order=1, preserve_range=True, anti_aliasing=True)
        io.imsave(os.path.join(dest, f"img_{i:03d}.png"), crop.round().astype(np.uint8), check_contrast=False)
    print(f"wrote {count} images to {dest}")


if __name__ == "__main__":
    main()
