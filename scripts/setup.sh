#!/usr/bin/env bash
# Installs everything Pare needs on a fresh Debian machine with Swift, then fetches the models:
#   - system packages: libopenblas-dev (all matrix products), libprotobuf-c-dev (the plan's C reader)
#   - gguf (llama.cpp's Python package) for scripts that write test data; never used by Pare itself
#   - the real models and data (scripts/fetch-models.sh), and a Hugging Face directory written from
#     the SmolLM2 GGUF for the HF reader's tests (scripts/gguf-to-hf.py)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
say() { printf 'setup: %s\n' "$*" >&2; }

need=()
for p in libopenblas-dev libprotobuf-c-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

python3 -c "import gguf" 2>/dev/null || {
  say "installing the gguf Python package (test-data scripts only)"
  python3 -m pip install --quiet --disable-pip-version-check "gguf==0.19.0" >&2
}

"$root/scripts/fetch-models.sh"

hf="$cache/hf/smollm2-135m-instruct"
if [ ! -f "$hf/config.json" ]; then
  say "writing $hf from the SmolLM2 GGUF"
  python3 "$root/scripts/gguf-to-hf.py" "$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf" "$hf" \
    --dtype f32 --shards 2 --tokenizer "$root/../shared/reference/smollm2-135m-instruct" >&2
fi
say "ok"
