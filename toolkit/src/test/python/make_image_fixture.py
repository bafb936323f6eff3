#!/usr/bin/python3
"""Creates the image fixtures of dev.xbt.image's tests and what PIL/torchvision make of them.

Run with Debian's python3 (PIL 9.4, numpy, torch; torchvision optional but used when present):

    /usr/bin/python3 toolkit/src/test/python/make_image_fixture.py [OUT_DIR]

OUT_DIR defaults to toolkit/src/test/resources/images. Everything is deterministic: the pictures are
computed from formulas (no random generator state), so rerunning rewrites the same bytes as long as PIL
and its codecs (zlib, libjpeg) do not change.

It writes

  * small test pictures of every kind the loader must handle (PNG with alpha, grey PNG, grey+alpha PNG,
    16-bit RGB PNG, palette GIF with a transparent index, JPEG, 24-bit BMP) in odd sizes;
  * expected.bin.gz, the expectations in the container described below, gzip-compressed.

expected.bin (inside expected.bin.gz): little-endian, no padding anywhere.

    magic   8 bytes  b"XBTIMGF1"
    count   uint32   number of records
    count times:
        name_len uint16, name (UTF-8, name_len bytes)
        dtype    uint8    1 = uint8, 2 = float32 (IEEE 754, little-endian)
        ndim     uint8
        dims     ndim x uint32
        data     prod(dims) x itemsize bytes, C order

Record names:

  <file>/rgb               uint8 [H, W, 3]  PIL's decode, made RGB: convert("RGB"), except that pictures
                                           with alpha (or a transparent palette index) are composited onto
                                           white with Image.alpha_composite (what ImageLoader does).
                                           For the JPEG this is libjpeg's decode (the Java side only checks
                                           its own decode against it within a tolerance).
  <file>/resize32          uint8 [h, w, 3]  torchvision Resize(32, BICUBIC) of <file>/rgb (PIL resize)
  <file>/resize48.sha256   uint8 [32]       SHA-256 of Resize(48, BICUBIC)'s bytes (HWC)
  <file>/crop<S>           uint8 [S, S, 3]  then CenterCrop(S)
  <file>/tensor32          float32 [3, 32, 32] Resize, CenterCrop, ToTensor, Normalize(OpenAI mean/std)
  synthetic/<W>x<H>/m<M>/s<S>/resize.sha256  uint8 [32]  SHA-256 of the resized bytes (HWC) of a
  synthetic/<W>x<H>/m<M>/s<S>/crop.sha256    uint8 [32]  computed picture (see synthetic() below; the
  synthetic/<W>x<H>/m<M>/s<S>/tensor.sha256  uint8 [32]  Java test computes the same picture), of its
                                                        crop, and of the float32 tensor's LE bytes.
"""
import gzip
import hashlib
import io
import os
import struct
import sys
import zlib

import numpy as np
import torch
from PIL import Image

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
SIZES = (32, 48)
TENSOR_SIZE = 32  # resized pictures and float tensors are stored in full for this size only

try:  # the real thing, when installed (apt-get install python3-torchvision)
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF

    def tv_resize(im, size):
        return TF.resize(im, size, interpolation=InterpolationMode.BICUBIC)

    def tv_center_crop(im, size):
        return TF.center_crop(im, size)

    TORCHVISION = True
except ImportError:  # the same two steps, written from torchvision's documented arithmetic
    def tv_resize(im, size):
        w, h = im.size
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(size * long / short)
        new_w, new_h = (size, new_long) if w <= h else (new_long, size)
        if (new_w, new_h) == (w, h):
            return im
        return im.resize((new_w, new_h), Image.BICUBIC)

    def tv_center_crop(im, size):
        w, h = im.size
        top = int(round((h - size) / 2.0))
        left = int(round((w - size) / 2.0))
        return im.crop((left, top, left + size, top + size))

    TORCHVISION = False


def sha256(data):
    return np.frombuffer(hashlib.sha256(data).digest(), np.uint8)


def to_tensor_normalised(im):
    """ToTensor + Normalize exactly as torchvision does them on a PIL image (float32 throughout)."""
    x = torch.from_numpy(np.array(im, np.uint8, copy=True)).permute(2, 0, 1).contiguous()
    x = x.to(torch.float32).div(255)
    mean = torch.as_tensor(MEAN, dtype=torch.float32)[:, None, None]
    std = torch.as_tensor(STD, dtype=torch.float32)[:, None, None]
    return x.sub(mean).div(std).numpy()


def to_rgb(im):
    """PIL picture -> RGB, compositing anything with alpha (or a transparent index) onto white."""
    has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
    if not has_alpha:
        return im.convert("RGB")
    rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


# ---- deterministic pictures ------------------------------------------------------------------------

def mix(i):
    """A 32-bit integer hash (uint32 numpy arithmetic); the Java test has the same function."""
    h = (i.astype(np.uint64) * np.uint64(0x9E3779B1)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x85EBCA77)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE3D)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    return h


def synthetic(w, h, mode):
    """uint8 [h, w, 3]. mode 0: diagonal ramps that wrap (hard edges) plus noise 0..63; mode 1: pure noise;
    mode 2: smooth ramps only
    (R = x*255//(w-1), G = y*255//(h-1), B = (x+y)*255//(w+h-2))."""
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    i = ((y * w + x) * 3 + c).astype(np.uint64)
    hv = mix(i)
    if mode == 0:
        v = (x * 5 + y * 3 + c * 85 + (hv >> np.uint64(26)).astype(np.int64)) & 255
    elif mode == 1:
        v = (hv >> np.uint64(24)).astype(np.int64)
    else:
        r = x * 255 // max(w - 1, 1)
        g = y * 255 // max(h - 1, 1)
        b = (x + y) * 255 // max(w + h - 2, 1)
        v = np.where(c == 0, r, np.where(c == 1, g, b))
    return v.astype(np.uint8)


def picture(w, h):
    """A smooth, photo-like RGB picture with a few hard edges, uint8 [h, w, 3]."""
    y, x = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    r = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 11.0)
    g = 255.0 * x / max(w - 1, 1)
    b = 255.0 * y / max(h - 1, 1)
    rgb = np.stack([r, g, b], -1)
    box = (np.abs(x - w * 0.6) < w * 0.15) & (np.abs(y - h * 0.4) < h * 0.2)
    rgb[box] = (250, 30, 20)
    noise = (mix(np.arange(h * w * 3, dtype=np.uint64)).reshape(h, w, 3) >> np.uint64(28)).astype(np.float64)
    return np.clip(np.rint(rgb + noise - 8), 0, 255).astype(np.uint8)


def png16(path, rgb16):
    """A 16-bit RGB PNG written by hand (PIL cannot write one)."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\x00" + rgb16[r].astype(">u2").tobytes() for r in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def make_pictures(out):
    files = []

    # RGBA PNG, 97x61: opaque left part, an alpha ramp, fully transparent and noisy alpha on the right
    rgb = picture(97, 61)
    xs = np.arange(97)[None, :].repeat(61, 0)
    alpha = np.where(xs < 30, 255, np.clip((xs - 30) * 8, 0, 255))
    alpha = np.where(xs >= 70, (mix(np.arange(61 * 97, dtype=np.uint64)).reshape(61, 97) >> np.uint64(24)), alpha)
    alpha[:, 60:66] = 0
    Image.fromarray(np.dstack([rgb, alpha.astype(np.uint8)]), "RGBA").save(os.path.join(out, "rgba_97x61.png"))
    files.append("rgba_97x61.png")

    # grey PNG, 300x40
    grey = picture(300, 40)[..., 0]
    Image.fromarray(grey, "L").save(os.path.join(out, "gray_300x40.png"))
    files.append("gray_300x40.png")

    # grey + alpha PNG, 20x50
    la = np.dstack([picture(20, 50)[..., 1], np.linspace(0, 255, 20 * 50).reshape(50, 20).astype(np.uint8)])
    Image.fromarray(la, "LA").save(os.path.join(out, "la_20x50.png"))
    files.append("la_20x50.png")

    # palette GIF, 31x200, index 0 transparent
    pal = []
    for k in range(64):
        pal += [(k * 4) & 255, (k * 37) & 255, 255 - k * 4]
    idx = (picture(31, 200)[..., 0] // 4).astype(np.uint8)
    idx[50:70, 5:20] = 0
    p = Image.fromarray(idx, "P")
    p.putpalette(pal)
    p.save(os.path.join(out, "palette_31x200.gif"), transparency=0, optimize=False)
    files.append("palette_31x200.gif")

    # JPEG, 97x61, quality 90, 4:2:0
    Image.fromarray(picture(97, 61), "RGB").save(os.path.join(out, "photo_97x61.jpg"), quality=90)
    files.append("photo_97x61.jpg")

    # 24-bit BMP, 45x33 (rows need padding)
    Image.fromarray(synthetic(45, 33, 0), "RGB").save(os.path.join(out, "rgb_45x33.bmp"))
    files.append("rgb_45x33.bmp")

    # 16-bit RGB PNG, 40x30
    v = synthetic(40, 30, 0).astype(np.uint32)
    lo = (mix(np.arange(40 * 30 * 3, dtype=np.uint64) + np.uint64(7)).reshape(30, 40, 3) & np.uint64(255))
    png16(os.path.join(out, "rgb16_40x30.png"), (v * 256 + lo.astype(np.uint32)).astype(np.uint16))
    files.append("rgb16_40x30.png")
    return files


SYNTHETIC = [  # (w, h, mode, size)
    (640, 480, 0, 224), (640, 480, 1, 224), (480, 640, 2, 224), (1920, 1080, 0, 224), (500, 375, 1, 336),
    (333, 211, 0, 224), (97, 61, 1, 224), (50, 40, 0, 224), (224, 224, 1, 224), (225, 224, 1, 224),
    (300, 299, 0, 298), (1000, 10, 1, 32), (10, 1000, 0, 32), (257, 129, 2, 64), (31, 200, 1, 48),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "resources", "images")
    os.makedirs(out, exist_ok=True)
    records = []

    def add(name, arr):
        arr = np.ascontiguousarray(arr)
        dtype = {np.dtype(np.uint8): 1, np.dtype(np.float32): 2}[arr.dtype]
        records.append((name, dtype, arr.shape, arr.astype(arr.dtype.newbyteorder("<")).tobytes()))

    for f in make_pictures(out):
        with Image.open(os.path.join(out, f)) as im:
            im.load()
            rgb = to_rgb(im)
        add(f + "/rgb", np.asarray(rgb))
        for s in SIZES:
            resized = tv_resize(rgb, s)
            crop = tv_center_crop(resized, s)
            if s == TENSOR_SIZE:
                add(f"{f}/resize{s}", np.asarray(resized))
            else:
                add(f"{f}/resize{s}.sha256", sha256(np.asarray(resized).tobytes()))
            add(f"{f}/crop{s}", np.asarray(crop))
            if s == TENSOR_SIZE:
                add(f"{f}/tensor{s}", to_tensor_normalised(crop))

    for w, h, mode, s in SYNTHETIC:
        rgb = Image.fromarray(synthetic(w, h, mode), "RGB")
        resized = tv_resize(rgb, s)
        crop = tv_center_crop(resized, s)
        tensor = to_tensor_normalised(crop)
        base = f"synthetic/{w}x{h}/m{mode}/s{s}/"
        for what, data in (("resize", np.asarray(resized).tobytes()), ("crop", np.asarray(crop).tobytes()),
                           ("tensor", tensor.astype("<f4").tobytes())):
            add(base + what + ".sha256", sha256(data))

    buf = io.BytesIO()
    buf.write(b"XBTIMGF1" + struct.pack("<I", len(records)))
    for name, dtype, shape, data in records:
        nb = name.encode("utf-8")
        buf.write(struct.pack("<H", len(nb)) + nb + struct.pack("<BB", dtype, len(shape)))
        buf.write(struct.pack("<%dI" % len(shape), *shape))
        buf.write(data)
    with open(os.path.join(out, "expected.bin.gz"), "wb") as f:
        # mtime 0 and no file name: the same bytes on every run
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as gz:
            gz.write(buf.getvalue())
    print(f"{len(records)} records, expected.bin {buf.tell()} bytes, torchvision {'yes' if TORCHVISION else 'no'}")


if __name__ == "__main__":
    main()
