#!/usr/bin/env bash
# The issue-3 experiment behind docs/RESULTS.md, on Qwen2.5-Coder-0.5B-Instruct (not a test; ~15 min):
#   1. the paper's recipe scaled to 24 layers: vocab-prune, layer-prune{count=3}, ffn-prune{drop=256},
#      with wall time and peak memory of the whole pipeline;
#   2. parameters per component before and after; KL of the result against the dense model on held-out code;
#   3. greedy output of both models on a few coding prompts;
#   4. the layer criterion compared at equal count: kl, bi, angular, ppl (layer-prune{count=3} alone).
# Writes everything under out/experiment/ (git-ignored); docs/RESULTS.md is written from these files.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
cd "$root"
swift build -c release >&2
pare="$root/.build/release/pare"
model="$cache/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
out="$root/out/experiment"
mkdir -p "$out"
default_recipe='vocab-prune,layer-prune{count=3},ffn-prune{drop=256}'
recipe="${RECIPE:-$default_recipe}"

echo "== recipe: $recipe" >&2
/usr/bin/time -v "$pare" opt "$model" --passes "$recipe" -o "$out/recipe.pir" --dump-dir "$out/recipe-dumps" --json \
  > "$out/recipe.json" 2> "$out/recipe.stderr"
grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$out/recipe.stderr" | tee "$out/recipe.time" >&2

"$pare" stats "$model" --json > "$out/stats-dense.json"
"$pare" stats "$out/recipe.pir" --json > "$out/stats-recipe.json"
"$pare" kl "$model" "$out/recipe.pir" --json > "$out/kl-recipe.json"
# Held-out evaluation text: the HumanEval prompts (evaluation data, never calibration).
python3 -c "import gzip,json,sys; sys.stdout.write(''.join(json.loads(l)['prompt'] + '\n' for l in gzip.open(sys.argv[1])))" \
  "$cache/data/HumanEval.jsonl.gz" > "$out/humaneval-prompts.txt"
"$pare" kl "$model" "$out/recipe.pir" --calibration "$out/humaneval-prompts.txt" --calibration-samples 16 \
  --calibration-length 128 --json > "$out/kl-recipe-humaneval.json"

prompts=(
  $'def is_palindrome(s: str) -> bool:\n    """Return True if s reads the same backwards."""\n'
  $'def merge_intervals(intervals):\n    """Merge overlapping [start, end] intervals."""\n'
  $'// Return the n-th Fibonacci number.\nfunction fib(n) {\n'
  $'public static int gcd(int a, int b) {\n'
)
: > "$out/greedy.jsonl"
for p in "${prompts[@]}"; do
  for m in "$model" "$out/recipe.pir"; do
    "$pare" generate "$m" --prompt "$p" --max-tokens 48 --json \
      | python3 -c "import json,sys; r=json.load(sys.stdin); print(json.dumps({'model': sys.argv[1], 'prompt': sys.argv[2], 'text': r['text']}))" \
        "$(basename "$m")" "$p" >> "$out/greedy.jsonl"
  done
done

# The criteria start from the same vocabulary-pruned module the recipe's layer-prune saw.
vocab="$out/recipe-dumps/01-vocab-prune.pir"
for c in kl bi angular ppl; do
  echo "== layer-prune{count=3,criterion=$c}" >&2
  "$pare" opt "$vocab" --passes "layer-prune{count=3,criterion=$c}" -o "$out/layers-$c.pir" --json > "$out/layers-$c.json"
  "$pare" kl "$vocab" "$out/layers-$c.pir" --calibration "$out/humaneval-prompts.txt" --calibration-samples 16 \
    --calibration-length 128 --json > "$out/kl-layers-$c-humaneval.json"
done
echo "results in $out" >&2
