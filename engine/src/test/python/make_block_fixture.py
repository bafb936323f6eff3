#!/usr/bin/python3
"""Writes the PyTorch reference fixture for BlockFixtureTest (engine/src/test/java/dev/xbt/engine).

Run from the repository root (it needs PyTorch; Debian's python3-torch is enough):

    /usr/bin/python3 engine/src/test/python/make_block_fixture.py

which (re)writes engine/src/test/resources/fixtures/clip_block.xbtfix. The output is
deterministic: rerunning gives the same bytes (one thread, fixed seeds, float64 math, sorted JSON).

What it computes
----------------
One pre-LN transformer block shaped like CLIP's ResidualAttentionBlock, built from torch.nn
modules (torch's own math, not a re-derivation):

    h   = x + attn(ln_1(x))                       attn: nn.MultiheadAttention(batch_first=True)
    out = h + c_proj(gelu(c_fc(ln_2(h))))         gelu: nn.GELU() (exact erf)

with width W = 32, 4 heads (head dim 8), MLP width 4W, LayerNorm eps 1e-5. The parameter names are
CLIP's state-dict names: ln_1.weight, ln_1.bias, attn.in_proj_weight [3W, W] (q, k, v stacked),
attn.in_proj_bias [3W], attn.out_proj.weight [W, W], attn.out_proj.bias [W], ln_2.weight,
ln_2.bias, mlp.c_fc.weight [4W, W], mlp.c_fc.bias [4W], mlp.c_proj.weight [W, 4W],
mlp.c_proj.bias [W]. All linear weights are torch's [out, in]. (Width 64 would make the file about
1.4 MB; 32 keeps it under half a megabyte.)

Two cases share the initial parameters:
  text    x [3, 77, W] with CLIP's causal additive mask [77, 77] (0 on and below the diagonal,
          -inf above), as the text tower
  vision  x [3, 50, W] and no mask, as the vision tower

The loss of a case is  loss = sum(out * R)  with a fixed random projection R of out's shape (a sum,
not a mean). Parameters and inputs are drawn in float32 (so the stored values are exactly the ones
used), then everything is computed in float64 and rounded to float32 only when written.

AdamW: torch.optim.AdamW, lr 1e-3, betas (0.9, 0.999), eps 1e-8, two parameter groups: weight
decay 0.1 for tensors of rank >= 2 (the engine's ParameterSet.DECAY_MATRICES), 0 for the rest.
Starting from the initial parameters, each case runs 5 steps of: forward, record the loss,
backward, step. So the 5 recorded losses are the losses BEFORE each step (the first equals the
initial loss), and the parameters are written after the 5th step.

File format (XBTFIX01)
----------------------
    8 bytes   magic "XBTFIX01" (ASCII)
    4 bytes   header length L, little-endian uint32
    L bytes   header, UTF-8 JSON:
              {"meta": {...}, "tensors": {"name": {"offset": N, "shape": [...]}, ...}}
              offset N is in bytes from the start of the data section; sizes follow from shapes
    rest      data section: raw little-endian float32 values, row-major, tensors back to back

Tensor names (P stands for each parameter name above):
    param.P                    initial parameters (shared by both cases)
    C.x                        input, C in {text, vision}
    C.mask                     additive attention mask [T, T] (text only; contains -inf)
    C.R                        loss projection, shape of out
    C.out                      block output
    C.loss                     [1], sum(out * R)
    C.grad.x                   d loss / d x
    C.grad.P                   d loss / d P
    C.adamw.losses             [5], loss before each of the 5 AdamW steps
    C.adamw.param.P            parameters after the 5 steps
The meta object repeats the configuration and holds the float64 losses.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

MAGIC = b"XBTFIX01"
WIDTH = 32
HEADS = 4
BATCH = 3
EPS = 1e-5
LR, BETAS, ADAM_EPS, WEIGHT_DECAY, STEPS = 1e-3, (0.9, 0.999), 1e-8, 0.1, 5
SEED = 20240611
CASES = [("text", 77, True), ("vision", 50, False)]
PARAM_NAMES = [
    "ln_1.weight", "ln_1.bias",
    "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias",
    "ln_2.weight", "ln_2.bias",
    "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias",
]


class Block(nn.Module):
    """CLIP's ResidualAttentionBlock (pre-LN, fused in-projection, exact GELU)."""

    def __init__(self, width, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=EPS)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width, eps=EPS)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", nn.GELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))

    def forward(self, x, mask):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


def f32(t):
    """float32 values, as float64 (exactly representable)."""
    return t.float().double()


def initial_parameters(gen):
    w = WIDTH

    def randn(*shape, std=1.0, mean=0.0):
        return f32(mean + std * torch.randn(*shape, generator=gen, dtype=torch.float64))

    # Around CLIP's init scales, with non-trivial gains and biases so that their gradients matter.
    return {
        "ln_1.weight": randn(w, mean=1.0, std=0.2),
        "ln_1.bias": randn(w, std=0.1),
        "attn.in_proj_weight": randn(3 * w, w, std=w ** -0.5),
        "attn.in_proj_bias": randn(3 * w, std=0.05),
        "attn.out_proj.weight": randn(w, w, std=w ** -0.5),
        "attn.out_proj.bias": randn(w, std=0.05),
        "ln_2.weight": randn(w, mean=1.0, std=0.2),
        "ln_2.bias": randn(w, std=0.1),
        "mlp.c_fc.weight": randn(4 * w, w, std=w ** -0.5),
        "mlp.c_fc.bias": randn(4 * w, std=0.05),
        "mlp.c_proj.weight": randn(w, 4 * w, std=(4 * w) ** -0.5),
        "mlp.c_proj.bias": randn(w, std=0.05),
    }


def make_block(params):
    block = Block(WIDTH, HEADS).double()
    names = dict(block.named_parameters())
    assert sorted(names) == sorted(PARAM_NAMES), sorted(names)
    with torch.no_grad():
        for n, p in names.items():
            assert p.shape == params[n].shape, (n, p.shape, params[n].shape)
            p.copy_(params[n])
    return block, names


def run_case(name, seq, causal, params, gen, out):
    x = f32(torch.randn(BATCH, seq, WIDTH, generator=gen, dtype=torch.float64))
    r = f32(torch.randn(BATCH, seq, WIDTH, generator=gen, dtype=torch.float64))
    mask = None
    if causal:
        mask = torch.full((seq, seq), float("-inf"), dtype=torch.float64).triu(1)  # CLIP's build_attention_mask
    meta = {"batch": BATCH, "seq": seq, "causal": causal}

    # Forward and gradients at the initial parameters.
    block, names = make_block(params)
    xg = x.clone().requires_grad_(True)
    y = block(xg, mask)
    loss = (y * r).sum()
    loss.backward()
    out[f"{name}.x"] = x
    if mask is not None:
        out[f"{name}.mask"] = mask
    out[f"{name}.R"] = r
    out[f"{name}.out"] = y.detach()
    out[f"{name}.loss"] = loss.detach().reshape(1)
    out[f"{name}.grad.x"] = xg.grad
    for n in PARAM_NAMES:
        out[f"{name}.grad.{n}"] = names[n].grad
    meta["loss"] = loss.item()

    # Five AdamW steps from the same start.
    block, names = make_block(params)
    decay = [names[n] for n in PARAM_NAMES if names[n].dim() >= 2]
    no_decay = [names[n] for n in PARAM_NAMES if names[n].dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=BETAS, eps=ADAM_EPS)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = (block(x, mask) * r).sum()
        losses.append(loss.item())
        loss.backward()
        opt.step()
    assert losses[0] == meta["loss"], (losses[0], meta["loss"])
    out[f"{name}.adamw.losses"] = torch.tensor(losses, dtype=torch.float64)
    for n in PARAM_NAMES:
        out[f"{name}.adamw.param.{n}"] = names[n].detach()
    meta["adamw_losses"] = losses
    return meta


def encode(tensors, meta):
    header = {"meta": meta, "tensors": {}}
    data = bytearray()
    for n, t in tensors.items():
        a = t.detach().to(torch.float32).contiguous()
        header["tensors"][n] = {"offset": len(data), "shape": list(a.shape)}
        data += struct.pack("<%df" % a.numel(), *a.reshape(-1).tolist())
    h = json.dumps(header, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return MAGIC + struct.pack("<I", len(h)) + h + bytes(data)


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(SEED)
    params = initial_parameters(gen)
    tensors = {f"param.{n}": params[n] for n in PARAM_NAMES}
    meta = {
        "generator": "engine/src/test/python/make_block_fixture.py",
        "torch": torch.__version__.split("+")[0],
        "width": WIDTH, "heads": HEADS, "mlp_width": 4 * WIDTH, "ln_eps": EPS, "gelu": "erf",
        "loss": "sum(out * R)",
        "adamw": {"lr": LR, "beta1": BETAS[0], "beta2": BETAS[1], "eps": ADAM_EPS,
                  "weight_decay": WEIGHT_DECAY, "decay": "rank >= 2", "steps": STEPS,
                  "losses": "before each step"},
        "params": PARAM_NAMES,
        "cases": {},
    }
    for name, seq, causal in CASES:
        meta["cases"][name] = run_case(name, seq, causal, params, gen, tensors)
    blob = encode(tensors, meta)
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "resources", "fixtures", "clip_block.xbtfix")
    path = os.path.normpath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blob)
    print(f"wrote {path}: {len(blob)} bytes, {len(tensors)} tensors")
    for name, m in meta["cases"].items():
        print(f"  {name}: loss {m['loss']!r}, AdamW losses {m['adamw_losses']}")


if __name__ == "__main__":
    main()
