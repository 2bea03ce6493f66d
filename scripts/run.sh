#!/usr/bin/env bash
# The main job on the default model, from a fresh machine: set up, build (release), prune
# Qwen2.5-Coder-0.5B-Instruct with the Flab-Pruner recipe (vocabulary, 3 layers, 256 FFN channels per
# block; every pass KL-checked on calibration code), then generate code from the pruned module.
# (Lowering the pruned module to a compiled plan and runtime is the next issue; this script grows with it.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
"$root/scripts/setup.sh"
cd "$root"
swift build -c release >&2
pare="$root/.build/release/pare"
model="$cache/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
mkdir -p "$root/out"
pruned="$root/out/qwen2.5-coder-0.5b-pruned.pir"
recipe='vocab-prune,layer-prune{count=3},ffn-prune{drop=256}'  # the paper's recipe scaled to 24 layers
"$pare" opt "$model" --passes "${PASSES:-$recipe}" -o "$pruned"
"$pare" stats "$model"
"$pare" stats "$pruned"
"$pare" generate "$pruned" --max-tokens "${MAX_TOKENS:-64}" \
  --prompt "${PROMPT:-def is_prime(n: int) -> bool:
    \"\"\"Return True if n is a prime number.\"\"\"
}"
