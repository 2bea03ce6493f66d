#!/usr/bin/env bash
# The ablation of issue 9 (docs/RESULTS.md, "Ablation"): each row below is one pruning pipeline, compiled to a plan
# and measured the same way: HumanEval pass@1 (codex protocol; chat too for CHAT_ROWS), KL against the dense model
# on held-out code, parameters, artifact size and decode speed (`pare report`). Then the table (ablation-table.py,
# written into docs/RESULTS.md) and the plots (plot-ablation.py). From a clean clone: setup, release build, everything.
#
# Every step is resumable: a step whose output exists, is complete and is newer than its input is skipped, and the
# evaluation continues its JSON Lines file. Per-row JSON goes to docs/results/ablation/NAME.{row,opt,compile,kl,
# report,humaneval-codex,humaneval-chat}.json and the per-problem results to docs/results/humaneval/NAME-PROTOCOL.jsonl
# (small files, committed: the recorded data); .pir and plans go to out/ablation/ (git-ignored).
#
#   MODEL=FILE          the checkpoint (default: Qwen2.5-Coder-0.5B-Instruct Q4_K_M)
#   ROWS='dense vocab'  run only these rows (default: every row declared below, in order)
#   EVAL_ARGS='--limit 3'  extra options of `pare eval humaneval` (both protocols)
#   REPORT_ARGS='--no-bench'  extra options of `pare report`
#   HELDOUT=FILE        held-out text of `pare kl` (default: data/heldout/code.txt, else data/heldout/mixed.txt,
#                       else data/calibration/code.txt with a warning: then KL is not held out from pruning)
#   KL_SAMPLES=32 KL_LENGTH=128   windows x tokens of `pare kl` (4096 positions; about 1.5-3 min per row on Qwen)
#   DEFAULT=vocab-mass-999+ffn-128-source  the row of the chosen default pipeline (defaultRecipe, compiled as `pare
#                       compile` does by default); CHAT_ROWS (default: dense-source, paper-source, DEFAULT and DEFAULT's
#                       two passes alone, vocab-mass-999-source and ffn-128-source) also get the chat protocol
#   SCRATCH=DIR         a trial run: every output (per-row JSON, results, plans, table, plots) goes under DIR and
#                       docs/ is left alone. Without it, a MODEL other than the default is refused (docs/ holds Qwen's
#                       data), unless ALLOW_OTHER_MODEL=1.
#   TABLE_ONLY=1        no model runs: only the table and the plots from the recorded data
#   SKIP_SETUP=1        do not run scripts/setup.sh (the build still runs)
#   PARE=FILE           measure with this pare binary instead of building .build/release/pare (e.g. a copy, so that
#                       rebuilding the checkout during a long run does not change the binary under it)
#
# Example, a trial on the small model:
#   SCRATCH=/tmp/ablation MODEL=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf ROWS='dense vocab layer-1' \
#     EVAL_ARGS='--limit 3' scripts/ablation.sh
set -euo pipefail

# ---- The rows, declared once: NAME=PIPELINE[@WEIGHTS] ('none' is the dense model). WEIGHTS is `pare compile
# --weights` (f32 when not given: the study began before plans could carry the GGUF's blocks). A row is compared with
# the dense row of the same weights, so arithmetic (f32 against the GGUF's blocks) never passes for a pruning effect.
declared_rows='
dense=none
dense-source=none@source
vocab=vocab-prune
vocab-mass=vocab-prune{select=mass}
vocab-mass-997=vocab-prune{select=mass,mass=0.997,min-count=2}
vocab-mass-999=vocab-prune{select=mass,mass=0.999,mass-samples=24,min-count=2}
ffn-128=ffn-prune{drop=128}
ffn-256=ffn-prune{drop=256}
ffn-512=ffn-prune{drop=512}
layer-1=layer-prune{count=1}
layer-2=layer-prune{count=2}
layer-3=layer-prune{count=3}
vocab+ffn-256=vocab-prune,ffn-prune{drop=256}
vocab+layer-3=vocab-prune,layer-prune{count=3}
layer-3+ffn-256=layer-prune{count=3},ffn-prune{drop=256}
paper=vocab-prune,layer-prune{count=3},ffn-prune{drop=256}
vocab-mass-999-source=vocab-prune{select=mass,mass=0.999,mass-samples=24,min-count=2}@source
vocab-source=vocab-prune@source
vocab-mass-999+ffn-128-source=vocab-prune{select=mass,mass=0.999,mass-samples=24,min-count=2},ffn-prune{drop=128}@source
vocab+ffn-256-source=vocab-prune,ffn-prune{drop=256}@source
vocab+layer-3-source=vocab-prune,layer-prune{count=3}@source
layer-3+ffn-256-source=layer-prune{count=3},ffn-prune{drop=256}@source
paper-source=vocab-prune,layer-prune{count=3},ffn-prune{drop=256}@source
vocab-mass-999-q4=vocab-prune{select=mass,mass=0.999,mass-samples=24,min-count=2}@q4
ffn-128-source=ffn-prune{drop=128}@source
'

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
cd "$root"
say() { printf 'ablation: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 64; }
rel() { case "$1" in "$root"/*) printf '%s' "${1#"$root"/}" ;; *) printf '%s' "$1" ;; esac; }  # paths as recorded

default_model="$cache/models/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
model="$(rel "${MODEL:-$default_model}")"
default_row="${DEFAULT:-vocab-mass-999+ffn-128-source}"
chat_rows="${CHAT_ROWS:-dense-source paper-source $default_row vocab-mass-999-source ffn-128-source}"
kl_samples="${KL_SAMPLES:-32}"
kl_length="${KL_LENGTH:-128}"
read -r -a eval_args <<< "${EVAL_ARGS:-}"
read -r -a report_args <<< "${REPORT_ARGS:-}"

if [ -n "${SCRATCH:-}" ]; then
  mkdir -p "$SCRATCH"
  scratch="$(cd "$SCRATCH" && pwd)"
  results="$scratch/results"; out="$scratch/out"; figures="$scratch"; write_results=()
  say "trial run: everything goes under $scratch; docs/ is left alone"
else
  results="docs/results"; out="out/ablation"; figures="docs"; write_results=(--write-results docs/RESULTS.md)
  if [ "$(rel "$default_model")" != "$model" ] && [ "${ALLOW_OTHER_MODEL:-}" != 1 ]; then
    die "MODEL=$model is not the model docs/results records; use SCRATCH=DIR for a trial (or ALLOW_OTHER_MODEL=1)"
  fi
fi
rows_dir="$results/ablation"

# Declared rows, as "name pipeline" lines.
all_rows="$(printf '%s\n' "$declared_rows" | sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' -e 's/=/ /')"
spec_of() { printf '%s\n' "$all_rows" | awk -v n="$1" '$1 == n { print $2; f = 1 } END { exit !f }'; }
pipeline_of() { local s; s="$(spec_of "$1")" || return 1; printf '%s\n' "${s%@*}"; }
weights_of() { local s; s="$(spec_of "$1")" || return 1; case "$s" in *@*) printf '%s\n' "${s##*@}" ;; *) echo f32 ;; esac; }
order_of() { printf '%s\n' "$all_rows" | awk -v n="$1" '$1 == n { print NR - 1 }'; }
selected="${ROWS:-$(printf '%s\n' "$all_rows" | cut -d' ' -f1 | tr '\n' ' ')}"
for r in $selected; do pipeline_of "$r" >/dev/null || die "ROWS names '$r', which is not declared in $0"; done
for r in $chat_rows; do pipeline_of "$r" >/dev/null || die "CHAT_ROWS or DEFAULT names '$r', which is not declared in $0"; done

table() {
  say "== table and plots"
  python3 scripts/ablation-table.py --results "$results" --json-out "$results/ablation.json" --default "$default_row" \
    "${write_results[@]}"
  python3 scripts/plot-ablation.py --table "$results/ablation.json" --out-dir "$figures"
}
if [ "${TABLE_ONLY:-}" = 1 ]; then table; exit 0; fi

if [ "${SKIP_SETUP:-}" != 1 ]; then scripts/setup.sh; fi
if [ -n "${PARE:-}" ]; then
  pare="$PARE"; [ -x "$pare" ] || die "PARE=$pare is not an executable"
else
  swift build -c release >&2
  pare="$root/.build/release/pare"
fi
[ -e "$model" ] || die "no model at $model"
mkdir -p "$rows_dir" "$results/humaneval" "$out"
run() { nice -n 10 env OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" "$pare" "$@"; }

heldout="${HELDOUT:-}"
if [ -z "$heldout" ]; then
  for f in data/heldout/code.txt data/heldout/mixed.txt data/calibration/code.txt; do
    if [ -f "$f" ]; then heldout="$f"; break; fi
  done
fi
[ -f "$heldout" ] || die "no held-out text at '$heldout'"
if [ "$heldout" = data/heldout/mixed.txt ] && [ -z "${HELDOUT:-}" ]; then
  say "note: no data/heldout/code.txt; KL is measured on data/heldout/mixed.txt (code in several languages and prose)"
fi
if [ "$heldout" = data/calibration/code.txt ]; then
  say "################################################################################################"
  say "WARNING: no data/heldout/ text: KL is measured on data/calibration/code.txt, the text every"
  say "pruning pass calibrates on. The KL column is then NOT held out. Set HELDOUT=FILE to fix this."
  say "################################################################################################"
fi

# A pipeline whose passes or options this binary does not list (a placeholder row) is skipped.
passes_json="$out/passes.json"
run passes --json > "$passes_json"
unsupported() { # pipeline -> prints what is missing, exit 0 if something is
  python3 - "$passes_json" "$1" <<'PY'
import json, re, sys
passes = {p["name"]: {o["name"]: o for o in p["options"]} for p in json.load(open(sys.argv[1]))}
missing = []
for name, opts in re.findall(r'([a-z0-9-]+)(?:\{([^}]*)\})?', sys.argv[2]):
    if name == "none": continue
    if name not in passes: missing.append(f"pass {name}"); continue
    for kv in filter(None, opts.split(",")):
        k, _, v = kv.partition("=")
        o = passes[name].get(k)
        if o is None: missing.append(f"{name} option {k}")
        elif o["kind"] == "choice" and v not in o["values"].split("|"): missing.append(f"{name} {k}={v}")
print(", ".join(missing))
sys.exit(0 if missing else 1)
PY
}

# json_ok FILE [KEY VALUE]...: FILE holds JSON whose top-level KEYs have these values ("KEY~ TEXT": contain TEXT).
json_ok() {
  [ -s "$1" ] && python3 - "$@" <<'PY'
import json, sys
try: d = json.load(open(sys.argv[1]))
except Exception: sys.exit(1)
a = sys.argv[2:]
ok = lambda k, v: v in str(d.get(k[:-1])) if k.endswith("~") else str(d.get(k)) == v
sys.exit(0 if all(ok(k, v) for k, v in zip(a[::2], a[1::2])) else 1)
PY
}
# newer OUT IN...: OUT exists and is newer than every IN.
newer() { local o="$1" i; shift; [ -e "$o" ] || return 1; for i in "$@"; do [ "$o" -nt "$i" ] || return 1; done; }
# step LABEL OUT.json CMD...: runs CMD (stdout to OUT.json, atomically) and says how long it took.
step() {
  local label="$1" dest="$2" t0=$SECONDS; shift 2
  say "  $label ..."
  "$@" > "$dest.part"
  mv "$dest.part" "$dest"
  say "  $label: $((SECONDS - t0)) s"
}
skip() { say "  $1: done earlier ($2), skipped"; }

# ---- Phase 1: per row, the plan, KL on held-out code, the report. ----
ran=()
for name in $selected; do
  pipeline="$(pipeline_of "$name")"
  weights="$(weights_of "$name")"
  if missing="$(unsupported "$pipeline")"; then
    say "== $name: SKIPPED: $pipeline needs $missing, which this pare does not list (\`pare passes\`)"
    continue
  fi
  ran+=("$name")
  say "== $name: $pipeline, weights $weights ($model)"
  t_row=$SECONDS
  printf '{"row": "%s", "pipeline": "%s", "weights": "%s", "order": %s, "model": "%s", "heldout": "%s", "kl_samples": %s, "kl_length": %s}\n' \
    "$name" "$pipeline" "$weights" "$(order_of "$name")" "$model" "$heldout" "$kl_samples" "$kl_length" > "$rows_dir/$name.row.json"
  pir="$out/$name.pir" plan="$out/$name.pare" j="$rows_dir/$name"
  if [ "$pipeline" = none ]; then
    source_model="$model"
  else
    source_model="$pir"
    twin=""  # a row of the same pipeline under other weights: its .pir is this row's .pir
    for other in $(printf '%s\n' "$all_rows" | cut -d' ' -f1); do
      if [ "$other" != "$name" ] && [ "$(pipeline_of "$other")" = "$pipeline" ] && [ -f "$out/$other.pir" ] \
         && json_ok "$rows_dir/$other.opt.json" pipeline "$pipeline" model "$model" && newer "$out/$other.pir" "$model"; then
        twin="$other"; break
      fi
    done
    if [ -f "$pir" ] && json_ok "$j.opt.json" pipeline "$pipeline" model "$model" && newer "$pir" "$model"; then
      skip "opt" "$pir"
    elif [ -n "$twin" ]; then
      cp -p "$out/$twin.pir" "$pir.part" && mv "$pir.part" "$pir"
      cp -p "$rows_dir/$twin.opt.json" "$j.opt.json"
      say "  opt: the same pipeline as row $twin: its .pir and opt.json are copied"
    else
      step "opt --passes '$pipeline'" "$j.opt.json" run opt "$model" --passes "$pipeline" -o "$pir" --json
    fi
  fi
  weights_check=(); if [ "$weights" != f32 ]; then weights_check=(weights "$weights"); fi  # older f32 rows predate the key
  if [ -f "$plan/plan.pb" ] && json_ok "$j.compile.json" "${weights_check[@]}" && newer "$j.compile.json" "$source_model" && newer "$plan/plan.pb" "$source_model"; then
    skip "compile" "$plan"
  else
    step "compile" "$j.compile.json" run compile "$source_model" --passes none --weights "$weights" --kl-budget none -o "$plan" --json
  fi
  if [ "$pipeline" = none ]; then
    say "  kl: the dense model against itself is 0 by definition, not measured"
  elif json_ok "$j.kl.json" a "$model" b "$pir" calibration~ "$heldout (" calibration~ " $kl_samples x $kl_length of" \
       && newer "$j.kl.json" "$pir"; then
    skip "kl" "$j.kl.json"
  else
    step "kl on $heldout ($kl_samples x $kl_length)" "$j.kl.json" run kl "$model" "$pir" --calibration "$heldout" \
      --calibration-samples "$kl_samples" --calibration-length "$kl_length" --json
  fi
  if json_ok "$j.report.json" && newer "$j.report.json" "$plan/plan.pb"; then
    skip "report" "$j.report.json"
  else
    step "report" "$j.report.json" run report "$plan" "${report_args[@]}" --json
  fi
  say "== $name: $((SECONDS - t_row)) s"
done

# ---- Phase 2: HumanEval, resumed from each results file. ----
for name in "${ran[@]}"; do
  protocols=(codex)
  for c in $chat_rows; do if [ "$c" = "$name" ]; then protocols+=(chat); break; fi; done
  for p in "${protocols[@]}"; do
    say "== $name: humaneval ($p)"
    step "humaneval $p" "$rows_dir/$name.humaneval-$p.json" run eval humaneval "$out/$name.pare" --protocol "$p" \
      --results "$results/humaneval" "${eval_args[@]}" --json
  done
done

table
