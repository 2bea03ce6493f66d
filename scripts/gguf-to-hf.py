#!/usr/bin/env python3
"""Writes a Hugging Face model directory (config.json + safetensors) from a GGUF file.

Usage:
  python3 scripts/gguf-to-hf.py GGUF OUTDIR [--dtype f32|f16|bf16] [--shards N] [--tokenizer DIR] [--force]
  python3 scripts/gguf-to-hf.py GGUF --fixture FILE.json

Needs gguf-py and numpy:  pip install gguf

Every tensor is dequantised with gguf-py and renamed to its Hugging Face name. For architecture `llama`,
llama.cpp's converter permuted the rows of q_proj/k_proj (weights and biases) so that RoPE pairs are
adjacent: HF row h*D + t*D/2 + k became GGUF row h*D + 2k + t (h: head, D: head size, t in {0,1},
k < D/2; K uses the KV head count). That permutation is undone here; qwen2 is not permuted.

The safetensors files are written directly (8-byte little-endian header length, JSON header padded
with spaces to a multiple of 8, raw little-endian data), sharded as model-0000i-of-0000N.safetensors
with model.safetensors.index.json when --shards > 1. Output is deterministic: same input, same bytes.
The directory is written under OUTDIR.<pid>.part and renamed into place when complete.

--tokenizer DIR copies tokenizer.json (required there) and tokenizer_config.json / special_tokens_map.json
(when present), e.g. from shared/reference/smollm2-135m-instruct.

--fixture FILE writes the small JSON that Tests/CheckpointTests/HFRealDirectoryTests.swift checks a
converted directory against: selected rows of a few tensors and a weighted checksum of each, computed
from gguf-py's dequantisation with the q/k row map applied index by index (not by the reshape that the
writer uses), plus every tensor's name and shape. Regenerate the committed fixture with
  python3 scripts/gguf-to-hf.py .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf \
      --fixture Tests/CheckpointTests/Fixtures/hf/smollm2-135m-instruct.json
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys

try:
    import numpy as np
    import gguf
except ImportError as e:  # pragma: no cover
    sys.exit(f"gguf-to-hf: {e}; install the dependencies with: pip install gguf numpy")

SUPPORTED = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM"}

# GGUF name -> Hugging Face name.
GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
BLOCK_NAMES = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}
BLOCK_RE = re.compile(r"^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$")


def fail(msg):
    sys.exit(f"gguf-to-hf: {msg}")


def hf_name(name):
    if name in GLOBAL_NAMES:
        return GLOBAL_NAMES[name]
    m = BLOCK_RE.match(name)
    if m and m.group(2) in BLOCK_NAMES:
        return f"model.layers.{m.group(1)}.{BLOCK_NAMES[m.group(2)]}.{m.group(3)}"
    fail(f"tensor '{name}' has no Hugging Face name known to this script")


class Source:
    """The GGUF file: metadata, hyper-parameters and dequantised tensors."""

    def __init__(self, path):
        self.path = path
        self.reader = gguf.GGUFReader(path)
        self.arch = self.get("general.architecture")
        if self.arch not in SUPPORTED:
            fail(f"{path}: architecture '{self.arch}' is not supported (supported: {', '.join(sorted(SUPPORTED))})")
        a = self.arch
        self.layers = int(self.need(f"{a}.block_count"))
        self.hidden = int(self.need(f"{a}.embedding_length"))
        self.ffn = int(self.need(f"{a}.feed_forward_length"))
        self.heads = int(self.need(f"{a}.attention.head_count"))
        self.kv_heads = int(self.get(f"{a}.attention.head_count_kv", self.heads))
        self.head_dim = int(self.get(f"{a}.attention.key_length", self.get(f"{a}.rope.dimension_count", self.hidden // self.heads)))
        self.eps = f32_value(self.need(f"{a}.attention.layer_norm_rms_epsilon"))
        self.rope_theta = f32_value(self.get(f"{a}.rope.freq_base", 10000.0))
        self.context = int(self.need(f"{a}.context_length"))
        self.tensors = {t.name: t for t in self.reader.tensors}
        if "token_embd.weight" not in self.tensors:
            fail(f"{path}: no token_embd.weight")
        self.vocab = int(self.get(f"{a}.vocab_size", int(self.tensors["token_embd.weight"].shape[1])))
        self.tied = "output.weight" not in self.tensors
        self.bos = self.get("tokenizer.ggml.bos_token_id")
        self.eos = self.get("tokenizer.ggml.eos_token_id")

    def get(self, key, default=None):
        f = self.reader.fields.get(key)
        return default if f is None else f.contents()

    def need(self, key):
        v = self.get(key)
        if v is None:
            fail(f"{self.path}: metadata key '{key}' is missing")
        return v

    def shape(self, name):
        """Row-major shape, outermost first (GGUF ne reversed)."""
        return [int(d) for d in reversed(self.tensors[name].shape.tolist())]

    def dequantised(self, name):
        """The GGUF tensor as float32, row-major, in GGUF row order."""
        t = self.tensors[name]
        return np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(self.shape(name))

    def permute_heads(self, name):
        """Head count of the llama.cpp q/k row permutation applied to this tensor, or None."""
        if self.arch != "llama":
            return None
        m = BLOCK_RE.match(name)
        if m and m.group(2) == "attn_q":
            return self.heads
        if m and m.group(2) == "attn_k":
            return self.kv_heads
        return None

    def hf_tensor(self, name):
        """The tensor in Hugging Face layout (float32)."""
        w = self.dequantised(name)
        h = self.permute_heads(name)
        if h is not None:
            # llama.cpp: w.reshape(h, 2, rows/h/2, ...).swapaxes(1, 2).reshape(w.shape); this is its inverse.
            rows = w.shape[0]
            if rows % (2 * h) != 0:
                fail(f"{self.path}: tensor '{name}' has {rows} rows, not a multiple of 2*{h}")
            w = np.ascontiguousarray(w.reshape(h, rows // h // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape))
        return w

    def config(self, dtype):
        torch_dtype = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[dtype]
        c = {
            "architectures": [SUPPORTED[self.arch]],
            "model_type": self.arch,
            "hidden_size": self.hidden,
            "intermediate_size": self.ffn,
            "num_hidden_layers": self.layers,
            "num_attention_heads": self.heads,
            "num_key_value_heads": self.kv_heads,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "rms_norm_eps": self.eps,
            "rope_theta": self.rope_theta,
            "rope_scaling": None,
            "vocab_size": self.vocab,
            "max_position_embeddings": self.context,
            "tie_word_embeddings": self.tied,
            "torch_dtype": torch_dtype,
            "use_cache": True,
        }
        if self.arch == "llama":
            c["attention_bias"] = False
            c["mlp_bias"] = False
        if self.arch == "qwen2":
            c["use_sliding_window"] = False
        if self.bos is not None:
            c["bos_token_id"] = int(self.bos)
        if self.eos is not None:
            c["eos_token_id"] = int(self.eos)
        return c


def f32_value(v):
    """GGUF stores floats as f32: write the shortest decimal that round-trips through f32 (1e-05, not 9.99e-06)."""
    return float(str(np.float32(v)))


def encode(w, dtype):
    """Little-endian bytes of a float32 array in the output dtype."""
    if dtype == "f32":
        return w.astype("<f4").tobytes()
    if dtype == "f16":
        return w.astype("<f2").tobytes()
    # bfloat16: round to nearest even from the float32 bits; NaN stays a quiet NaN.
    u = w.astype("<f4").view("<u4").astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
    r[np.isnan(w)] = 0x7FC0
    return r.tobytes()


ITEM = {"f32": ("F32", 4), "f16": ("F16", 2), "bf16": ("BF16", 2)}


def write_directory(src, outdir, dtype, shards, tokenizer, force):
    names = list(src.tensors)  # GGUF order
    hf = [hf_name(n) for n in names]
    if len(set(hf)) != len(hf):
        fail("two GGUF tensors map to the same Hugging Face name")
    code, size = ITEM[dtype]
    nbytes = [int(np.prod(src.shape(n), dtype=np.int64)) * size for n in names]
    total = sum(nbytes)
    if shards < 1 or shards > len(names):
        fail(f"--shards must be between 1 and {len(names)}")

    # Shard i takes the tensors whose first byte falls in [i*total/N, (i+1)*total/N).
    assign, start = [], 0
    for b in nbytes:
        assign.append(min(shards - 1, start * shards // total))
        start += b
    if len(set(assign)) != shards:
        fail(f"cannot split into {shards} non-empty shards")
    files = ["model.safetensors"] if shards == 1 else [f"model-{i + 1:05d}-of-{shards:05d}.safetensors" for i in range(shards)]

    if os.path.exists(outdir) and not force:
        fail(f"{outdir} exists; pass --force to replace it")
    part = f"{outdir.rstrip('/')}.{os.getpid()}.part"
    shutil.rmtree(part, ignore_errors=True)
    os.makedirs(part)

    for s, fname in enumerate(files):
        members = [i for i in range(len(names)) if assign[i] == s]
        header, offset = {"__metadata__": {"format": "pt"}}, 0
        for i in members:
            header[hf[i]] = {"dtype": code, "shape": src.shape(names[i]), "data_offsets": [offset, offset + nbytes[i]]}
            offset += nbytes[i]
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        with open(os.path.join(part, fname), "wb") as f:
            f.write(len(text).to_bytes(8, "little"))
            f.write(text)
            for i in members:
                data = encode(src.hf_tensor(names[i]), dtype)
                assert len(data) == nbytes[i]
                f.write(data)
        print(f"gguf-to-hf: wrote {fname} ({len(members)} tensors)", file=sys.stderr)

    if shards > 1:
        index = {"metadata": {"total_size": total},
                 "weight_map": {hf[i]: files[assign[i]] for i in sorted(range(len(names)), key=lambda i: hf[i])}}
        write_json(os.path.join(part, "model.safetensors.index.json"), index)
    write_json(os.path.join(part, "config.json"), src.config(dtype))

    if tokenizer:
        if not os.path.isfile(os.path.join(tokenizer, "tokenizer.json")):
            fail(f"{tokenizer}: no tokenizer.json")
        for fname in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            p = os.path.join(tokenizer, fname)
            if os.path.isfile(p):
                shutil.copyfile(p, os.path.join(part, fname))

    if os.path.exists(outdir):
        if not force:  # another run finished first; its output is identical
            shutil.rmtree(part)
            print(f"gguf-to-hf: {outdir} appeared meanwhile; kept it", file=sys.stderr)
            return
        shutil.rmtree(outdir)
    os.rename(part, outdir)
    print(f"gguf-to-hf: {outdir}: {len(names)} tensors, {dtype}, {shards} shard(s)", file=sys.stderr)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


# --- Fixture: expected values, computed independently of write_directory's reshape. ---

def hf_row_to_gguf_row(r, heads, rows):
    """GGUF row holding HF row r of a llama q/k tensor: HF h*D + t*D/2 + k  <-  GGUF h*D + 2k + t."""
    d = rows // heads
    h, within = divmod(r, d)
    t, k = divmod(within, d // 2)
    return h * d + 2 * k + t


def checksum(w):
    """sum over elements of w[r, c] * (((r*31 + c*17) % 101) + 1), in float64 (a 1-D tensor is one row)."""
    m = w.reshape(1, -1) if w.ndim == 1 else w.reshape(w.shape[0], -1)
    r = np.arange(m.shape[0], dtype=np.int64)[:, None]
    c = np.arange(m.shape[1], dtype=np.int64)[None, :]
    weight = ((r * 31 + c * 17) % 101 + 1).astype(np.float64)
    return float((m.astype(np.float64) * weight).sum())


FIXTURE_TENSORS = [  # (GGUF name, rows to record; None for a 1-D tensor)
    ("token_embd.weight", [0, 1, 2, 49151]),
    ("blk.0.attn_q.weight", [0, 1, 2, 31, 32, 33, 63, 64, 575]),
    ("blk.0.attn_k.weight", [0, 1, 32, 33, 127, 191]),
    ("blk.0.attn_v.weight", [0, 1, 191]),
    ("blk.29.ffn_down.weight", [0, 575]),
    ("blk.0.attn_norm.weight", None),
    ("output_norm.weight", None),
]
FIXTURE_COLS = 32


def write_fixture(src, path):
    tensors = []
    for name, rows in FIXTURE_TENSORS:
        g = src.dequantised(name)
        heads = src.permute_heads(name)
        if heads is not None:
            mapping = np.array([hf_row_to_gguf_row(r, heads, g.shape[0]) for r in range(g.shape[0])])
            w = g[mapping]
        else:
            w = g
        entry = {"name": hf_name(name), "gguf_name": name,
                 "gguf_type": src.tensors[name].tensor_type.name, "shape": list(w.shape),
                 "checksum": checksum(w)}
        if rows is None:
            entry["rows"] = []
            entry["values"] = [[float(x) for x in w[:FIXTURE_COLS]]]
        else:
            entry["rows"] = rows
            entry["values"] = [[float(x) for x in w[r, :FIXTURE_COLS]] for r in rows]
        tensors.append(entry)
    with open(src.path, "rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest() if hasattr(hashlib, "file_digest") else hashlib.sha256(f.read()).hexdigest()
    fixture = {
        "source": os.path.basename(src.path),
        "source_sha256": sha,
        "generator": "scripts/gguf-to-hf.py --fixture",
        "columns": FIXTURE_COLS,
        "checksum_weight": "((r*31 + c*17) % 101) + 1",
        "tensors": tensors,
        "all_tensors": {hf_name(n): src.shape(n) for n in sorted(src.tensors, key=hf_name)},
    }
    write_json(path, fixture)
    print(f"gguf-to-hf: wrote fixture {path}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description="Write a Hugging Face directory from a GGUF file (pip install gguf).")
    p.add_argument("gguf")
    p.add_argument("outdir", nargs="?")
    p.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--tokenizer", metavar="DIR", help="copy tokenizer.json (and tokenizer_config.json) from DIR")
    p.add_argument("--fixture", metavar="FILE", help="write the expected-values fixture for the Swift tests")
    p.add_argument("--force", action="store_true", help="replace OUTDIR if it exists")
    a = p.parse_args()
    if not a.outdir and not a.fixture:
        p.error("give OUTDIR, --fixture FILE, or both")
    if not os.path.isfile(a.gguf):
        fail(f"{a.gguf}: no such file (run scripts/fetch-models.sh)")
    src = Source(a.gguf)
    if a.fixture:
        write_fixture(src, a.fixture)
    if a.outdir:
        write_directory(src, a.outdir, a.dtype, a.shards, a.tokenizer, a.force)


if __name__ == "__main__":
    main()
