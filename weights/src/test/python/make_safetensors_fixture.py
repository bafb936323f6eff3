#!/usr/bin/python3
"""Writes weights/src/test/resources/safetensors/torch_fixture.safetensors.

The file is assembled by hand from the safetensors specification (the `safetensors` Python package is not
needed): an 8-byte little-endian header length, the JSON header padded with spaces to a multiple of 8, then the
raw little-endian tensor bytes. Values come from torch, so F16 and BF16 carry torch's own rounding; for those the
file also holds torch's float32 widening of the rounded values ("*_as_f32") for the Java test to compare with.

The header lists tensors in one order while the data section is laid out in another (largest dtype first, like
the reference writer), so a reader must not confuse the two.

Usage: /usr/bin/python3 weights/src/test/python/make_safetensors_fixture.py [output-path]
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def raw_bytes(t: torch.Tensor) -> bytes:
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        # numpy has no bfloat16: reinterpret the 16-bit patterns as int16.
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def source_values() -> torch.Tensor:
    vals = []
    for i in range(48):
        # Spread over magnitudes so both the F16 subnormal/overflow ranges and BF16 rounding are exercised.
        vals.append(math.sin(1.7 * i + 0.3) * 10.0 ** ((i % 9) - 4))
    # Exact ties for BF16 (round half to even) and F16, plus the edges of F16's range.
    vals += [1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11,
             65504.0, 65519.0, 65520.0, 1e-8, 6e-8, -0.0, float("inf"), float("-inf"), float("nan"),
             3.4e38, 1e-40]
    return torch.tensor(vals, dtype=torch.float32)


def build():
    src = source_values()
    f16 = src.to(torch.float16)
    bf16 = src.to(torch.bfloat16)
    matrix = (torch.arange(12, dtype=torch.float32) * 0.25 - 1.0).reshape(3, 4)
    cube = (torch.arange(24, dtype=torch.float32) * 0.37 - 4.0).reshape(2, 3, 4).to(torch.bfloat16)
    tensors = {  # header order
        "text.matrix": matrix,
        "source": src,
        "source.f16": f16,
        "source.f16_as_f32": f16.to(torch.float32),
        "source.bf16": bf16,
        "source.bf16_as_f32": bf16.to(torch.float32),
        "cube.bf16": cube,
        "cube.bf16_as_f32": cube.to(torch.float32),
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "empty": torch.zeros(0, dtype=torch.float32),
        "empty2d.f16": torch.zeros(2, 0, dtype=torch.float16),
        "counts": torch.tensor([-3, 0, 7, 2 ** 40 + 1, -(2 ** 53)], dtype=torch.int64),
        "flags": torch.tensor([True, False, False, True]),
        "bytes": torch.tensor([0, 127, 255], dtype=torch.uint8),
        "doubles": torch.tensor([0.1, -1e300, 2.5], dtype=torch.float64),
    }
    # Data layout: largest element size first, then by name (like the reference writer).
    layout = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    header = {"__metadata__": {"format": "pt", "generator": "make_safetensors_fixture.py"}}
    offset = 0
    blobs = {}
    for name in layout:
        blobs[name] = raw_bytes(tensors[name])
    entries = {}
    for name in layout:
        t = tensors[name]
        entries[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                         "data_offsets": [offset, offset + len(blobs[name])]}
        assert len(blobs[name]) == t.numel() * t.element_size()
        offset += len(blobs[name])
    for name in tensors:  # header in the dict's order, not the layout's
        header[name] = entries[name]
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs[n] for n in layout)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "resources", "safetensors", "torch_fixture.safetensors")
    out = os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else default)
    data = build()
    with open(out, "wb") as f:
        f.write(data)
    print(f"wrote {out} ({len(data)} bytes, torch {torch.__version__}, numpy {np.__version__})")


if __name__ == "__main__":
    main()
