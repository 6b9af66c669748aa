"""Writes the content evaluation and calibration sets of the three real models (issue 10, item 7):

    /usr/bin/python3 examples/real/make_sets.py DEST [--eval N] [--calib N]

DEST/eval/{faces,text,lines}/img_NNN.png   N evaluation images per model (default 32)
DEST/calib/{faces,text,lines}/img_NNN.png  N calibration images per model (default 64)

- faces (BlazeFace 128, 128x128): skimage's lfw_subset faces (25x25, grey) and the astronaut's face,
  composited at several scales and positions onto photo crops and smooth backgrounds;
- text (PP-OCRv4 det, 640x640): words rendered with Debian's DejaVu fonts at 14-72 px, dark on light
  and light on dark, on plain, gradient and blurred photo backgrounds;
- lines (M-LSD tiny 320, 320x320): line drawings (segments, boxes, polygons, grids, perspective
  boxes) and crops of photos with straight edges (bricks, a page, the camera man's tripod, ...).

Deterministic: fixed seeds, no clock, PNG without timestamps. Evaluation and calibration sets are
disjoint by construction (different seeds, different lfw faces, different photos and words) and the
script checks it at the end: no calibration image equals an evaluation image, and none is a
near-copy (same image up to small pixel noise). All images are raw 0-255 RGB; the network configs
add each model's normalization."""
import argparse
import hashlib
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from skimage import data, transform

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
         "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansCondensed.ttf"]

# Photos each set may use: evaluation and calibration never share one.
PHOTOS = {
    "eval": {"faces": ["coffee", "chelsea", "rocket", "brick"],
             "text": ["coffee", "rocket", "grass"],
             "lines": ["brick", "page", "camera", "text"]},
    "calib": {"faces": ["camera", "coins", "gravel", "immunohistochemistry", "moon"],
              "text": ["chelsea", "gravel", "moon", "coins"],
              "lines": ["checkerboard", "rocket", "coffee", "horse", "clock"]},
}
SEEDS = {"eval": 1010, "calib": 2020}

WORDS = ("kiln quantized network output layer tensor hailo accuracy compile runtime integer float "
         "image text detector score range calibration model graph batch report margin signal noise "
         "camera window street market coffee bakery station platform ticket exit entrance north south "
         "open closed monday friday price total invoice order number page chapter section table "
         "figure line point edge corner box face person city river bridge tower garden school").split()


def photo(name):
    img = getattr(data, name)()
    if isinstance(img, tuple):
        img = img[0]
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = (255 * (img.astype(np.float64) / max(float(img.max()), 1.0))).astype(np.uint8)
    return img


def resize(img, h, w):
    out = transform.resize(img, (h, w), order=1, preserve_range=True, anti_aliasing=True)
    return np.clip(out.round(), 0, 255).astype(np.uint8)


def photo_crop(rng, img, size):
    h, w = img.shape[:2]
    side = int(min(h, w) * rng.uniform(0.35, 1.0))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    return resize(img[y:y + side, x:x + side], size, size)


def smooth_background(rng, size):
    """A two-colour gradient in a random direction plus a little noise."""
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0, 1, size)
    angle = rng.uniform(0, np.pi)
    ramp = np.clip(np.cos(angle) * t[None, :] + np.sin(angle) * t[:, None], 0, 1)
    ramp = ramp / max(ramp.max(), 1e-6)
    img = a[None, None, :] * (1 - ramp[..., None]) + b[None, None, :] * ramp[..., None]
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def background(rng, photos, size):
    if rng.uniform() < 0.6:
        return photo_crop(rng, photos[int(rng.integers(len(photos)))], size)
    return smooth_background(rng, size)


# ---- faces ---------------------------------------------------------------------------------------

def face_sources(which):
    """lfw_subset's first 100 images are faces: even ones for evaluation, odd ones for calibration.
    The astronaut's face (a colour photo) is in the evaluation set only."""
    lfw = data.lfw_subset()[:100]
    faces = [np.stack([(f * 255).round().astype(np.uint8)] * 3, axis=-1) for f in lfw]
    chosen = faces[0::2] if which == "eval" else faces[1::2]
    if which == "eval":
        chosen = chosen + [photo("astronaut")[20:220, 140:320]]
    return chosen


def paste_face(rng, canvas, face, side):
    h, w = canvas.shape[:2]
    fh = side
    fw = int(round(side * face.shape[1] / face.shape[0]))
    patch = resize(face, fh, fw).astype(np.float64)
    # A random warm tint so grey faces are not all alike (a gain per channel).
    patch *= rng.uniform([0.95, 0.8, 0.7], [1.1, 1.0, 0.9])
    y = int(rng.integers(0, h - fh + 1))
    x = int(rng.integers(0, w - fw + 1))
    # Feathered edges: the face blends into the background over a few pixels.
    ry = np.minimum(np.arange(fh), np.arange(fh)[::-1])[:, None]
    rx = np.minimum(np.arange(fw), np.arange(fw)[::-1])[None, :]
    alpha = np.clip(np.minimum(ry, rx) / max(2.0, side / 12), 0, 1)[..., None]
    region = canvas[y:y + fh, x:x + fw].astype(np.float64)
    canvas[y:y + fh, x:x + fw] = np.clip(alpha * patch + (1 - alpha) * region, 0, 255).astype(np.uint8)
    return (x, y, fw, fh)


def make_faces(rng, which, count):
    photos = [photo(n) for n in PHOTOS[which]["faces"]]
    faces = face_sources(which)
    for i in range(count):
        canvas = background(rng, photos, 128)
        # Mostly one large face; sometimes two smaller ones; every 8th image has none.
        n = 0 if i % 8 == 7 else (2 if rng.uniform() < 0.25 else 1)
        for _ in range(n):
            side = int(rng.uniform(28, 56) if n == 2 else rng.uniform(40, 96))
            paste_face(rng, canvas, faces[int(rng.integers(len(faces)))], side)
        yield canvas


# ---- text ----------------------------------------------------------------------------------------

def word_list(which):
    """Evaluation and calibration draw from different halves of the vocabulary."""
    return WORDS[0::2] if which == "eval" else WORDS[1::2]


def make_text(rng, which, count):
    photos = [photo(n) for n in PHOTOS[which]["text"]]
    words = word_list(which)
    for _ in range(count):
        size = 640
        base = background(rng, photos, size)
        img = Image.fromarray(base)
        if rng.uniform() < 0.5:  # busy photos: blur so text stays the salient content
            img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(1.0, 3.0))))
        draw = ImageDraw.Draw(img)
        mean = float(np.asarray(img).mean())
        y = int(rng.integers(10, 60))
        while y < size - 40:
            px = int(rng.integers(14, 72))
            font = ImageFont.truetype(os.path.join(FONT_DIR, FONTS[int(rng.integers(len(FONTS)))]), px)
            line = " ".join(words[int(rng.integers(len(words)))] for _ in range(int(rng.integers(1, 6))))
            if rng.uniform() < 0.3:
                line = line.upper()
            x = int(rng.integers(5, size // 3))
            dark = mean > 110
            shade = int(rng.integers(0, 60)) if dark else int(rng.integers(200, 256))
            colour = tuple(int(np.clip(shade + d, 0, 255)) for d in rng.integers(-25, 26, 3))
            draw.text((x, y), line, font=font, fill=colour)
            y += int(px * rng.uniform(1.3, 2.6))
        yield np.asarray(img)


# ---- lines ---------------------------------------------------------------------------------------

def line_drawing(rng, size):
    light = rng.uniform() < 0.7
    bg = tuple(int(v) for v in (rng.integers(200, 256, 3) if light else rng.integers(0, 60, 3)))
    img = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(img)

    def ink():
        v = rng.integers(0, 80, 3) if light else rng.integers(180, 256, 3)
        return tuple(int(c) for c in v)

    for _ in range(int(rng.integers(3, 9))):
        kind = int(rng.integers(5))
        width = int(rng.integers(1, 5))
        if kind == 0:  # a segment
            p = rng.integers(0, size, 4)
            draw.line([int(c) for c in p], fill=ink(), width=width)
        elif kind == 1:  # a box
            x0, y0 = rng.integers(0, size - 60, 2)
            x1, y1 = x0 + rng.integers(40, size - x0), y0 + rng.integers(40, size - y0)
            draw.rectangle([int(x0), int(y0), int(x1), int(y1)], outline=ink(), width=width)
        elif kind == 2:  # a polygon
            c = rng.integers(60, size - 60, 2)
            r = rng.uniform(30, 100)
            k = int(rng.integers(3, 8))
            a = np.sort(rng.uniform(0, 2 * np.pi, k))
            pts = [(int(c[0] + r * np.cos(t)), int(c[1] + r * np.sin(t))) for t in a]
            draw.polygon(pts, outline=ink(), width=width)
        elif kind == 3:  # a grid (a window, tiles)
            x0, y0 = (int(v) for v in rng.integers(0, size // 2, 2))
            step = int(rng.integers(20, 50))
            n = int(rng.integers(2, 5))
            colour = ink()
            for j in range(n + 1):
                draw.line([x0 + j * step, y0, x0 + j * step, y0 + n * step], fill=colour, width=width)
                draw.line([x0, y0 + j * step, x0 + n * step, y0 + j * step], fill=colour, width=width)
        else:  # a box in perspective (a room corner, a building)
            cx, cy = (int(v) for v in rng.integers(80, size - 80, 2))
            w, h, d = (int(v) for v in rng.integers(30, 90, 3))
            front = [(cx - w, cy - h), (cx + w, cy - h), (cx + w, cy + h), (cx - w, cy + h)]
            back = [(x + d, y - d // 2) for x, y in front]
            colour = ink()
            draw.polygon(front, outline=colour, width=width)
            draw.polygon(back, outline=colour, width=width)
            for f, b in zip(front, back):
                draw.line([f, b], fill=colour, width=width)
    arr = np.asarray(img).astype(np.float64) + rng.normal(0, 3, (size, size, 3))
    return np.clip(arr, 0, 255).astype(np.uint8)


def make_lines(rng, which, count):
    photos = [photo(n) for n in PHOTOS[which]["lines"]]
    for i in range(count):
        if i % 2 == 0:
            yield line_drawing(rng, 320)
        else:
            yield photo_crop(rng, photos[(i // 2) % len(photos)], 320)


# ---- writing and checking ------------------------------------------------------------------------

MAKERS = {"faces": make_faces, "text": make_text, "lines": make_lines}


def save_png(path, arr):
    tmp = path + ".tmp"
    Image.fromarray(arr).save(tmp, format="PNG")
    os.replace(tmp, path)


def thumb(arr):
    """A coarse grey thumbnail: two images with equal thumbnails are near-copies."""
    grey = arr.astype(np.float64).mean(axis=-1)
    return np.round(resize(np.stack([grey] * 3, -1).astype(np.uint8), 16, 16)[..., 0] / 8.0)


def check_disjoint(dest, kind):
    seen = {}
    for which in ("eval", "calib"):
        folder = os.path.join(dest, which, kind)
        for name in sorted(os.listdir(folder)):
            arr = np.asarray(Image.open(os.path.join(folder, name)).convert("RGB"))
            for key in (hashlib.sha256(arr.tobytes()).hexdigest(), thumb(arr).tobytes()):
                other = seen.get(key)
                if other is not None and other[0] != which:
                    sys.exit(f"make_sets.py: {which}/{kind}/{name} repeats {other[0]}/{kind}/{other[1]}: "
                             "evaluation and calibration images must be disjoint")
                seen.setdefault(key, (which, name))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dest")
    ap.add_argument("--eval", type=int, default=32, help="evaluation images per model (default 32)")
    ap.add_argument("--calib", type=int, default=64, help="calibration images per model (default 64)")
    ap.add_argument("--kinds", default="faces,text,lines", help="which sets (default all three)")
    ap.add_argument("--check-only", action="store_true",
                    help="only check that DEST's evaluation and calibration images are disjoint")
    args = ap.parse_args()
    if args.check_only:
        for kind in args.kinds.split(","):
            check_disjoint(args.dest, kind)
        print(f"{args.dest}: evaluation and calibration images are disjoint")
        return
    # Sources must not overlap, whatever the seeds do.
    for kind in MAKERS:
        assert not set(PHOTOS["eval"][kind]) & set(PHOTOS["calib"][kind]), kind
    assert not set(word_list("eval")) & set(word_list("calib"))
    for kind in args.kinds.split(","):
        for which, count in (("eval", args.eval), ("calib", args.calib)):
            folder = os.path.join(args.dest, which, kind)
            os.makedirs(folder, exist_ok=True)
            for old in os.listdir(folder):
                if old.endswith(".png"):
                    os.remove(os.path.join(folder, old))
            # One generator per (kind, set): adding images to one set never changes another.
            rng = np.random.default_rng([SEEDS[which], list(MAKERS).index(kind)])
            for i, arr in enumerate(MAKERS[kind](rng, which, count)):
                save_png(os.path.join(folder, f"img_{i:03d}.png"), arr)
        check_disjoint(args.dest, kind)
        print(f"{kind}: {args.eval} evaluation and {args.calib} calibration images in "
              f"{args.dest}/{{eval,calib}}/{kind}")


if __name__ == "__main__":
    main()
