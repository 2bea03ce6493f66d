#!/usr/bin/env bash
# The main job on the default model, from a fresh machine: set up, build (release), compile a pruned execution
# plan of Qwen2.5-Coder-0.5B-Instruct (`pare compile`'s default recipe, chosen by HumanEval measurement in
# docs/RESULTS.md: the vocabulary pruned to the tokens that carry the model's probability mass on code, checked on
# held-out text, and 128 FFN channels per block; then lowering: fused kernels, folded norms, a memory plan; the
# weights are the GGUF's own 4-8-bit blocks, `--weights source`, the cut down projections re-encoded as q8_0, 0.83x
# the GGUF's size), show the plan, and generate code from it with Pare's runtime.
#   PASSES='...'   another pruning pipeline ('none' for a dense plan; the paper's recipe:
#                  'vocab-prune,layer-prune{count=3},ffn-prune{drop=256}', which keeps a fifth of dense pass@1)
#   PROMPT='...'   MAX_TOKENS=N   what to generate
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
"$root/scripts/setup.sh"
cd "$root"
swift build -c release >&2
pare="$root/.build/release/pare"
model="$cache/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
mkdir -p "$root/out"
plan="$root/out/qwen2.5-coder-0.5b-pruned.pare"
passes=()  # none given: pare compile's default recipe
if [ -n "${PASSES:-}" ]; then passes=(--passes "$PASSES"); fi
"$pare" compile "$model" "${passes[@]}" -o "$plan"
"$pare" inspect "$plan" | sed -n '1,12p'
"$pare" run "$plan" --max-tokens "${MAX_TOKENS:-64}" \
  --prompt "${PROMPT:-def is_prime(n: int) -> bool:
    \"\"\"Return True if n is a prime number.\"\"\"
}"
