#!/usr/bin/env python3
"""Write deterministic, realistic inputs for Kiln's real-model tests.

    /usr/bin/python3 tools/models/make_inputs.py DEST_DIR

Uses only numpy and the sample images shipped with scikit-image
(Debian: python3-skimage). Writes into DEST_DIR:

  blazeface_128.input.npy  float32 [1,128,128,3]  NHWC RGB, x/127.5-1 in [-1,1]
                           (skimage.data.astronaut(), square crop around the face)
  ppocr_v4_det.input.npy   float32 [1,3,640,640]  NCHW RGB, (x/255-mean)/std (ImageNet)
                           (skimage.data.page() text, gray->RGB, scaled to width 640,
                           padded bottom with white, PaddleOCR-style)
  mlsd_tiny_320.input.npy  float32 [1,320,320,4]  NHWC RGBA in [0,255], alpha=255
                           (skimage.data.camera() gray->RGB; the model does x/127.5-1 itself)
"""
import os
import sys

import numpy as np
from skimage import data
from skimage.transform import resize

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def _resize_u8(img, shape):
    """Bilinear, anti-aliased resize of a uint8 HxW[xC] image; returns float32 in [0,255]."""
    out = resize(img.astype(np.float64), shape, order=1, mode="edge",
                 anti_aliasing=True, preserve_range=True)
    return np.clip(np.round(out), 0, 255).astype(np.float32)


def blazeface_input():
    img = data.astronaut()                 # 512x512x3 uint8, face upper middle
    crop = img[0:320, 96:416]              # 320x320 square around the head
    x = _resize_u8(crop, (128, 128, 3))
    x = x / 127.5 - 1.0
    return x[None].astype(np.float32)      # [1,128,128,3]


def ppocr_input():
    page = data.page()                     # 191x384 uint8 grayscale text
    h = int(round(page.shape[0] * 640 / page.shape[1]))  # keep aspect ratio
    g = _resize_u8(page, (h, 640))
    canvas = np.full((640, 640), 255.0, dtype=np.float32)
    canvas[:h, :] = g
    rgb = np.repeat(canvas[:, :, None], 3, axis=2) / 255.0
    x = (rgb - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)  # [1,3,640,640]


def mlsd_input():
    cam = data.camera()                    # 512x512 uint8 grayscale
    g = _resize_u8(cam, (320, 320))
    rgba = np.empty((320, 320, 4), dtype=np.float32)
    rgba[:, :, :3] = g[:, :, None]
    rgba[:, :, 3] = 255.0
    return rgba[None]                      # [1,320,320,4]


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    dest = argv[1]
    os.makedirs(dest, exist_ok=True)
    for name, fn in (("blazeface_128", blazeface_input),
                     ("ppocr_v4_det", ppocr_input),
                     ("mlsd_tiny_320", mlsd_input)):
        x = fn()
        path = os.path.join(dest, f"{name}.input.npy")
        np.save(path, x)
        print(f"{path}: {x.dtype} {list(x.shape)} min={x.min():.3f} max={x.max():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
