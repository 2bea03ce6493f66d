#!/usr/bin/env python3
"""Generates the GGUF reader's test fixtures with gguf-py (llama.cpp's Python package), independently
of Pare's Swift code.

    pip install gguf numpy
    python3 scripts/gen-gguf-fixtures.py            # writes Tests/CheckpointTests/Fixtures/gguf/

Writes:
  dequant/<type>.bin        raw ggml blocks of a small random tensor of that type
  dequant/<type>.f32        the float32 values gguf-py dequantises them to (little-endian)
  dequant/index.json        {type: {"ggml": number, "shape": [rows, cols], "block_size", "type_size"}}
  all-types.gguf            a GGUF v3 file (alignment 64) with one tensor of each of the 13 types (the
                            same bytes as dequant/) and a metadata key of every value type, incl. arrays
                            of strings and nested arrays
  all-types.json            what all-types.gguf holds: metadata keys in order with typed values, tensors
  real-models.json          facts from the two real models (if present under .cache/models or $PARE_CACHE):
                            metadata keys with types, tensor count, and for a few tensors of each type the
                            first and last 64 dequantised values and float64 sums
Deterministic: the random generator is seeded.
"""
import json
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFValueType as V
from gguf.quants import dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "CheckpointTests", "Fixtures", "gguf")
CACHE = os.environ.get("PARE_CACHE", os.path.join(ROOT, ".cache"))
rng = np.random.default_rng(20240611)

# The 13 types, and where each block keeps its f16 scale fields (byte offset, typical magnitude).
TYPES = {
    "f32": (T.F32, []), "f16": (T.F16, []), "bf16": (T.BF16, []),
    "q4_0": (T.Q4_0, [(0, 0.02)]), "q4_1": (T.Q4_1, [(0, 0.02), (2, -0.1)]),
    "q5_0": (T.Q5_0, [(0, 0.01)]), "q5_1": (T.Q5_1, [(0, 0.01), (2, -0.15)]),
    "q8_0": (T.Q8_0, [(0, 0.001)]),
    "q2_k": (T.Q2_K, [(80, 0.01), (82, 0.005)]), "q3_k": (T.Q3_K, [(108, 0.003)]),
    "q4_k": (T.Q4_K, [(0, 0.002), (2, 0.004)]), "q5_k": (T.Q5_K, [(0, 0.001), (2, 0.002)]),
    "q6_k": (T.Q6_K, [(208, 0.0005)]),
}


def random_tensor(name):
    """(raw bytes as uint8, element shape [rows, cols]) of a small random tensor of type `name`."""
    qtype, scales = TYPES[name]
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    if name in ("f32", "f16", "bf16"):
        rows, cols = 4, 64
        x = rng.normal(0, 1, size=(rows, cols)).astype(np.float32)
        x[0, :6] = [0.0, -0.0, 1e-6, -3e-5, 65504.0, 2.0 ** -24]  # zero signs, (f16) subnormals, max
        if name == "f32":
            raw = x.view(np.uint8)
        elif name == "f16":
            raw = x.astype(np.float16).view(np.uint8)
        else:
            raw = (x.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
        return raw.reshape(rows, -1), [rows, cols]
    rows, cols = (2, 512) if block == 256 else (4, 64)   # 4 super-blocks / 8 blocks
    nblocks = rows * cols // block
    raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
    for off, mag in scales:  # finite, realistic f16 scales; one block gets a negative one
        vals = (mag * rng.uniform(0.5, 1.5, size=nblocks)).astype(np.float16)
        vals[1] = -vals[1]
        raw[:, off:off + 2] = vals.view(np.uint8).reshape(nblocks, 2)
    return raw.reshape(rows, -1), [rows, cols]


def write_dequant_fixtures():
    os.makedirs(os.path.join(OUT, "dequant"), exist_ok=True)
    index, tensors = {}, {}
    for name in TYPES:
        qtype = TYPES[name][0]
        raw, shape = random_tensor(name)
        values = dequantize(raw, qtype).astype(np.float32)
        assert list(values.shape) == shape, (name, values.shape, shape)
        assert np.all(np.isfinite(values)), name
        raw.tofile(os.path.join(OUT, "dequant", name + ".bin"))
        values.astype("<f4").tofile(os.path.join(OUT, "dequant", name + ".f32"))
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        index[name] = {"ggml": int(qtype), "shape": shape, "block_size": block, "type_size": size}
        tensors[name] = (raw, qtype, shape)
    with open(os.path.join(OUT, "dequant", "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
    return tensors


def typed(v, vtype):
    """The JSON form of a metadata value: integers as decimal strings, floats as IEEE bit patterns."""
    if vtype == V.ARRAY:
        sub = V.get_type(v[0])
        return {"type": int(V.ARRAY), "value": [typed(x, sub) for x in v]}
    if vtype == V.FLOAT32:
        return {"type": int(vtype), "value": "%08x" % struct.unpack("<I", struct.pack("<f", v))[0]}
    if vtype == V.FLOAT64:
        return {"type": int(vtype), "value": "%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]}
    if vtype == V.BOOL:
        return {"type": int(vtype), "value": bool(v)}
    if vtype == V.STRING:
        return {"type": int(vtype), "value": v}
    return {"type": int(vtype), "value": str(int(v))}


def write_all_types_file(tensors):
    path = os.path.join(OUT, "all-types.gguf")
    w = gguf.GGUFWriter(path, arch="pare-test")
    w.add_custom_alignment(64)
    kv = [
        ("test.uint8", 200, V.UINT8), ("test.int8", -100, V.INT8),
        ("test.uint16", 65000, V.UINT16), ("test.int16", -30000, V.INT16),
        ("test.uint32", 4000000000, V.UINT32), ("test.int32", -2000000000, V.INT32),
        ("test.float32", 0.1, V.FLOAT32), ("test.bool.true", True, V.BOOL), ("test.bool.false", False, V.BOOL),
        ("test.string", "héllo, 世界 ✓", V.STRING), ("test.string.empty", "", V.STRING),
        ("test.uint64", 18446744073709551615, V.UINT64), ("test.int64", -9000000000000000000, V.INT64),
        ("test.float64", 2.718281828459045, V.FLOAT64),
        ("test.array.int32", [1, -2, 3], V.ARRAY), ("test.array.float32", [0.5, -1.25], V.ARRAY),
        ("test.array.string", ["a", "", "Ġhello", "<|endoftext|>"], V.ARRAY),
        ("test.array.bool", [True, False, True], V.ARRAY),
        ("test.array.nested", [[1, 2], [3], [4, 5, 6]], V.ARRAY),
        ("test.array.nested.strings", [["x", "y"], ["z"]], V.ARRAY),
    ]
    for key, val, vt in kv:
        w.add_key_value(key, val, vt)
    for name, (raw, qtype, shape) in tensors.items():
        w.add_tensor("t." + name, raw, raw_shape=list(raw.shape), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    # The writer adds general.architecture first and general.alignment (uint32) itself.
    meta = [["general.architecture", typed("pare-test", V.STRING)], ["general.alignment", typed(64, V.UINT32)]]
    meta += [[k, typed(v, vt)] for k, v, vt in kv]
    # Checked against gguf-py's own reader.
    r = gguf.GGUFReader(path)
    read_keys = [f.name for f in r.fields.values() if not f.name.startswith("GGUF.")]
    assert read_keys == [k for k, _ in meta], read_keys
    sidecar = {
        "version": 3, "alignment": 64, "metadata": meta,
        "tensors": [{"name": "t." + n, "encoding": n, "shape": s} for n, (_, _, s) in tensors.items()],
    }
    with open(os.path.join(OUT, "all-types.json"), "w") as f:
        json.dump(sidecar, f, indent=1)


def value_type_name(field):
    return [V(t).name.lower() for t in field.types]


def real_model_facts(path):
    r = gguf.GGUFReader(path)
    keys = []
    for f in r.fields.values():
        if f.name.startswith("GGUF."):
            continue
        entry = {"key": f.name, "types": [int(t) for t in f.types]}
        if f.types[0] == V.ARRAY:
            entry["count"] = len(f.data)
            first = f.contents(0)
            entry["first"] = first if isinstance(first, (str, bool)) else str(first)
        elif f.types[0] == V.STRING:
            entry["value"] = f.contents()
        elif f.types[0] in (V.FLOAT32, V.FLOAT64):
            entry["value"] = float(f.contents())
        elif f.types[0] == V.BOOL:
            entry["value"] = bool(f.contents())
        else:
            entry["value"] = str(int(f.contents()))
        keys.append(entry)
    by_type = {}
    for t in r.tensors:
        by_type.setdefault(t.tensor_type.name.lower(), []).append(t)
    samples = []
    for tname, ts in sorted(by_type.items()):
        for t in (ts[0], ts[-1]) if len(ts) > 1 else ts[:1]:
            v = dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
            samples.append({
                "name": t.name, "encoding": tname, "shape": [int(x) for x in reversed(t.shape)],
                "first": [float(x) for x in v[:64]], "last": [float(x) for x in v[-64:]],
                "sum": float(v.astype(np.float64).sum()), "abs_sum": float(np.abs(v.astype(np.float64)).sum()),
            })
    return {"alignment": int(r.alignment), "tensor_count": len(r.tensors),
            "data_offset": int(r.data_offset), "metadata": keys, "samples": samples}


def write_real_model_facts():
    models = ["SmolLM2-135M-Instruct.Q4_1.gguf", "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"]
    facts = {}
    for m in models:
        p = os.path.join(CACHE, "models", m)
        if not os.path.exists(p):
            sys.exit(f"{p} is missing: run scripts/fetch-models.sh first")
        facts[m] = real_model_facts(p)
    with open(os.path.join(OUT, "real-models.json"), "w") as f:
        json.dump(facts, f, indent=None, separators=(",", ":"))


if __name__ == "__main__":
    tensors = write_dequant_fixtures()
    write_all_types_file(tensors)
    write_real_model_facts()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({total} bytes)")
