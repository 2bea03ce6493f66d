#!/usr/bin/env bash
# Benchmarks (not tests): load time and reference-interpreter time for a 128-token prompt on both models.
# Prints a Markdown table row per model with the date and the machine, for docs/BENCHMARKS.md.
#   scripts/bench.sh            # digest cache warm (the usual case after the first load)
#   COLD=1 scripts/bench.sh     # empty digest cache: includes hashing the checkpoint once
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
cd "$root"
swift build -c release >&2
pare="$root/.build/release/pare"
machine="$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "$(date -u +%F), $machine, OpenBLAS $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?')"
echo
echo "| model | load (s) | of which weights (s) | 128-token prompt (s, median of 5) | GFLOP/s | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|"
for m in SmolLM2-135M-Instruct.Q4_1.gguf Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf; do
  if [ -n "${COLD:-}" ]; then export PARE_DIGEST_CACHE="$(mktemp -d)"; fi
  "$pare" bench "$cache/models/$m" --tokens 128 --runs 5 --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(f\"| $m | {r['load_seconds']:.2f} | {r['weights_seconds']:.2f} | {r['prompt_seconds_median']:.3f} | {r['gflops_effective']:.1f} | {r['peak_rss_mib']:.0f} |\")"
done
