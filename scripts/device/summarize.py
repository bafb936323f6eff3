#!/usr/bin/python3
"""Writes the device check's summary (markdown, to stdout) from the logs in OUT_DIR.

    summarize.py OUT_DIR CARD DATE

Reads status.txt (each part's status and seconds), env.log, kernels.log (KernelCheck), contract.log
(JUnit's tree), parity.log, bench.log and torch.log (key=value lines). Missing or partial logs are
reported as such: the summary is written whatever happened to the parts.
"""
import os
import re
import sys

PARTS = ["kernels", "contract", "parity", "bench", "torch", "tf32"]


def read(out, name):
    try:
        with open(os.path.join(out, name), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def keyvalues(text):
    kv = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_.]+)=(.*)$", line.strip())
        if m:
            kv[m.group(1)] = m.group(2)
    return kv


def num(kv, key):
    try:
        return float(kv[key].split()[0])
    except (KeyError, ValueError, IndexError):
        return None


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    out, card, day = sys.argv[1:]
    st = keyvalues(read(out, "status.txt"))
    ours, torch = keyvalues(read(out, "bench.log")), keyvalues(read(out, "torch.log"))
    parity = keyvalues(read(out, "parity.log"))
    kernels = read(out, "kernels.log").splitlines()
    contract = read(out, "contract.log")
    w = []
    w.append(f"# Device check: {card}, {day}\n")
    w.append("What ran: scripts/device-check (see docs/device-check.md). Ratios are xbt ÷ PyTorch on the same card,\n"
             "same shapes, same random weights (PyTorch reads ours), both FP32 unless the settings say otherwise.\n")
    w.append("```\n" + read(out, "env.log").strip() + "\n```\n")

    w.append("| part | status | seconds |\n| --- | --- | --- |")
    for p in PARTS:
        w.append(f"| {p} | {st.get('status.' + p, 'not run')} | {st.get('seconds.' + p, '')} |")
    w.append("")

    # Throughput.
    enc_o, enc_t = num(ours, "encode.images_per_second"), num(torch, "torch.encode.images_per_second")
    tr_o, tr_t = num(ours, "train.seconds_per_step"), num(torch, "torch.train.seconds_per_step")
    w.append("## Against PyTorch\n")
    w.append(f"backend: {ours.get('backend', '?')}  \nPyTorch: {torch.get('torch.version', '?')} on "
             f"{torch.get('torch.device', '?')}, {torch.get('torch.precision', '?')}\n")
    w.append("| measure | xbt | PyTorch | ratio (goal ≥ 1.0) |\n| --- | --- | --- | --- |")

    def row(name, a, b, ratio):
        fa = "—" if a is None else f"{a:.4g}"
        fb = "—" if b is None else f"{b:.4g}"
        fr = "—" if ratio is None else f"**{ratio:.3f}**"
        w.append(f"| {name} | {fa} | {fb} | {fr} |")

    row(f"image encoding, batch {ours.get('encode.batch', '?')} (images/s)", enc_o, enc_t,
        enc_o / enc_t if enc_o and enc_t else None)
    row(f"training step, batch {ours.get('train.batch', '?')} (s/step; ratio = PyTorch ÷ xbt)", tr_o, tr_t,
        tr_t / tr_o if tr_o and tr_t else None)
    tf = keyvalues(read(out, "tf32.log"))
    t_eo, t_et = num(tf, "tf32.xbt.encode.images_per_second"), num(tf, "tf32.torch.encode.images_per_second")
    t_so, t_st = num(tf, "tf32.xbt.train.seconds_per_step"), num(tf, "tf32.torch.train.seconds_per_step")
    if t_eo or t_et:
        row("image encoding, TF32 on both sides (images/s)", t_eo, t_et, t_eo / t_et if t_eo and t_et else None)
        row("training step, TF32 on both sides (s/step; PyTorch ÷ xbt)", t_so, t_st, t_st / t_so if t_so and t_st else None)
    w.append("")
    if "torch.parity.embeddings.max_rel" in torch:
        w.append(f"PyTorch's embeddings of our 4 check images against ours: max |a − b| / (1 + |b|) = "
                 f"{torch['torch.parity.embeddings.max_rel']}\n")

    # Kernels.
    passed = [l for l in kernels if l.startswith("PASS ")]
    failed = [l for l in kernels if l.startswith("FAIL ")]
    w.append("## Kernels against the CPU backend (KernelCheck)\n")
    head = [l for l in kernels if l.startswith("# ")]
    w.extend(h[2:] + "  " for h in head)
    w.append(f"\n{len(passed)} passed, {len(failed)} failed.\n")
    worst = 0.0
    for l in passed + failed:
        m = re.search(r"max-rel ([0-9.eE+-]+|inf)", l)
        if m and "gemm cublas" not in l and "gemm kernel" not in l:
            try:
                worst = max(worst, float(m.group(1)))
            except ValueError:
                worst = float("inf")
    if passed or failed:
        w.append(f"Largest FP32 relative error over all kernels: {worst:.3g} (bound 1e-4).\n")
    w.append("```\n" + "\n".join(l for l in kernels if not l.startswith("WARNING")).strip() + "\n```\n")

    # Contract.
    w.append("## Backend contract suite on CUDA (JUnit)\n")
    counts = re.findall(r"\[\s*(\d+) tests (successful|failed|aborted|skipped)\s*\]", contract)
    w.append(", ".join(f"{n} {k}" for n, k in counts) + "\n" if counts else "no JUnit summary in contract.log\n")
    bad = [l.strip() for l in contract.splitlines() if "✘" in l]
    if bad:
        w.append("Failures:\n\n```\n" + "\n".join(bad[:60]) + "\n```\n")

    # Parity.
    w.append("## ViT-B-32 forward and backward, CUDA against the CPU\n")
    w.append("```\n" + "\n".join(f"{k}={v}" for k, v in parity.items()) + "\n```\n")

    prof = [l[len("profile| "):] for l in read(out, "bench.log").splitlines() if l.startswith("profile| ")]
    if prof:
        w.append("## Where the GPU time goes (xbt, one encoding and one training step, CUDA events per operation)\n")
        w.append("```\n" + "\n".join(prof) + "\n```\n")

    w.append("## Raw figures\n")
    w.append("```\n" + "\n".join(f"{k}={v}" for k, v in {**ours, **torch, **tf}.items()) + "\n```")
    print("\n".join(w))
    return 0


if __name__ == "__main__":
    sys.exit(main())
