#!/usr/bin/python3
"""PyTorch side of the device check's benchmark: the same CLIP image tower, the same weights and shapes.

    python3 scripts/device/torch_bench.py --weights vit.safetensors [--batch 256] [--steps 5]
                                          [--device cuda|cpu] [--precision fp32|tf32]

The weights file is written by our side (ClipCheck bench --weights): OpenCLIP names under
"visual.", metadata xbt.heads and xbt.activation, and check.images / check.embeddings (a few images
and the embeddings our backend computed for them, before any training step). This script

  1. loads the tower into an OpenCLIP-layout torch module (conv1 without bias, class and positional
     embeddings, ln_pre, pre-LN blocks with fused in_proj and scaled_dot_product_attention, ln_post on
     the class token, proj) and compares its embeddings of check.images with ours;
  2. times image encoding at --batch (torch.inference_mode, 2 warm-ups, --steps timed batches);
  3. times one training step at --batch: the contrastive loss against fixed random "text" embeddings
     at logit scale 100, backward, AdamW with PyTorch's defaults (lr 1e-5, weight decay 0.01 on
     matrices only, as our ParameterSet does).

It prints key=value lines (torch.* keys) for scripts/device-check to collect. FP32 is the default:
TF32 is switched off for matmuls and cuDNN so that both sides do the same arithmetic; --precision
tf32 switches it on (compare with our xbt.cuda.precision=tf32). Needs only torch (the safetensors
file is read here, not with the safetensors package).
"""
import argparse
import json
import math
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "F16": torch.float16, "BF16": torch.bfloat16}
LOGIT_SCALE = 100.0


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[a:b]), dtype=DTYPES[info["dtype"]]) if b > a else torch.empty(0)
        out[name] = t.reshape(info["shape"]).clone()
    return out, meta


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    def __init__(self, width, heads, act):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width, eps=1e-5)
        self.attn = nn.Module()
        self.attn.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.attn.in_proj_bias = nn.Parameter(torch.empty(3 * width))
        self.attn.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width, eps=1e-5)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", QuickGELU() if act == "quick_gelu" else nn.GELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))

    def attention(self, x):
        b, t, w = x.shape
        h = self.heads
        qkv = F.linear(x, self.attn.in_proj_weight, self.attn.in_proj_bias)
        q, k, v = qkv.reshape(b, t, 3, h, w // h).permute(2, 0, 3, 1, 4).unbind(0)  # [B, H, T, Dh] each
        if hasattr(F, "scaled_dot_product_attention"):
            o = F.scaled_dot_product_attention(q, k, v)
        else:  # torch < 2.0 (the CPU test here)
            o = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(w // h), dim=-1) @ v
        return self.attn.out_proj(o.transpose(1, 2).reshape(b, t, w))

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class VisionTower(nn.Module):
    """OpenCLIP's VisionTransformer (batch-first), parameter names as its state dict under visual."""

    def __init__(self, sd, heads, act):
        super().__init__()
        width, _, patch, _ = sd["conv1.weight"].shape
        tokens = sd["positional_embedding"].shape[0]
        layers = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("transformer.resblocks."))
        self.grid = int(round(math.sqrt(tokens - 1)))
        self.image_size = self.grid * patch
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(width))
        self.positional_embedding = nn.Parameter(torch.empty(tokens, width))
        self.ln_pre = nn.LayerNorm(width, eps=1e-5)
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.ModuleList([Block(width, heads, act) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width, eps=1e-5)
        self.proj = nn.Parameter(torch.empty(sd["proj"].shape))
        self.load_state_dict(sd, strict=True)

    def forward(self, x):
        x = self.conv1(x).flatten(2).transpose(1, 2)  # [B, g*g, W]
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        for blk in self.transformer.resblocks:
            x = blk(x)
        return self.ln_post(x[:, 0, :]) @ self.proj


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", required=True, help="safetensors file written by ClipCheck bench --weights")
    ap.add_argument("--batch", type=int, default=256, help="images per batch (default 256)")
    ap.add_argument("--steps", type=int, default=5, help="timed encoding batches; training steps are min(steps, 3)")
    ap.add_argument("--device", default="cuda", help="cuda or cpu (default cuda)")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "tf32"], help="matmul arithmetic (default fp32)")
    ap.add_argument("--profile", action="store_true",
                    help="then print PyTorch's profile (GPU time per operator) of one encoding and one step")
    a = ap.parse_args()
    if a.batch <= 0 or a.steps <= 0:
        print("torch_bench: --batch and --steps must be positive", file=sys.stderr)
        return 2
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("torch_bench: CUDA is not available to PyTorch here", file=sys.stderr)
        return 2
    tf32 = a.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32

    tensors, meta = read_safetensors(a.weights)
    sd = {k[len("visual."):]: v for k, v in tensors.items() if k.startswith("visual.")}
    model = VisionTower(sd, int(meta["xbt.heads"]), meta.get("xbt.activation", "quick_gelu")).to(device)
    print(f"torch.version={torch.__version__}")
    print(f"torch.device={torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}")
    print(f"torch.precision={a.precision}")

    # 1. Same weights, same images: our embeddings against PyTorch's.
    with torch.inference_mode():
        ours = tensors["check.embeddings"].to(device)
        theirs = model(tensors["check.images"].to(device))
        rel = ((theirs - ours).abs() / (1 + ours.abs())).max().item()
    print(f"torch.parity.embeddings.max_rel={rel:.3g}")

    s, b = model.image_size, a.batch
    gen = torch.Generator(device="cpu").manual_seed(7)
    images = torch.randn(b, 3, s, s, generator=gen).to(device)

    # 2. Encoding throughput.
    with torch.inference_mode():
        for _ in range(2):
            model(images)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            model(images)
        sync(device)
        enc = (time.perf_counter() - t0) / a.steps
    print(f"torch.encode.batch={b}")
    print(f"torch.encode.seconds_per_batch={enc:.4f}")
    print(f"torch.encode.images_per_second={b / enc:.1f}")

    # 3. One training step.
    targets = F.normalize(torch.randn(b, sd["proj"].shape[1], generator=gen), dim=-1).to(device)
    labels = torch.arange(b, device=device)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-5, betas=(0.9, 0.999), eps=1e-8)

    def step():
        opt.zero_grad(set_to_none=False)
        logits = LOGIT_SCALE * F.normalize(model(images), dim=-1) @ targets.t()
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        opt.step()
        return loss

    first = step().item()
    steps = max(1, min(a.steps, 3))
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = step()
    sync(device)
    tr = (time.perf_counter() - t0) / steps
    print(f"torch.train.batch={b}")
    print(f"torch.train.seconds_per_step={tr:.4f}")
    print(f"torch.train.first_loss={first:.6f}")
    print(f"torch.train.last_loss={loss.item():.6f}")

    if a.profile:
        from torch.profiler import ProfilerActivity, profile
        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        for what, fn in (("encoding", lambda: model(images)), ("training step", step)):
            with torch.inference_mode(what == "encoding"), profile(activities=acts) as prof:
                fn()
                sync(device)
            key = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
            print(f"profile| torch {what}, batch {b}")
            for line in prof.key_averages().table(sort_by=key, row_limit=25).splitlines():
                print("profile| " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
