#!/usr/bin/env bash
# Side-by-side speed run for docs/BENCHMARKS.md: llama.cpp's llama-bench, the memory bandwidth of this machine,
# and Pare's runtime and interpreter on the same model, one JSON file.
#
#   scripts/bench-compare.sh                              Qwen GGUF -> out/bench-llama.json
#   scripts/bench-compare.sh [--model M.gguf] [OUT.json]
#   PARE_CACHE=/path scripts/bench-compare.sh
#
# Steps, one after the other (never concurrently: the numbers are only meaningful on an idle machine):
#   1. scripts/build-llama-bench.sh (idempotent; builds llama-bench the first time, ~minutes)
#   2. builds scripts/membw.c into <cache>/membw/membw if missing or older than the source
#   3. llama-bench -m M.gguf -p 128 -n 64 -t 2 -r 3 -o json   (prefill pp128, decode tg64, tok/s)
#   4. membw (2 threads): triad and read GB/s
#   5. Pare: `pare bench-kernels` (the kernels' own rates on cache-resident weights: the compute bound), `pare bench`
#      on each compiled plan (runtime; PARE_PLANS="A.pare B.pare" picks them) and on the GGUF (interpreter)
# The output holds the date, the machine, the llama.cpp version, its prefill/decode tok/s, the GGUF's
# size, the bandwidth, and the decode bound = measured read bandwidth / weight bytes per token.
# A summary goes to stderr; the output path is printed on stdout. Benchmarks only: not run by CI.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
model="$cache/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
out="$root/out/bench-llama.json"
threads=2
llama_args=(-p 128 -n 64 -t "$threads" -r 3 -o json)

say() { printf 'bench-compare: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
usage() { sed -n '4,6p' "${BASH_SOURCE[0]}" | sed 's/^#  *//' >&2; }

outset=
while [ $# -gt 0 ]; do
  case "$1" in
    --model|-m) [ $# -ge 2 ] || die "$1 needs a path"; model="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage; die "unknown option $1" ;;
    *) [ -z "$outset" ] || die "more than one output path ($out, $1)"; out="$1"; outset=1; shift ;;
  esac
done
[ -f "$model" ] || die "model $model not found; run scripts/fetch-models.sh (or pass --model PATH)"
model="$(cd "$(dirname "$model")" && pwd)/$(basename "$model")"
mkdir -p "$(dirname "$out")"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load_before" 'BEGIN { exit !(l >= 0.5) }'; then
  say "warning: the machine is not idle (1-minute load $load_before): the numbers will be low and noisy"
fi

# --- 1. llama-bench ---
llama_bench=$("$root/scripts/build-llama-bench.sh" | tail -n 1)
[ -x "$llama_bench" ] || die "scripts/build-llama-bench.sh printed '$llama_bench', which is not an executable"
build_info="$(dirname "$(dirname "$llama_bench")")/pare-build-info.json"
[ -f "$build_info" ] || die "no $build_info next to $llama_bench; re-run FORCE=1 scripts/build-llama-bench.sh"

# --- 2. membw ---
membw="$cache/membw/membw"
if ! [ -x "$membw" ] || [ "$root/scripts/membw.c" -nt "$membw" ]; then
  say "compiling scripts/membw.c"
  mkdir -p "$(dirname "$membw")"
  cc -O3 -march=native -fopenmp -Wall -o "$membw.part" "$root/scripts/membw.c" || die "cannot compile scripts/membw.c"
  mv "$membw.part" "$membw"
fi

# --- 3. llama.cpp ---
say "llama-bench ${llama_args[*]} on $(basename "$model")"
if ! "$llama_bench" -m "$model" "${llama_args[@]}" > "$tmp/llama.json" 2> "$tmp/llama.err"; then
  tail -n 20 "$tmp/llama.err" >&2
  die "llama-bench failed on $model"
fi

# --- 4. memory bandwidth ---
say "membw -t $threads"
"$membw" -t "$threads" > "$tmp/membw.json" || die "membw failed"

# --- 5. Pare's runs ----------------------------------------------------------------------------------
# The runtime on each compiled plan (PARE_PLANS, default: the dense and pruned Qwen plans under out/ when
# present; `pare compile` writes them), its decode bound taken at the read bandwidth just measured, then the
# reference interpreter on the GGUF. One after the other; a JSON array of runs in "$tmp/pare.json".
pare="$root/.build/release/pare"
[ -x "$pare" ] || die "$pare is missing: run 'swift build -c release' first"
read_gbs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["read_gbs"])' "$tmp/membw.json")
plans="${PARE_PLANS:-}"
if [ -z "$plans" ]; then
  for p in "$root/out/qwen2.5-coder-0.5b-dense.pare" "$root/out/qwen2.5-coder-0.5b-pruned.pare"; do
    [ -d "$p" ] && plans="$plans $p"
  done
fi
say "pare bench-kernels"
"$pare" bench-kernels --json > "$tmp/kernels.json"
: > "$tmp/pare.lines"
for p in $plans; do
  say "pare bench $p (runtime)"
  "$pare" bench "$p" --tokens 128 --decode-tokens 64 --runs 3 --bandwidth "$read_gbs" --json \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); r["runner"]="runtime"; print(json.dumps(r))' >> "$tmp/pare.lines"
done
say "pare bench $model (interpreter)"
"$pare" bench "$model" --tokens 128 --runs 3 --json \
  | python3 -c 'import json,sys; r=json.load(sys.stdin); r["runner"]="interpreter"; print(json.dumps(r))' >> "$tmp/pare.lines"
python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1]) if l.strip()]))' "$tmp/pare.lines" > "$tmp/pare.json"
# --- end of Pare's runs ------------------------------------------------------------------------------

load_after=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$tmp/llama.json" "$tmp/membw.json" "$tmp/pare.json" "$build_info" "$model" "$out.part" \
  "${llama_args[*]}" "$load_before" "$load_after" "$threads" "$llama_bench" "$tmp/kernels.json" <<'PY'
import datetime, json, os, platform, sys

llama_path, membw_path, pare_path, info_path, model, out, args, load0, load1, threads, binary, kernels_path = sys.argv[1:]

def fail(msg):
    sys.exit(f"bench-compare: error: {msg}")

def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read {what} from {path}: {e}")

runs = load(llama_path, "llama-bench JSON")
membw = load(membw_path, "membw JSON")
pare = load(pare_path, "Pare runs")
info = load(info_path, "llama-bench build info")
if not isinstance(runs, list) or not runs:
    fail(f"llama-bench wrote no test results to {llama_path}")

def pick(kind):
    hits = [r for r in runs if (r["n_gen"] == 0) == (kind == "pp") and (r["n_prompt"] == 0) == (kind == "tg")]
    if len(hits) != 1:
        fail(f"expected one {kind} result from llama-bench, found {len(hits)}")
    r = hits[0]
    n = r["n_prompt"] if kind == "pp" else r["n_gen"]
    return {"test": f"{kind}{n}", "tokens": n, "tok_s": r["avg_ts"], "stddev_tok_s": r["stddev_ts"],
            "samples_tok_s": r["samples_ts"]}

prefill, decode = pick("pp"), pick("tg")
first = runs[0]

def cpuinfo():
    model_name, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, val = line.partition(":")
            key = key.strip()
            if key == "model name" and model_name == "unknown":
                model_name = val.strip()
            elif key == "flags" and not flags:
                flags = set(val.split())
    wanted = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "sha_ni"]
    return model_name, [f for f in wanted if f in flags]

def mem_total_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return None

cpu_model, cpu_flags = cpuinfo()
weight_bytes = first["model_size"]
read_gbs = membw["read_gbs"]
if not weight_bytes or not read_gbs:
    fail(f"llama-bench model_size ({weight_bytes}) or membw read_gbs ({read_gbs}) is zero")
bound = read_gbs * 1e9 / weight_bytes

result = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "machine": {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "mem_total_bytes": mem_total_bytes(),
        "cpu_flags": cpu_flags,
        "kernel": platform.release(),
        "load_average_1m": {"before": float(load0), "after": float(load1)},
    },
    "model": {
        "path": model,
        "file": os.path.basename(model),
        "gguf_size_bytes": os.path.getsize(model),
        "llama_model_type": first["model_type"],
        "n_params": first["model_n_params"],
        "weight_bytes": weight_bytes,
    },
    "llama_cpp": {
        "llama_cpp_python_sdist": info["llama_cpp_python"],
        "commit": info["llama_cpp_commit"],
        "commit_full": info.get("llama_cpp_commit_full"),
        "build_commit": first["build_commit"],
        "build_number": first["build_number"],
        "cmake_flags": info["cmake_flags"],
        "binary": binary,
        "args": args,
        "threads": first["n_threads"],
        "backends": first["backends"],
        "prefill": prefill,
        "decode": decode,
    },
    "membw": membw,
    "decode_bound": {
        "note": "weight_bytes (all tensor bytes, llama-bench model_size) read once per decoded token at the "
                "measured read bandwidth; exact for a tied LM head, an over-estimate by the embedding table "
                "otherwise",
        "weight_bytes_per_token": weight_bytes,
        "read_gbs": read_gbs,
        "tok_s": round(bound, 2),
        "llama_cpp_decode_fraction": round(decode["tok_s"] / bound, 3),
    },
    "pare": pare,  # step 5 of scripts/bench-compare.sh
    "pare_kernels": load(kernels_path, "pare bench-kernels JSON"),
    "llama_bench_raw": runs,
}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")

print(f"bench-compare: llama.cpp {info['llama_cpp_commit']} (llama-cpp-python {info['llama_cpp_python']}), "
      f"{first['model_type']}, {threads} threads: {prefill['test']} {prefill['tok_s']:.1f} tok/s, "
      f"{decode['test']} {decode['tok_s']:.1f} tok/s; membw triad {membw['triad_gbs']:.1f} GB/s, "
      f"read {read_gbs:.1f} GB/s; decode bound {bound:.1f} tok/s "
      f"(llama.cpp at {decode['tok_s'] / bound:.0%}); load {load0} -> {load1}", file=sys.stderr)
for r in pare:
    if r.get("runner") != "runtime":
        continue
    print(f"bench-compare: {os.path.basename(r.get('plan', r.get('model', '?')).rstrip('/'))}: "
          f"prefill {r['prefill_tokens_per_second']:.1f} tok/s ({r['prefill_tokens_per_second'] / prefill['tok_s']:.2f}x llama.cpp), "
          f"decode {r['decode_tokens_per_second']:.1f} tok/s ({r['decode_tokens_per_second'] / decode['tok_s']:.2f}x), "
          f"weights {r['weight_bytes'] / 1e6:.1f} MB ({r['weight_bytes'] / os.path.getsize(model):.2f}x the GGUF), "
          f"{r['decode_weight_bytes_per_token'] / 1e6:.1f} MB read per token, peak RSS {r['peak_rss_mib']:.0f} MiB",
          file=sys.stderr)
PY
mv "$out.part" "$out"
echo "$out"
