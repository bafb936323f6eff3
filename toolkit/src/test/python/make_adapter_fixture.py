#!/usr/bin/python3
"""Writes the adapter fixture for AdapterParityTest (toolkit/src/test/java/dev/xbt/adapters).

Run from anywhere (PyTorch only; Debian's python3-torch is enough):

    /usr/bin/python3 toolkit/src/test/python/make_adapter_fixture.py [output-dir]

The default output directory is toolkit/src/test/resources/adapters/. Deterministic: rerunning gives
the same bytes.

Base model: the CLIP parity fixture's (make_clip_parity_fixture.py, imported from this folder): the
same seed and draws, so its weights are exactly those of resources/parity/clip_parity_openclip.safetensors
(checked below by reading that file back), QuickGELU, the same 3 images and 4 token rows.

Adapters, written here as plain float64 tensor functions (not torch.nn modules, and not derived from
the Java code):

  LoRA    delta(x) = (alpha/r) * (x @ A.T) @ B.T, r = 3, alpha = 5, A and B random (B not zero, so the
          adapters change the outputs). Vision tower: q_proj, v_proj (rows [0, W) and [2W, 3W) of the
          fused in_proj), out_proj and c_fc in layers 1 and 2 of 3. Text tower: k_proj and c_proj in
          both layers.
  VPT     deep, 2 tokens: prompt 0 goes in after the class token once the positional embedding has been
          added (before ln_pre); prompt i replaces those two positions at the input of block i.
  CoOp    3 text context vectors after the start token; each row is cut to 16 - 3 tokens first,
          keeping its end token; pooling at the end token's new position.

The plain functional forward is first checked against the parity script's torch.nn CLIP (to 1e-12)
with no adapters, then run with them.

Files:
  peft/adapter_config.json          PEFT's LoRA fields plus xbt's (xbt_lora, xbt_prompts, ...), as
  peft/adapter_model.safetensors    the Java side documents them (dev/xbt/adapters/package-info.java)
  adapter_expected.safetensors      image_embeds [3, 40] and text_embeds [4, 40] of the adapted model
                                    (float64 reference, stored as float32), not normalised
"""
import hashlib
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_clip_parity_fixture as P  # noqa: E402

RANK, ALPHA = 3, 5.0
VPT_TOKENS, CONTEXT = 2, 3
VISION_LORA = {"layers": [1, 3], "targets": ["q_proj", "v_proj", "out_proj", "c_fc"]}
TEXT_LORA = {"layers": [0, 2], "targets": ["k_proj", "c_proj"]}
ADAPTER_SEED = 777


def lora_term(lora, name, x):
    if name not in lora:
        return 0.0
    a, b = lora[name]
    return (ALPHA / RANK) * (x @ a.t()) @ b.t()


def block(x, w, prefix, heads, causal, lora):
    """One pre-LN residual block, x [B, T, W]."""
    bsz, t, width = x.shape
    dh = width // heads
    h = F.layer_norm(x, (width,), w[prefix + "ln_1.weight"], w[prefix + "ln_1.bias"], P.LN_EPS)
    win, bin_ = w[prefix + "attn.in_proj_weight"], w[prefix + "attn.in_proj_bias"]
    parts = []
    for i, name in enumerate(["q_proj", "k_proj", "v_proj"]):
        rows = slice(i * width, (i + 1) * width)
        parts.append(h @ win[rows].t() + bin_[rows] + lora_term(lora, prefix + "attn." + name, h))
    q, k, v = (p.reshape(bsz, t, heads, dh).transpose(1, 2) for p in parts)  # [B, H, T, dh]
    scores = q @ k.transpose(-1, -2) / dh ** 0.5
    if causal:
        scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
    o = (scores.softmax(-1) @ v).transpose(1, 2).reshape(bsz, t, width)
    o = o @ w[prefix + "attn.out_proj.weight"].t() + w[prefix + "attn.out_proj.bias"] \
        + lora_term(lora, prefix + "attn.out_proj", o)
    x = x + o
    h = F.layer_norm(x, (width,), w[prefix + "ln_2.weight"], w[prefix + "ln_2.bias"], P.LN_EPS)
    h = h @ w[prefix + "mlp.c_fc.weight"].t() + w[prefix + "mlp.c_fc.bias"] + lora_term(lora, prefix + "mlp.c_fc", h)
    h = h * torch.sigmoid(1.702 * h)  # QuickGELU
    return x + h @ w[prefix + "mlp.c_proj.weight"].t() + w[prefix + "mlp.c_proj.bias"] \
        + lora_term(lora, prefix + "mlp.c_proj", h)


def encode_image(w, images, lora, prompts):
    v = P.CONFIG["vision_cfg"]
    width = v["width"]
    x = F.conv2d(images, w["visual.conv1.weight"], stride=v["patch_size"])
    x = x.reshape(x.shape[0], width, -1).transpose(1, 2)
    cls = w["visual.class_embedding"].expand(x.shape[0], 1, width)
    x = torch.cat([cls, x], 1) + w["visual.positional_embedding"]
    if prompts:
        x = torch.cat([x[:, :1], prompts[0].expand(x.shape[0], -1, -1), x[:, 1:]], 1)
    x = F.layer_norm(x, (width,), w["visual.ln_pre.weight"], w["visual.ln_pre.bias"], P.LN_EPS)
    for i in range(v["layers"]):
        if prompts and i > 0:
            n = prompts[i].shape[0]
            x = torch.cat([x[:, :1], prompts[i].expand(x.shape[0], -1, -1), x[:, 1 + n:]], 1)
        x = block(x, w, f"visual.transformer.resblocks.{i}.", v["heads"], False, lora)
    x = F.layer_norm(x[:, 0], (width,), w["visual.ln_post.weight"], w["visual.ln_post.bias"], P.LN_EPS)
    return x @ w["visual.proj"]


def encode_text(w, tokens, lora, context):
    t = P.CONFIG["text_cfg"]
    width, ctx = t["width"], t["context_length"]
    m = 0 if context is None else context.shape[0]
    rows, pool = [], []
    for row in tokens.tolist():
        end = max(range(ctx), key=lambda j: (row[j], -j))  # the first highest id: the end token
        cut = row[:ctx - m]
        if end >= ctx - m:
            cut[-1] = row[end]
            end = ctx - m - 1
        e = w["token_embedding.weight"][torch.tensor(cut)]
        if m:
            e = torch.cat([e[:1], context, e[1:]], 0)
        rows.append(e)
        pool.append(end + m)
    x = torch.stack(rows) + w["positional_embedding"]
    for i in range(t["layers"]):
        x = block(x, w, f"transformer.resblocks.{i}.", t["heads"], True, lora)
    x = F.layer_norm(x, (width,), w["ln_final.weight"], w["ln_final.bias"], P.LN_EPS)
    return x[torch.arange(x.shape[0]), torch.tensor(pool)] @ w["text_projection"]


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        lo, hi = info["data_offsets"]
        data = bytearray(blob[8 + n + lo:8 + n + hi])
        out[name] = torch.frombuffer(data, dtype=torch.float32).reshape(info["shape"]).double()
    return out


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    here = os.path.dirname(os.path.abspath(__file__))
    gen = torch.Generator().manual_seed(P.SEED)
    w = P.random_weights(P.CLIP(P.CONFIG, "quick_gelu"), gen)
    images, tokens = P.inputs(gen)
    stored = read_safetensors(os.path.join(here, "..", "resources", "parity", "clip_parity_openclip.safetensors"))
    assert sorted(stored) == sorted(w) and all(torch.equal(stored[k], w[k]) for k in w), "parity base weights differ"

    with torch.no_grad():
        ref = P.load(P.CLIP(P.CONFIG, "quick_gelu"), w, torch.float64)
        plain_i, plain_t = encode_image(w, images, {}, []), encode_text(w, tokens, {}, None)
        assert (plain_i - ref.encode_image(images)).abs().max() < 1e-12
        assert (plain_t - ref.encode_text(tokens)).abs().max() < 1e-12

        g = torch.Generator().manual_seed(ADAPTER_SEED)
        tensors, lora, modules = {}, {}, []
        for tower, spec, cfg in [("visual.", VISION_LORA, P.CONFIG["vision_cfg"]), ("", TEXT_LORA, P.CONFIG["text_cfg"])]:
            width = cfg["width"]
            dims = {"q_proj": (width, width), "k_proj": (width, width), "v_proj": (width, width),
                    "out_proj": (width, width), "c_fc": (width, width * cfg["mlp_ratio"]),
                    "c_proj": (width * cfg["mlp_ratio"], width)}
            for layer in range(*spec["layers"]):
                for target in spec["targets"]:
                    module = f"{tower}transformer.resblocks.{layer}.{'mlp' if target.startswith('c_') else 'attn'}.{target}"
                    fan_in, fan_out = dims[target]
                    a = P.f32(torch.randn(RANK, fan_in, generator=g, dtype=torch.float64) * fan_in ** -0.5)
                    b = P.f32(torch.randn(fan_out, RANK, generator=g, dtype=torch.float64) * 0.3)
                    lora[module] = (a, b)
                    modules.append(module)
                    tensors[f"base_model.model.{module}.lora_A.weight"] = a.float()
                    tensors[f"base_model.model.{module}.lora_B.weight"] = b.float()
        vw = P.CONFIG["vision_cfg"]["width"]
        prompts = [P.f32(torch.randn(VPT_TOKENS, vw, generator=g, dtype=torch.float64) * 0.5)
                   for _ in range(P.CONFIG["vision_cfg"]["layers"])]
        tensors["visual.prompt_embeddings"] = prompts[0].float()
        for i in range(1, len(prompts)):
            tensors[f"visual.transformer.resblocks.{i}.prompt_embeddings"] = prompts[i].float()
        context = P.f32(torch.randn(CONTEXT, P.CONFIG["text_cfg"]["width"], generator=g, dtype=torch.float64) * 0.3)
        tensors["prompt_embeddings"] = context.float()

        image_embeds = encode_image(w, images, lora, prompts)
        text_embeds = encode_text(w, tokens, lora, context)
        assert (image_embeds - plain_i).abs().max() > 1e-2 and (text_embeds - plain_t).abs().max() > 1e-2

    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "resources", "adapters")
    os.makedirs(os.path.join(out, "peft"), exist_ok=True)
    weights_blob = P.safetensors_bytes(tensors, {"format": "pt"})
    P.write(os.path.join(out, "peft"), "adapter_model.safetensors", weights_blob)
    v, t = P.CONFIG["vision_cfg"], P.CONFIG["text_cfg"]
    config = {
        "peft_type": "LORA", "task_type": None, "base_model_name_or_path": None, "revision": None,
        "inference_mode": True, "r": RANK, "lora_alpha": ALPHA, "lora_dropout": 0.0, "target_modules": modules,
        "bias": "none", "fan_in_fan_out": False, "init_lora_weights": True, "use_rslora": False,
        "modules_to_save": None,
        "xbt_format": 1,
        "xbt_lora": {"visual": VISION_LORA, "text": TEXT_LORA},
        "xbt_prompts": {"visual_tokens": VPT_TOKENS, "visual_deep": True, "text_context_tokens": CONTEXT},
        "xbt_base_contract": None,
        "xbt_base_config": {
            "embed_dim": P.CONFIG["embed_dim"], "activation": "quick_gelu",
            "vision": {k: v[k] for k in ["image_size", "patch_size", "width", "layers", "heads", "mlp_ratio"]},
            "text": {k: t[k] for k in ["context_length", "vocab_size", "width", "layers", "heads", "mlp_ratio"]},
        },
        "xbt_weights_sha256": hashlib.sha256(weights_blob).hexdigest(),
    }
    P.write(os.path.join(out, "peft"), "adapter_config.json", (json.dumps(config, indent=2) + "\n").encode("utf-8"))
    expected = {"image_embeds": image_embeds.float(), "text_embeds": text_embeds.float()}
    meta = {"generator": "toolkit/src/test/python/make_adapter_fixture.py",
            "base": "resources/parity/clip_parity_openclip.safetensors, QuickGELU",
            "torch": torch.__version__.split("+")[0]}
    P.write(out, "adapter_expected.safetensors", P.safetensors_bytes(expected, meta))


if __name__ == "__main__":
    main()
