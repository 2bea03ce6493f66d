#!/usr/bin/env bash
# The main job on the default model, from a fresh machine: set up, build (release), lift
# Qwen2.5-Coder-0.5B-Instruct into IR, verify it, and generate code from it with the reference interpreter.
# (Pruning and the compiled plan/runtime arrive with the next issues; this script grows with them.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
"$root/scripts/setup.sh"
cd "$root"
swift build -c release >&2
pare="$root/.build/release/pare"
model="$cache/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
mkdir -p "$root/out"
"$pare" dump-ir "$model" -o "$root/out/qwen2.5-coder-0.5b.pir"
"$pare" verify "$root/out/qwen2.5-coder-0.5b.pir"
"$pare" generate "$root/out/qwen2.5-coder-0.5b.pir" --max-tokens "${MAX_TOKENS:-64}" \
  --prompt "${PROMPT:-def is_prime(n: int) -> bool:
    \"\"\"Return True if n is a prime number.\"\"\"
}"
