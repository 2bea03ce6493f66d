#!/usr/bin/env python3
"""The ablation table (docs/RESULTS.md, "Ablation") from the data scripts/ablation.sh records. Python 3 stdlib only.

Reads RESULTS/ablation/NAME.{row,kl,report}.json and RESULTS/humaneval/NAME-{codex,chat}.jsonl, and computes per
row: HumanEval pass@1 (codex; chat where present), its share of the dense row's, the exact McNemar p against dense
(the same test as `pare eval compare`; a row is compared with the dense row of the same plan weights, f32 or the GGUF's
own blocks, so that a change of arithmetic is never read as an effect of pruning), KL mean and top-1 agreement against dense on held-out code, total and block
parameters, the share of dense block parameters removed, artifact size and decode tokens/s. Also the Spearman rank
correlation between KL mean and codex pass@1 across the rows: the paper's premise (KL predicts what pruning costs).

  scripts/ablation-table.py                          print the markdown table (docs/results)
  scripts/ablation-table.py --json-out docs/results/ablation.json --write-results docs/RESULTS.md
  scripts/ablation-table.py --self-test              known values of McNemar and Spearman, a cross-check against
                                                     `pare eval compare`, and inputs that must be rejected
"""
import argparse
import glob
import itertools
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile

BEGIN, END = "<!-- ablation:begin -->", "<!-- ablation:end -->"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AblationError(Exception):
    """Recorded data that cannot make a table: the message says which file and why."""


# ---- Statistics ----

def mcnemar_exact_p(gained, lost):
    """Two-sided exact McNemar p: gained ~ Binomial(gained + lost, 1/2); min(1, 2 P(X <= min)). 1 with no discordance.
    Exact integer arithmetic (the Swift version, Sources/Eval/McNemar.swift, sums in log space)."""
    if not (isinstance(gained, int) and isinstance(lost, int)) or gained < 0 or lost < 0:
        raise AblationError(f"McNemar counts must be non-negative integers, got {gained!r}, {lost!r}")
    n = gained + lost
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(gained, lost) + 1))
    return min(1.0, 2 * tail / 2 ** n)


def ranks(xs):
    """1-based ranks, ties given their average rank."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def pearson(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    if saa == 0 or sbb == 0:
        return None
    return sab / math.sqrt(saa * sbb)


def spearman(xs, ys, permutations=20000):
    """Spearman's rho (Pearson on average ranks) with a two-sided permutation p: exact for n <= 8, else
    `permutations` shuffles with seed 0 (deterministic). rho is None when one side is constant."""
    if len(xs) != len(ys):
        raise AblationError(f"Spearman needs pairs, got {len(xs)} and {len(ys)} values")
    n = len(xs)
    if n < 3:
        raise AblationError(f"Spearman needs at least 3 rows, got {n}")
    if any(not math.isfinite(v) for v in list(xs) + list(ys)):
        raise AblationError("Spearman got a value that is not finite")
    rx, ry = ranks(xs), ranks(ys)
    tied = {"kl": n - len(set(xs)), "pass@1": n - len(set(ys))}
    rho = pearson(rx, ry)
    out = {"n": n, "rho": rho, "tied_values": tied, "p": None, "p_method": None}
    if rho is None:
        out["note"] = "undefined: one of the two is the same in every row"
        return out
    ties = [f"{v} {k} values tie with another" for k, v in tied.items() if v]
    if ties:
        out["note"] = "ties (average ranks): " + "; ".join(ties)
    eps = 1e-12
    if n <= 8:
        perms = list(itertools.permutations(ry))
        hits = sum(1 for p in perms if abs(pearson(rx, list(p)) or 0) >= abs(rho) - eps)
        out["p"], out["p_method"] = hits / len(perms), f"exact over all {len(perms)} permutations"
    else:
        rng, shuffled, hits = random.Random(0), list(ry), 0
        for _ in range(permutations):
            rng.shuffle(shuffled)
            hits += abs(pearson(rx, shuffled) or 0) >= abs(rho) - eps
        out["p"], out["p_method"] = (hits + 1) / (permutations + 1), f"{permutations} random permutations, seed 0"
    return out


# ---- Reading the recorded data ----

def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise AblationError(f"{path}: {e}") from None


def read_results(path):
    """A complete `pare eval humaneval` results file: (header, {task_id: passed}). Rejects what pare's reader rejects."""
    try:
        with open(path) as f:
            lines = f.read().split("\n")
    except OSError as e:
        raise AblationError(f"{path}: {e}") from None
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise AblationError(f"{path}: empty: no header")
    header, passed = None, {}
    for no, line in enumerate(lines, 1):
        try:
            d = json.loads(line)
        except ValueError as e:
            raise AblationError(f"{path}:{no}: not JSON ({e})") from None
        if header is None:
            if d.get("format") != "pare-eval":
                raise AblationError(f"{path}:1: the first line is not a pare-eval header")
            header = d
            continue
        if not isinstance(d.get("task_id"), str) or not isinstance(d.get("passed"), bool):
            raise AblationError(f"{path}:{no}: a record needs task_id and passed")
        if d["task_id"] in passed:
            raise AblationError(f"{path}:{no}: {d['task_id']} appears twice")
        passed[d["task_id"]] = d["passed"]
    return header, passed


def compare(base, other):
    """Pairs two {task_id: passed} by task id, as `pare eval compare` does."""
    paired = [t for t in base if t in other]
    if not paired:
        raise AblationError("two results files share no task id")
    gained = sum(1 for t in paired if not base[t] and other[t])
    lost = sum(1 for t in paired if base[t] and not other[t])
    return {"problems": len(paired), "passed_base": sum(base[t] for t in paired), "passed": sum(other[t] for t in paired),
            "gained": gained, "lost": lost, "mcnemar_p": mcnemar_exact_p(gained, lost)}


def finite(x, what, lo=None):
    if not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x) or (lo is not None and x < lo):
        raise AblationError(f"{what}: expected a finite number{'' if lo is None else f' >= {lo}'}, got {x!r}")
    return x


def load_rows(results):
    """The rows recorded under RESULTS, in declaration order, each a dict of its figures (None where not measured)."""
    rows_dir, he = os.path.join(results, "ablation"), os.path.join(results, "humaneval")
    rows = []
    for path in sorted(glob.glob(os.path.join(rows_dir, "*.row.json"))):
        r = load_json(path)
        name = os.path.basename(path)[: -len(".row.json")]
        if r.get("row") != name:
            raise AblationError(f"{path}: names row {r.get('row')!r}, not {name!r}")
        rows.append(r)
    if not rows:
        raise AblationError(f"no rows in {rows_dir} (*.row.json): run scripts/ablation.sh first")
    rows.sort(key=lambda r: (r.get("order", 1 << 30), r["row"]))
    models = {r.get("model") for r in rows}
    if len(models) != 1:
        raise AblationError(f"rows of different models in {rows_dir}: {sorted(map(str, models))}: one study per folder")
    model = models.pop()
    weights_of = lambda r: r.get("weights") or "f32"  # rows recorded before plans had other weights are f32
    dense_by_weights = {}
    for r in rows:
        if r.get("pipeline") == "none":
            if weights_of(r) in dense_by_weights:
                raise AblationError(f"{rows_dir}: two dense rows (pipeline none) with weights {weights_of(r)}: "
                                    f"{dense_by_weights[weights_of(r)]['row']} and {r['row']}")
            dense_by_weights[weights_of(r)] = r
    # Re-encoded weights (f16, q8, q4) are compared with the dense model as the checkpoint ships it (source) unless
    # a dense row of their own is declared: the question they answer is what the format and the pruning cost together.
    for w in sorted({weights_of(r) for r in rows} - set(dense_by_weights)):
        if w in ("f16", "q8", "q4") and "source" in dense_by_weights:
            dense_by_weights[w] = dense_by_weights["source"]
    for r in rows:
        if weights_of(r) not in dense_by_weights:
            raise AblationError(f"{rows_dir}: row {r['row']} has weights {weights_of(r)} but no dense row (pipeline none) "
                                f"has: declare one, it is what the row is compared with")

    out = []
    for r in rows:
        name, base = r["row"], os.path.join(rows_dir, r["row"])
        row = {"row": name, "pipeline": r["pipeline"], "weights": weights_of(r), "dense": r["pipeline"] == "none"}
        rep_path = base + ".report.json"
        if os.path.exists(rep_path):
            plans = load_json(rep_path).get("plans")
            if not isinstance(plans, list) or len(plans) != 1:
                raise AblationError(f"{rep_path}: expected one plan")
            p = plans[0]
            row["parameters_total"] = finite(p.get("parameters_total"), f"{rep_path} parameters_total", 1)
            row["parameters_blocks"] = finite(p.get("parameters_blocks"), f"{rep_path} parameters_blocks", 0)
            row["blocks"] = p.get("blocks")
            row["artifact_bytes"] = finite(p.get("artifact_bytes"), f"{rep_path} artifact_bytes", 1)
            d = p.get("decode_tokens_per_second")
            row["decode_tokens_per_second"] = None if d is None else finite(d, f"{rep_path} decode_tokens_per_second", 0)
        if row["dense"]:
            row.update(kl_mean=0.0, kl_top1=1.0, kl_removed_mass=0.0, kl_positions=None, kl_measured=False)
        elif os.path.exists(base + ".kl.json"):
            k = load_json(base + ".kl.json")
            if k.get("a") != model:
                raise AblationError(f"{base}.kl.json: measured against {k.get('a')!r}, not the rows' model {model!r}")
            kl = k.get("kl") or {}
            row["kl_mean"] = finite(kl.get("mean"), f"{base}.kl.json kl.mean", -1e-9)
            row["kl_top1"] = finite(kl.get("top1_agreement"), f"{base}.kl.json kl.top1_agreement", 0)
            row["kl_removed_mass"] = finite(kl.get("removed_mass_mean", 0), f"{base}.kl.json kl.removed_mass_mean", 0)
            row["kl_positions"], row["kl_measured"], row["kl_text"] = kl.get("positions"), True, k.get("calibration")
        if row["weights"] in ("f16", "q8", "q4") and os.path.exists(base + ".compile.json"):
            # The re-encoding is a pass of the compile (not of the .pir that `pare kl` reads): its own KL, on the
            # pass manager's calibration windows, is in the compile report.
            q = [p for p in load_json(base + ".compile.json").get("passes", []) if p.get("pass") == "quantize" and p.get("kl")]
            if q:
                row["quantize_kl_mean"] = finite(q[-1]["kl"].get("mean"), f"{base}.compile.json quantize kl.mean", -1e-9)
        for proto in ("codex", "chat"):
            path = os.path.join(he, f"{name}-{proto}.jsonl")
            if os.path.exists(path):
                header, passed = read_results(path)
                if header.get("protocol") != proto:
                    raise AblationError(f"{path}: the header says protocol {header.get('protocol')!r}")
                if passed:
                    row[proto] = {"passed_by_task": passed, "problems": len(passed), "passed": sum(passed.values()),
                                  "pass_at_1": sum(passed.values()) / len(passed), "results": os.path.relpath(path, ROOT),
                                  "header": header}
        out.append(row)

    by_name = {r["row"]: r for r in out}
    dense_row = {w: by_name[d["row"]] for w, d in dense_by_weights.items()}
    # Rows are compared with dense only when they were run the same way: same data, limits, harness and problem set.
    for row in out:
        d = dense_row[row["weights"]]
        row["dense_row"] = d["row"]
        for proto in ("codex", "chat"):
            if proto in row and proto in d:
                for field in ("data_sha256", "max_tokens", "timeout_seconds", "memory_mb", "harness"):
                    if row[proto]["header"].get(field) != d[proto]["header"].get(field):
                        raise AblationError(f"{row[proto]['results']}: {field} {row[proto]['header'].get(field)!r} differs from "
                                            f"dense's {d[proto]['header'].get(field)!r}; re-run the row (EVAL_ARGS=--restart or --rescore)")
                if row[proto]["problems"] != d[proto]["problems"]:  # compared on the shared problems; said in the table
                    row[proto]["incomplete"] = True
                    print(f"warning: {row[proto]['results']}: {row[proto]['problems']} problems, dense has {d[proto]['problems']}: "
                          "an interrupted run? run scripts/ablation.sh again to finish it", file=sys.stderr)
    for row in out:
        d = dense_row[row["weights"]]
        if "parameters_blocks" in row and "parameters_blocks" in d:
            row["blocks_removed_fraction"] = 1 - row["parameters_blocks"] / d["parameters_blocks"]
            row["parameters_removed_fraction"] = 1 - row["parameters_total"] / d["parameters_total"]
        for proto in ("codex", "chat"):
            if proto in row and proto in d:
                c = compare(d[proto]["passed_by_task"], row[proto]["passed_by_task"])
                row[proto].update(c)
                row[proto]["share_of_dense"] = c["passed"] / c["passed_base"] if c["passed_base"] else None
    for row in out:
        for proto in ("codex", "chat"):
            if proto in row:
                del row[proto]["passed_by_task"]
                del row[proto]["header"]
    return model, out


def correlation(rows):
    """Spearman between KL mean and codex pass@1: every row with both, and the pruned rows alone."""
    # Rows that prune the vocabulary are left out: `pare kl` reads both models with the dense tokenization and
    # renormalises over the kept tokens, so it is blind to what re-tokenization costs (their held-out loss per byte,
    # from the pass manager's held-out check, is in NAME.opt.json).
    # A pipeline measured under two weights has one KL (`pare kl` runs the interpreter on the module): it counts once,
    # its first row in declared order, so a twin does not pass for a second observation.
    both, seen = [], set()
    for r in rows:
        if "kl_mean" in r and "codex" in r and "vocab-prune" not in r.get("pipeline", "") and r["pipeline"] not in seen:
            seen.add(r["pipeline"])
            both.append(r)
    result = {"x": "kl_mean", "y": "codex pass@1",
              "note": "rows that prune the vocabulary are left out: their KL is measured over kept tokens only; "
                      "a pipeline measured under two weights counts once"}
    for key, sel in (("all_rows", both), ("pruned_rows", [r for r in both if not r["dense"]])):
        try:
            s = spearman([r["kl_mean"] for r in sel], [r["codex"]["pass_at_1"] for r in sel])
        except AblationError as e:
            s = {"n": len(sel), "rho": None, "note": str(e)}
        s["rows"] = [r["row"] for r in sel]
        result[key] = s
    return result


# ---- Rendering ----

def pct(x, digits=1):
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def pass_cell(e):
    return f"{e['passed']}/{e['problems']} = {pct(e['pass_at_1'])}"


def markdown(model, rows, corr, default, where="docs/results"):
    L = ["| row | pipeline | weights | pass@1 (codex) | of dense | McNemar p | pass@1 (chat) | KL mean | top-1 | parameters "
         "| block parameters | blocks removed | artifact | decode tok/s |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    dagger = False
    for r in rows:
        c, ch = r.get("codex"), r.get("chat")
        name = f"**{r['row']}**" if r["row"] == default else r["row"]
        codex = pass_cell(c) if c else "not run"
        share = "" if not c or r["dense"] else pct(c.get("share_of_dense"), 0)
        p = "" if not c or r["dense"] or "mcnemar_p" not in c else f"{c['mcnemar_p']:.3g}"
        chat = ""
        if ch:
            chat = pass_cell(ch)
            if not r["dense"] and "mcnemar_p" in ch:
                chat += f" ({pct(ch.get('share_of_dense'), 0)}, p {ch['mcnemar_p']:.3g})"
        if r["dense"]:
            kl, top1 = "0", "100%"
        elif r.get("kl_measured"):
            kl, top1 = f"{r['kl_mean']:.3g}", pct(r["kl_top1"])
            if r["kl_removed_mass"] > 0:
                kl += " †"
                dagger = True
            if "quantize_kl_mean" in r:
                kl += f" + {r['quantize_kl_mean']:.3g} ‡"
        else:
            kl, top1 = "not run", ""
        m = lambda k: f"{r[k] / 1e6:.1f} M" if k in r else "-"
        removed = "" if r["dense"] or "blocks_removed_fraction" not in r else pct(r["blocks_removed_fraction"])
        art = f"{r['artifact_bytes'] / 1e6:,.0f} MB" if "artifact_bytes" in r else "-"
        dec = f"{r['decode_tokens_per_second']:.1f}" if r.get("decode_tokens_per_second") is not None else "-"
        L.append(f"| {name} | `{r['pipeline']}` | {r['weights']} | {codex} | {share} | {p} | {chat} | {kl} | {top1} | {m('parameters_total')} "
                 f"| {m('parameters_blocks')} | {removed} | {art} | {dec} |")
    L.append("")
    L.append("Weights: `f32`, a float32 plan; `source`, the GGUF's own blocks where whole rows survive (`pare compile "
             "--weights source`). Each row's share, McNemar p and block parameters removed are against the dense row of "
             "the same weights (" + ", ".join(f"{w}: {r['row']}" for w, r in sorted({r['weights']: r for r in rows if r['dense']}.items())) + "); "
             "rows re-encoded by `--weights f16|q8|q4` against the source dense row, unless they have their own.")
    L.append("")
    if any("quantize_kl_mean" in r for r in rows):
        L.append("‡ re-encoded weights (`--weights f16|q8|q4`): the first KL is the pruning's (`pare kl` on the .pir, held-out), "
                 "the second the `quantize` pass's own, measured by the pass manager on its calibration windows (NAME.compile.json).")
        L.append("")
    if dagger:
        masses = ", ".join(f"{r['row']} {pct(r['kl_removed_mass'])}" for r in rows if r.get("kl_removed_mass", 0) > 0)
        L.append("† vocabulary-pruned: `pare kl` compares the kept tokens only (P renormalised over them), so this KL "
                 f"leaves out the dense model's probability on the removed tokens (mean: {masses}).")
        L.append("")
    for key, label in (("all_rows", "all rows (dense at KL 0)"), ("pruned_rows", "pruned rows only")):
        s = corr[key]
        if s.get("rho") is None:
            L.append(f"Spearman rank correlation of KL mean and codex pass@1, {label}: not computed "
                     f"({s.get('note', 'no rows')}; n = {s['n']}).")
        else:
            note = f"; {s['note']}" if s.get("note") else ""
            L.append(f"Spearman rank correlation of KL mean and codex pass@1, {label}: rho = {s['rho']:.3f} over "
                     f"n = {s['n']} rows (permutation p = {s['p']:.3g}, {s['p_method']}{note}).")
    L.append("")
    L.append(f"Model `{os.path.basename(model)}`. Generated by `scripts/ablation-table.py` from `{where}/ablation/` "
             f"and `{where}/humaneval/`; do not edit by hand.")
    return "\n".join(L)


def write_region(path, text):
    """Replaces what lies between the ablation markers of `path` with `text`."""
    with open(path) as f:
        doc = f.read()
    if doc.count(BEGIN) != 1 or doc.count(END) != 1 or doc.index(BEGIN) > doc.index(END):
        raise AblationError(f"{path}: needs exactly one {BEGIN} followed by one {END}")
    head, rest = doc.split(BEGIN)
    _, tail = rest.split(END)
    new = f"{head}{BEGIN}\n{text}\n{END}{tail}"
    if new != doc:
        with open(path + ".part", "w") as f:
            f.write(new)
        os.replace(path + ".part", path)


def build(results, default):
    model, rows = load_rows(results)
    corr = correlation(rows)
    heldout = sorted({r.get("kl_text") for r in rows if r.get("kl_text")})
    return {"model": model, "default_row": default, "kl_text": heldout, "rows": rows, "kl_vs_pass1": corr}


# ---- Self-test ----

def self_test():
    failures = []

    def check(what, ok, detail=""):
        print(f"{'OK    ' if ok else 'NOT OK'} {what}{'' if ok else '  ' + detail}")
        if not ok:
            failures.append(what)

    def rejects(what, fn):
        try:
            fn()
        except AblationError as e:
            check(f"rejects {what}", True)
            return str(e)
        check(f"rejects {what}", False, "was accepted")

    # McNemar: known values, exact.
    for (g, l), want in {(0, 0): 1.0, (1, 0): 1.0, (2, 2): 1.0, (0, 5): 1 / 16, (3, 10): 2 * 378 / 8192,
                         (10, 30): 2 * sum(math.comb(40, i) for i in range(11)) / 2 ** 40}.items():
        got = mcnemar_exact_p(g, l)
        check(f"McNemar p({g}, {l}) = {want:.6g}", abs(got - want) < 1e-15, f"got {got}")
    rejects("McNemar with a negative count", lambda: mcnemar_exact_p(-1, 3))

    # Spearman: scipy.stats.spearmanr's documented example (with a tie), perfect orders, constant input.
    s = spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
    check("Spearman of scipy's example = 0.8207826816681233", abs(s["rho"] - 0.8207826816681233) < 1e-12, str(s))
    check("  its tie is noted", "note" in s and s["tied_values"]["pass@1"] == 1, str(s))
    check("Spearman of a monotone pair = 1", abs(spearman([0.1, 0.5, 2.0], [1, 2, 3])["rho"] - 1) < 1e-12)
    s = spearman([0.0, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 9.0, 12.0], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    check("Spearman of a decreasing pair = -1, permutation p = 1/20001", abs(s["rho"] + 1) < 1e-12 and s["p"] == 1 / 20001, str(s))
    check("Spearman exact p of n=3 perfect order = 2/6", abs(spearman([1, 2, 3], [3, 2, 1])["p"] - 2 / 6) < 1e-12)
    check("Spearman of a constant side is undefined", spearman([1, 2, 3], [5, 5, 5])["rho"] is None)
    rejects("Spearman of 2 rows", lambda: spearman([1, 2], [2, 1]))
    rejects("Spearman with NaN", lambda: spearman([1, float("nan"), 3], [1, 2, 3]))

    with tempfile.TemporaryDirectory() as tmp:
        def results_file(name, passed, protocol="codex", dup=False):
            path = os.path.join(tmp, "humaneval", f"{name}-{protocol}.jsonl")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(json.dumps({"format": "pare-eval", "benchmark": "humaneval", "protocol": protocol, "model": name,
                                    "model_sha256": "0" * 64, "data_sha256": "0" * 64, "max_tokens": 512,
                                    "timeout_seconds": 10, "memory_mb": 2048}) + "\n")
                recs = list(enumerate(passed)) + ([(0, passed[0])] if dup else [])
                for i, ok in recs:
                    f.write(json.dumps({"task_id": f"HumanEval/{i}", "completion": "", "passed": ok,
                                        "error": None if ok else "assertion", "error_detail": None, "seconds": 0,
                                        "generation_seconds": 0, "execution_seconds": 0, "tokens": 1,
                                        "prompt_tokens": 1, "stop_reason": "stop"}) + "\n")
            return path

        # Cross-check against `pare eval compare` on planted results files.
        pare = os.path.join(ROOT, ".build", "release", "pare")
        if os.access(pare, os.X_OK):
            rng = random.Random(1)
            cases = [([True] * 40 + [False] * 4, [False] * 25 + [True] * 19),  # +4 -25: p far below 0.05
                     ([True] * 164, [True] * 163 + [False])]
            for _ in range(5):
                n = rng.randint(5, 60)
                a = [rng.random() < 0.5 for _ in range(n)]
                cases.append((a, [x if rng.random() < 0.6 else rng.random() < 0.3 for x in a]))
            for case, (a, b) in enumerate(cases):
                n = len(a)
                fa, fb = results_file(f"xa{case}", a), results_file(f"xb{case}", b)
                got = json.loads(subprocess.run([pare, "eval", "compare", fa, fb, "--json"], check=True,
                                                capture_output=True, text=True).stdout)
                mine = compare(read_results(fa)[1], read_results(fb)[1])
                same = (got["problems"], got["passed_a"], got["passed_b"], len(got["gained"]), len(got["lost"])) == \
                       (mine["problems"], mine["passed_base"], mine["passed"], mine["gained"], mine["lost"])
                close = abs(got["mcnemar_p"] - mine["mcnemar_p"]) <= 1e-9 * max(1, mine["mcnemar_p"])
                check(f"same as pare eval compare: {n} problems, +{mine['gained']} -{mine['lost']}, "
                      f"p = {mine['mcnemar_p']:.6g}", same and close, f"pare: {got}, here: {mine}")
        else:
            print(f"SKIP   cross-check against pare eval compare: no {pare} (swift build -c release)")

        # A whole synthetic study: three rows, the figures the table derives.
        def row(name, order, pipeline, blocks, kl=None, model="m.gguf", passed=None, chat=None, weights=None):
            d = os.path.join(tmp, "ablation")
            os.makedirs(d, exist_ok=True)
            r = {"row": name, "pipeline": pipeline, "order": order, "model": model}
            if weights:
                r["weights"] = weights
            json.dump(r, open(f"{d}/{name}.row.json", "w"))
            json.dump({"plans": [{"parameters_total": blocks + 100, "parameters_blocks": blocks, "blocks": 4,
                                  "artifact_bytes": 4 * (blocks + 100), "decode_tokens_per_second": 10.0}]},
                      open(f"{d}/{name}.report.json", "w"))
            if kl is not None:
                json.dump({"a": model, "b": name, "calibration": "held-out",
                           "kl": {"mean": kl, "top1_agreement": 0.9, "removed_mass_mean": 0, "positions": 64}},
                          open(f"{d}/{name}.kl.json", "w"))
            if passed is not None:
                results_file(name, passed)
            if chat is not None:
                results_file(name, chat, "chat")

        row("dense", 0, "none", 1000, passed=[True] * 6 + [False] * 4, chat=[True] * 5 + [False] * 5)
        row("a", 1, "layer-prune{count=1}", 900, kl=0.1, passed=[True] * 5 + [False] * 5)
        row("b", 2, "layer-prune{count=2}", 800, kl=0.3, passed=[False] * 6 + [True] * 2 + [False] * 2)
        t = build(tmp, "b")
        by = {r["row"]: r for r in t["rows"]}
        check("rows in declared order", [r["row"] for r in t["rows"]] == ["dense", "a", "b"])
        check("share of dense: 5/6 and 2/6", abs(by["a"]["codex"]["share_of_dense"] - 5 / 6) < 1e-12
              and abs(by["b"]["codex"]["share_of_dense"] - 2 / 6) < 1e-12)
        check("McNemar against dense: a (+0 -1) p = 1, b (+2 -6) p = 2*37/256",
              by["a"]["codex"]["mcnemar_p"] == 1.0 and abs(by["b"]["codex"]["mcnemar_p"] - 2 * 37 / 256) < 1e-15,
              str(by["b"]["codex"]))
        check("block parameters removed: 10% and 20%", abs(by["a"]["blocks_removed_fraction"] - 0.1) < 1e-12
              and abs(by["b"]["blocks_removed_fraction"] - 0.2) < 1e-12)
        check("KL and pass@1 in opposite order: rho = -1 over 3 rows", abs(t["kl_vs_pass1"]["all_rows"]["rho"] + 1) < 1e-12)
        check("pruned rows alone: 2 rows, not computed", t["kl_vs_pass1"]["pruned_rows"]["rho"] is None)
        md = markdown(t["model"], t["rows"], t["kl_vs_pass1"], "b")
        check("table has the dense chat cell and the default in bold", "5/10 = 50.0%" in md and "| **b** |" in md, md)

        doc = os.path.join(tmp, "RESULTS.md")
        open(doc, "w").write(f"# R\n\nbefore\n{BEGIN}\nold table\n{END}\nafter\n")
        write_region(doc, "NEW")
        check("--write-results replaces only the marked region", open(doc).read() == f"# R\n\nbefore\n{BEGIN}\nNEW\n{END}\nafter\n")
        open(doc, "w").write(f"# R\n{BEGIN}\nno end marker\n")
        rejects("a RESULTS.md without the end marker", lambda: write_region(doc, "NEW"))

        # Known-bad inputs: each must be rejected, not tabulated.
        row("c", 3, "ffn-prune{drop=8}", 950, kl=0.05, model="other.gguf")
        rejects("a row of another model", lambda: build(tmp, "b"))
        row("c", 3, "ffn-prune{drop=8}", 950, kl=0.05)
        json.dump({"a": "other.gguf", "kl": {"mean": 0.05, "top1_agreement": 0.9}}, open(f"{tmp}/ablation/c.kl.json", "w"))
        rejects("a KL measured against another model", lambda: build(tmp, "b"))
        row("c", 3, "ffn-prune{drop=8}", 950, kl=float("nan"))
        rejects("a KL that is NaN", lambda: build(tmp, "b"))
        row("c", 3, "ffn-prune{drop=8}", 950, kl=0.05, passed=[True, False, True])
        results_file("c", [True, False, True], dup=True)
        rejects("a results file with a task twice", lambda: build(tmp, "b"))
        results_file("c", [True, False, True])
        with open(os.path.join(tmp, "humaneval", "c-codex.jsonl"), "a") as f:
            f.write('{"task_id": "HumanEval/9", "pass')
        rejects("a results file cut short", lambda: build(tmp, "b"))
        results_file("c", [True, False, True])
        check("the repaired study builds again", len(build(tmp, "b")["rows"]) == 4)

        # Two weights: a source row is compared with the source dense row, never with the f32 one.
        row("dense-s", 5, "none", 1000, passed=[True] * 4 + [False] * 6, weights="source")
        row("a-s", 6, "layer-prune{count=1}", 900, kl=0.1, passed=[True] * 5 + [False] * 5, weights="source")
        t = build(tmp, "b")
        by = {r["row"]: r for r in t["rows"]}
        check("a source row against the source dense row: +1 -0, share 5/4", by["a-s"]["dense_row"] == "dense-s"
              and (by["a-s"]["codex"]["gained"], by["a-s"]["codex"]["lost"]) == (1, 0)
              and abs(by["a-s"]["codex"]["share_of_dense"] - 5 / 4) < 1e-12, str(by["a-s"]))
        check("an f32 row still against the f32 dense row", by["a"]["dense_row"] == "dense")
        row("a-q4", 8, "layer-prune{count=1}", 900, kl=0.1, passed=[True] * 3 + [False] * 7, weights="q4")
        t = build(tmp, "b")
        by = {r["row"]: r for r in t["rows"]}
        check("a q4 row without a q4 dense row: against the source dense row", by["a-q4"]["dense_row"] == "dense-s"
              and by["a-q4"]["codex"]["lost"] == 1, str(by["a-q4"]))
        os.remove(f"{tmp}/ablation/a-q4.row.json")
        md = markdown(t["model"], t["rows"], t["kl_vs_pass1"], "b")
        check("the table names each weights' dense row", "f32: dense, source: dense-s" in md, md)
        check("twins count once in the correlation", t["kl_vs_pass1"]["all_rows"]["rows"] == ["dense", "a", "b", "c"],
              str(t["kl_vs_pass1"]["all_rows"]))
        row("dense-s2", 7, "none", 1000, passed=[True] * 10, weights="source")
        rejects("two dense rows of the same weights", lambda: build(tmp, "b"))
        os.remove(f"{tmp}/ablation/dense-s2.row.json")
        os.remove(f"{tmp}/ablation/dense-s.row.json")
        rejects("a source row without a source dense row", lambda: build(tmp, "b"))
        os.remove(f"{tmp}/ablation/a-s.row.json")
        os.remove(f"{tmp}/ablation/dense.row.json")
        rejects("a study without its dense row", lambda: build(tmp, "b"))

    print(f"self-test: {'all OK' if not failures else f'{len(failures)} NOT OK'}")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=os.path.join(ROOT, "docs", "results"), help="the recorded data (default: docs/results)")
    ap.add_argument("--json-out", help="write the rows and the correlation here as JSON (docs/results/ablation.json)")
    ap.add_argument("--write-results", metavar="RESULTS.md", help="rewrite the region between the ablation markers")
    ap.add_argument("--default", default="paper", help="the row of the chosen default pipeline (shown in bold)")
    ap.add_argument("--self-test", action="store_true", help="run the self-test and exit")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    try:
        t = build(a.results, a.default)
        where = os.path.relpath(os.path.abspath(a.results), ROOT)
        md = markdown(t["model"], t["rows"], t["kl_vs_pass1"], a.default, where if not where.startswith("..") else a.results)
        print(md)
        if a.json_out:
            with open(a.json_out + ".part", "w") as f:
                json.dump(t, f, indent=1, sort_keys=True)
                f.write("\n")
            os.replace(a.json_out + ".part", a.json_out)
        if a.write_results:
            write_region(a.write_results, md)
    except AblationError as e:
        print(f"ablation-table: error: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
