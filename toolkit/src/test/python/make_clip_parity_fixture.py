#!/usr/bin/python3
"""Writes the CLIP parity fixture for ClipParityTest (toolkit/src/test/java/dev/xbt/clip).

Run from anywhere (it needs PyTorch; Debian's python3-torch is enough, no `safetensors`,
`transformers` or `open_clip`):

    /usr/bin/python3 toolkit/src/test/python/make_clip_parity_fixture.py [output-dir]

The default output directory is toolkit/src/test/resources/parity/. Generation is deterministic
(one thread, fixed seed, float64 math, fixed JSON layout): rerunning gives the same bytes.

What it builds
--------------
A small CLIP of the OpenAI / OpenCLIP architecture (model.py), written here from torch.nn modules:

  vision   conv1 (no bias, stride = patch) -> [class_embedding; patches] + positional_embedding
           -> ln_pre -> pre-LN residual blocks -> ln_post on the class token -> @ proj [width, embed]
  block    x + attn(ln_1(x)), then + mlp(ln_2(x)); attn is nn.MultiheadAttention (fused
           in_proj_weight [3W, W], in_proj_bias, out_proj), mlp is c_fc -> activation -> c_proj
  text     token_embedding + positional_embedding -> causal blocks (additive -inf mask above the
           diagonal) -> ln_final -> the row at argmax(token ids) -> @ text_projection [width, embed]
  logits   exp(logit_scale) * normalize(image) @ normalize(text).T

and, independently, the same model the way Hugging Face's CLIPModel writes it (separate q/k/v
projections with the 1/sqrt(d) scale on q, explicit softmax attention, nn.Linear projections without
bias, registered int64 position_ids buffers). The Hugging Face state dict is made from the OpenCLIP
one by splitting in_proj into q/k/v and transposing the projections, loaded into that model with
strict=True, and both models must agree to 1e-12 in float64 before anything is written.

Sizes are small and deliberately unequal (see CONFIG): 40 px images in 8 px patches (a 5x5 grid,
26 tokens), vision width 32 with 4 heads and 3 layers, text context 16, vocabulary 500, text width
24 with 3 heads and 2 layers, embedding 40, MLP ratio 4, layer-norm eps 1e-5. Every weight is random
(seeded), including the layer-norm gains and biases and every bias, so that none of them can be
mapped wrongly without the outputs changing. The same weights are evaluated twice: with QuickGELU
(OpenAI's activation; what CONFIG's "quick_gelu": true says) and with exact (erf) GELU.

Inputs: 3 images [3, 3, 40, 40] (random normal: already normalised) and 4 token rows [4, 16]
(start of text = vocab - 2 = 498, end of text = vocab - 1 = 499 is the highest id, padding 0):
a short row, a row containing the real token id 0 before its end, a row filling the whole context
(end of text at position 15) and an empty text (start, end).

Parameters and inputs are drawn in float64 and rounded to float32, so the stored values are exactly
the ones used; the reference outputs are computed in float64 and rounded to float32 when written.
For comparison the same outputs are also computed with float32 torch (stored as "<act>.torch_f32.*";
their distance from the float64 values is recorded in the expectations' metadata).

Files (safetensors, assembled by hand from the format: 8-byte little-endian header length, compact
JSON header padded with spaces to a multiple of 8, raw little-endian data; tensors laid out and
listed as the reference writer does: wider dtypes first, then by name):

  clip_parity_openclip.safetensors  OpenCLIP / OpenAI state-dict names (visual.conv1.weight, ...,
                                    logit_scale of shape []); __metadata__: format "pt" and
                                    "clip_config", OpenCLIP's model-config JSON for this model
  clip_parity_hf.safetensors        Hugging Face CLIPModel state dict (vision_model.*, text_model.*,
                                    visual_projection.weight, text_projection.weight, logit_scale),
                                    including the int64 position_ids buffers; __metadata__: format "pt"
  clip_parity_expected.safetensors  images F32, tokens I64, and per activation A in {quick_gelu,
                                    gelu}: A.image_embeds [3, 40], A.text_embeds [4, 40] (not
                                    normalised), A.image_embeds_normalized, A.text_embeds_normalized,
                                    A.logits_per_image [3, 4], plus A.torch_f32.<same names>
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20250117
LN_EPS = 1e-5
N_IMAGES = 3
START, END = 498, 499  # vocab - 2, vocab - 1
CONFIG = {
    "embed_dim": 40,
    "vision_cfg": {"image_size": 40, "patch_size": 8, "width": 32, "layers": 3, "heads": 4, "mlp_ratio": 4},
    "text_cfg": {"context_length": 16, "vocab_size": 500, "width": 24, "heads": 3, "layers": 2, "mlp_ratio": 4},
    "quick_gelu": True,
}
ACTIVATIONS = ["quick_gelu", "gelu"]
AGREE_F64 = 1e-12  # the two torch implementations, float64


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


def activation(name):
    return QuickGELU() if name == "quick_gelu" else nn.GELU()


# ---------------------------------------------------------------------------------------------
# OpenAI / OpenCLIP layout (model.py): the names of its state dict are the names we write.
# ---------------------------------------------------------------------------------------------

class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads, mlp_ratio, act):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=LN_EPS)
        self.attn = nn.MultiheadAttention(width, heads)  # sequence-first (L, N, D), as OpenAI's
        self.ln_2 = nn.LayerNorm(width, eps=LN_EPS)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, width * mlp_ratio))
        self.mlp.add_module("gelu", activation(act))
        self.mlp.add_module("c_proj", nn.Linear(width * mlp_ratio, width))

    def forward(self, x, mask):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, mlp_ratio, act):
        super().__init__()
        self.resblocks = nn.ModuleList(
            [ResidualAttentionBlock(width, heads, mlp_ratio, act) for _ in range(layers)])

    def forward(self, x, mask=None):
        for b in self.resblocks:
            x = b(x, mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, image_size, patch_size, width, layers, heads, mlp_ratio, embed_dim, act):
        super().__init__()
        grid = image_size // patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(width))
        self.positional_embedding = nn.Parameter(torch.empty(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width, eps=LN_EPS)
        self.transformer = Transformer(width, layers, heads, mlp_ratio, act)
        self.ln_post = nn.LayerNorm(width, eps=LN_EPS)
        self.proj = nn.Parameter(torch.empty(width, embed_dim))

    def forward(self, x):
        x = self.conv1(x)                                    # [B, W, g, g]
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # [B, g*g, W]
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.ln_pre(x)
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)  # NLD -> LND -> NLD
        return self.ln_post(x[:, 0, :]) @ self.proj


class CLIP(nn.Module):
    def __init__(self, cfg, act):
        super().__init__()
        v, t = cfg["vision_cfg"], cfg["text_cfg"]
        e = cfg["embed_dim"]
        self.context_length = t["context_length"]
        self.visual = VisionTransformer(v["image_size"], v["patch_size"], v["width"], v["layers"], v["heads"],
                                        v["mlp_ratio"], e, act)
        self.transformer = Transformer(t["width"], t["layers"], t["heads"], t["mlp_ratio"], act)
        self.token_embedding = nn.Embedding(t["vocab_size"], t["width"])
        self.positional_embedding = nn.Parameter(torch.empty(t["context_length"], t["width"]))
        self.ln_final = nn.LayerNorm(t["width"], eps=LN_EPS)
        self.text_projection = nn.Parameter(torch.empty(t["width"], e))
        self.logit_scale = nn.Parameter(torch.ones([]))

    def attention_mask(self, dtype):
        # OpenAI's build_attention_mask: additive, -inf strictly above the diagonal.
        return torch.full((self.context_length, self.context_length), float("-inf"), dtype=dtype).triu(1)

    def encode_image(self, images):
        return self.visual(images)

    def encode_text(self, tokens):
        x = self.token_embedding(tokens) + self.positional_embedding         # [B, T, W]
        x = self.transformer(x.permute(1, 0, 2), self.attention_mask(x.dtype)).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)] @ self.text_projection

    def forward(self, images, tokens):
        i, t = self.encode_image(images), self.encode_text(tokens)
        i_n, t_n = i / i.norm(dim=-1, keepdim=True), t / t.norm(dim=-1, keepdim=True)
        return i, t, i_n, t_n, self.logit_scale.exp() * i_n @ t_n.t()


# ---------------------------------------------------------------------------------------------
# Hugging Face CLIPModel layout, an independent implementation of the same function.
# ---------------------------------------------------------------------------------------------

class HFAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.head_dim = heads, width // heads
        self.scale = self.head_dim ** -0.5
        # Hugging Face's declaration order.
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.q_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, causal):
        b, t, w = x.shape

        def heads(y):
            return y.view(b, t, self.heads, self.head_dim).transpose(1, 2)  # [B, H, T, Dh]

        q, k, v = heads(self.q_proj(x) * self.scale), heads(self.k_proj(x)), heads(self.v_proj(x))
        scores = q @ k.transpose(-1, -2)
        if causal:
            hidden = torch.ones(t, t, dtype=torch.bool).triu(1)
            scores = scores.masked_fill(hidden, torch.finfo(scores.dtype).min)
        o = scores.softmax(dim=-1) @ v
        return self.out_proj(o.transpose(1, 2).reshape(b, t, w))


class HFMLP(nn.Module):
    def __init__(self, width, mlp_ratio, act):
        super().__init__()
        self.activation_fn = activation(act)
        self.fc1 = nn.Linear(width, width * mlp_ratio)
        self.fc2 = nn.Linear(width * mlp_ratio, width)

    def forward(self, x):
        return self.fc2(self.activation_fn(self.fc1(x)))


class HFEncoderLayer(nn.Module):
    def __init__(self, width, heads, mlp_ratio, act):
        super().__init__()
        self.self_attn = HFAttention(width, heads)
        self.layer_norm1 = nn.LayerNorm(width, eps=LN_EPS)
        self.mlp = HFMLP(width, mlp_ratio, act)
        self.layer_norm2 = nn.LayerNorm(width, eps=LN_EPS)

    def forward(self, x, causal):
        x = x + self.self_attn(self.layer_norm1(x), causal)
        return x + self.mlp(self.layer_norm2(x))


class HFEncoder(nn.Module):
    def __init__(self, width, layers, heads, mlp_ratio, act):
        super().__init__()
        self.layers = nn.ModuleList([HFEncoderLayer(width, heads, mlp_ratio, act) for _ in range(layers)])

    def forward(self, x, causal):
        for layer in self.layers:
            x = layer(x, causal)
        return x


class HFVisionEmbeddings(nn.Module):
    def __init__(self, image_size, patch_size, width):
        super().__init__()
        positions = (image_size // patch_size) ** 2 + 1
        self.class_embedding = nn.Parameter(torch.empty(width))
        self.patch_embedding = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.position_embedding = nn.Embedding(positions, width)
        self.register_buffer("position_ids", torch.arange(positions).expand((1, -1)), persistent=True)

    def forward(self, pixels):
        b = pixels.shape[0]
        patches = self.patch_embedding(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(b, 1, -1), patches], dim=1)
        return x + self.position_embedding(self.position_ids)


class HFTextEmbeddings(nn.Module):
    def __init__(self, vocab, context, width):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.position_embedding = nn.Embedding(context, width)
        self.register_buffer("position_ids", torch.arange(context).expand((1, -1)), persistent=True)

    def forward(self, ids):
        return self.token_embedding(ids) + self.position_embedding(self.position_ids[:, :ids.shape[-1]])


class HFVisionTransformer(nn.Module):
    def __init__(self, v, act):
        super().__init__()
        self.embeddings = HFVisionEmbeddings(v["image_size"], v["patch_size"], v["width"])
        self.pre_layrnorm = nn.LayerNorm(v["width"], eps=LN_EPS)  # sic, Hugging Face's spelling
        self.encoder = HFEncoder(v["width"], v["layers"], v["heads"], v["mlp_ratio"], act)
        self.post_layernorm = nn.LayerNorm(v["width"], eps=LN_EPS)

    def forward(self, pixels):
        x = self.encoder(self.pre_layrnorm(self.embeddings(pixels)), causal=False)
        return self.post_layernorm(x[:, 0, :])


class HFTextTransformer(nn.Module):
    def __init__(self, t, act):
        super().__init__()
        self.embeddings = HFTextEmbeddings(t["vocab_size"], t["context_length"], t["width"])
        self.encoder = HFEncoder(t["width"], t["layers"], t["heads"], t["mlp_ratio"], act)
        self.final_layer_norm = nn.LayerNorm(t["width"], eps=LN_EPS)

    def forward(self, ids):
        x = self.final_layer_norm(self.encoder(self.embeddings(ids), causal=True))
        return x[torch.arange(x.shape[0]), ids.to(torch.int).argmax(dim=-1)]


class HFCLIPModel(nn.Module):
    def __init__(self, cfg, act):
        super().__init__()
        v, t, e = cfg["vision_cfg"], cfg["text_cfg"], cfg["embed_dim"]
        self.text_model = HFTextTransformer(t, act)
        self.vision_model = HFVisionTransformer(v, act)
        self.visual_projection = nn.Linear(v["width"], e, bias=False)
        self.text_projection = nn.Linear(t["width"], e, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(1.0))

    def forward(self, pixels, ids):
        i = self.visual_projection(self.vision_model(pixels))
        t = self.text_projection(self.text_model(ids))
        i_n, t_n = i / i.norm(p=2, dim=-1, keepdim=True), t / t.norm(p=2, dim=-1, keepdim=True)
        logits_per_text = self.logit_scale.exp() * t_n @ i_n.t()
        return i, t, i_n, t_n, logits_per_text.t()


def openclip_to_hf(sd):
    """OpenCLIP state dict -> Hugging Face CLIPModel parameter names (buffers come from the model)."""
    out = {}
    fixed = {
        "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
        "visual.class_embedding": "vision_model.embeddings.class_embedding",
        "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
        "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
        "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
        "visual.ln_post.weight": "vision_model.post_layernorm.weight",
        "visual.ln_post.bias": "vision_model.post_layernorm.bias",
        "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
        "positional_embedding": "text_model.embeddings.position_embedding.weight",
        "ln_final.weight": "text_model.final_layer_norm.weight",
        "ln_final.bias": "text_model.final_layer_norm.bias",
        "logit_scale": "logit_scale",
    }
    in_layer = {"ln_1": "layer_norm1", "ln_2": "layer_norm2", "attn.out_proj": "self_attn.out_proj",
                "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}
    for name, value in sd.items():
        if name in fixed:
            out[fixed[name]] = value
        elif name == "visual.proj":
            out["visual_projection.weight"] = value.t().contiguous()
        elif name == "text_projection":
            out["text_projection.weight"] = value.t().contiguous()
        else:
            tower, rest = ("vision_model", name[len("visual.transformer.resblocks."):]) \
                if name.startswith("visual.transformer.resblocks.") \
                else ("text_model", name[len("transformer.resblocks."):])
            assert name.startswith(("visual.transformer.resblocks.", "transformer.resblocks.")), name
            layer, rest = rest.split(".", 1)
            base = f"{tower}.encoder.layers.{layer}."
            if rest.startswith("attn.in_proj_"):
                kind = rest[len("attn.in_proj_"):]
                for part, chunk in zip("qkv", value.chunk(3, dim=0)):
                    out[f"{base}self_attn.{part}_proj.{kind}"] = chunk.contiguous()
            else:
                key, tail = rest.rsplit(".", 1)
                out[f"{base}{in_layer[key]}.{tail}"] = value
    return out


# ---------------------------------------------------------------------------------------------
# Weights and inputs
# ---------------------------------------------------------------------------------------------

def f32(t):
    """float32 values held as float64 (exactly representable)."""
    return t.float().double()


def random_weights(model, gen):
    """Values for every parameter of the OpenCLIP model, around OpenCLIP's init scales but with
    non-trivial layer-norm gains and biases and non-zero biases."""
    def randn(shape, std, mean=0.0):
        return f32(mean + std * torch.randn(*shape, generator=gen, dtype=torch.float64))

    values = {}
    for name, p in model.named_parameters():  # registration order: deterministic
        shape = tuple(p.shape)
        last = name.rsplit(".", 1)[-1]
        if ".ln_" in name or name.startswith("ln_"):
            values[name] = randn(shape, 0.2, 1.0) if last == "weight" else randn(shape, 0.1)
        elif name == "logit_scale":
            values[name] = f32(torch.tensor(2.9, dtype=torch.float64))
        elif last.endswith("bias"):
            values[name] = randn(shape, 0.05)
        elif name == "visual.conv1.weight":
            values[name] = randn(shape, (3 * shape[2] * shape[3]) ** -0.5)
        elif name in ("visual.class_embedding", "visual.positional_embedding"):
            values[name] = randn(shape, shape[-1] ** -0.5)
        elif name in ("token_embedding.weight", "positional_embedding"):
            values[name] = randn(shape, 0.3)
        elif name in ("visual.proj", "text_projection"):
            values[name] = randn(shape, shape[0] ** -0.5)
        else:  # [out, in] linear weights and in_proj_weight
            values[name] = randn(shape, shape[1] ** -0.5)
    return values


def inputs(gen):
    v, t = CONFIG["vision_cfg"], CONFIG["text_cfg"]
    s, ctx = v["image_size"], t["context_length"]
    images = f32(torch.randn(N_IMAGES, 3, s, s, generator=gen, dtype=torch.float64))

    def ids(n):
        return torch.randint(0, START, (n,), generator=gen, dtype=torch.int64).tolist()

    rows = [
        [START] + ids(5) + [END],                      # a short text
        [START] + ids(3) + [0, 0] + ids(2) + [END],    # contains the real token 0 ("!") before the end
        [START] + ids(ctx - 2) + [END],                # fills the whole context: end at the last position
        [START, END],                                  # the empty text
    ]
    tokens = torch.zeros(len(rows), ctx, dtype=torch.int64)
    for r, row in enumerate(rows):
        tokens[r, :len(row)] = torch.tensor(row, dtype=torch.int64)
    return images, tokens


def load(model, values, dtype):
    model = model.to(dtype)
    missing, unexpected = model.load_state_dict({k: v.to(dtype) for k, v in values.items()}, strict=False)
    assert not unexpected, unexpected
    assert all(m.endswith("position_ids") for m in missing), missing  # buffers the model makes itself
    return model.eval()


# ---------------------------------------------------------------------------------------------
# safetensors, by hand
# ---------------------------------------------------------------------------------------------

DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}
DTYPE_RANK = {"I64": 1, "F32": 0}  # wider first, as the reference writer lays data out


def safetensors_bytes(tensors, metadata):
    order = sorted(tensors, key=lambda n: (-DTYPE_RANK[DTYPES[tensors[n].dtype][0]], n))
    header = {"__metadata__": metadata}
    data = bytearray()
    for n in order:
        t = tensors[n].detach().contiguous()
        name, np_dtype = DTYPES[t.dtype]
        raw = t.numpy().astype(np_dtype).tobytes()
        header[n] = {"dtype": name, "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return len(h).to_bytes(8, "little") + h + bytes(data)


def write(directory, name, blob):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(blob)
    print(f"wrote {os.path.normpath(path)}: {len(blob)} bytes")


# ---------------------------------------------------------------------------------------------

def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(SEED)

    weights = random_weights(CLIP(CONFIG, "quick_gelu"), gen)
    hf_weights = openclip_to_hf(weights)
    images, tokens = inputs(gen)

    expected = {"images": images.float(), "tokens": tokens}
    deviations = {}
    names = ["image_embeds", "text_embeds", "image_embeds_normalized", "text_embeds_normalized", "logits_per_image"]
    hf_state = None
    with torch.no_grad():
        for act in ACTIVATIONS:
            ref = load(CLIP(CONFIG, act), weights, torch.float64)
            out64 = ref(images, tokens)
            hf = load(HFCLIPModel(CONFIG, act), hf_weights, torch.float64)
            hf_out = hf(images, tokens)
            for n, a, b in zip(names, out64, hf_out):
                err = (a - b).abs().max().item()
                assert err < AGREE_F64, f"{act} {n}: OpenCLIP-style and HF-style torch models differ by {err}"
            if act == "quick_gelu":
                hf_state = {k: v.float() if v.is_floating_point() else v for k, v in hf.state_dict().items()}
            out32 = load(CLIP(CONFIG, act), weights, torch.float32)(images.float(), tokens)
            deviations[act] = {}
            for n, a, b in zip(names, out64, out32):
                expected[f"{act}.{n}"] = a.float()
                expected[f"{act}.torch_f32.{n}"] = b
                deviations[act][n] = float("%.3g" % (a - b.double()).abs().max().item())

    openclip_state = {k: v.float() for k, v in weights.items()}
    assert sorted(CLIP(CONFIG, "gelu").state_dict()) == sorted(openclip_state)
    assert sorted(hf_state) == sorted(list(hf_weights) + ["vision_model.embeddings.position_ids",
                                                          "text_model.embeddings.position_ids"])

    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "resources", "parity")
    os.makedirs(directory, exist_ok=True)
    config_json = json.dumps(CONFIG, separators=(",", ":"))
    write(directory, "clip_parity_openclip.safetensors",
          safetensors_bytes(openclip_state, {"format": "pt", "clip_config": config_json}))
    write(directory, "clip_parity_hf.safetensors", safetensors_bytes(hf_state, {"format": "pt"}))
    meta = {
        "format": "pt",
        "generator": "toolkit/src/test/python/make_clip_parity_fixture.py",
        "torch": torch.__version__.split("+")[0],
        "clip_config": config_json,
        "activations": json.dumps(ACTIVATIONS),
        "reference": "float64 torch, stored as float32; A.torch_f32.* are float32 torch",
        "torch_f32_max_abs_deviation": json.dumps(deviations, sort_keys=True),
    }
    write(directory, "clip_parity_expected.safetensors", safetensors_bytes(expected, meta))
    print("float32 torch vs float64 torch, max |difference|:")
    for act, d in deviations.items():
        print(f"  {act}: {d}")


if __name__ == "__main__":
    main()
