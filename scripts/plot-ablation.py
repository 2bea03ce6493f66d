#!/usr/bin/env python3
"""The ablation's two plots, from docs/results/ablation.json (written by scripts/ablation-table.py):
  docs/ablation-pass1.png  codex pass@1 against the share of dense block parameters removed, each row labelled,
                           dense marked, a line at 97% of dense pass@1;
  docs/ablation-kl.png     codex pass@1 against KL mean on held-out code (log x; dense, at KL 0, is left out).
The same data gives the same bytes: a pinned matplotlib, the Agg backend, no timestamps or software name in the PNG.
matplotlib is installed with pip (PyPI) when missing, and the script says so.

  scripts/plot-ablation.py [--table docs/results/ablation.json] [--out-dir docs]
"""
import argparse
import importlib
import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATPLOTLIB = "matplotlib==3.11.2"  # pinned: another version draws other bytes


def matplotlib_pyplot():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"plot-ablation: matplotlib is not installed; installing {MATPLOTLIB} with pip", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", MATPLOTLIB],
                       check=True)
        importlib.invalidate_caches()
    import matplotlib
    if matplotlib.__version__ != MATPLOTLIB.split("==")[1]:
        print(f"plot-ablation: warning: matplotlib {matplotlib.__version__}, not {MATPLOTLIB}: the PNG bytes may differ "
              "from the committed ones", file=sys.stderr)
    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.hashsalt": "pare", "font.family": "DejaVu Sans", "font.size": 9})
    import matplotlib.pyplot as plt
    return plt


def save(fig, path):
    fig.savefig(path + ".part.png", dpi=120, metadata={"Software": None}, format="png")
    os.replace(path + ".part.png", path)
    print(f"plot-ablation: wrote {os.path.relpath(path, ROOT) if path.startswith(ROOT) else path}", file=sys.stderr)


def labeller(ax, log=False):
    """Labels points; labels of points drawn at (nearly) the same place are stacked instead of overprinted."""
    seen = {}

    def label(x, y, text):
        key = (round(math.log10(x) * 2) if log else round(x), round(y / 2))
        k = seen[key] = seen.get(key, -1) + 1
        ax.annotate(text, (x, y), xytext=(4, 4 + 10 * k), textcoords="offset points", fontsize=8)
    return label


def pass_axis(ax, values, n):
    ax.set_ylabel(f"HumanEval pass@1, codex protocol, % ({n} problems)")
    ax.set_ylim(0, max(5.0, 1.12 * max(values)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", default=os.path.join(ROOT, "docs", "results", "ablation.json"))
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "docs"))
    a = ap.parse_args()
    with open(a.table) as f:
        t = json.load(f)
    rows = [r for r in t["rows"] if "codex" in r]
    dense = next((r for r in rows if r["dense"]), None)
    if dense is None:
        print("plot-ablation: error: the dense row has no codex pass@1 yet: nothing to plot against", file=sys.stderr)
        return 3
    plt = matplotlib_pyplot()
    model = os.path.basename(t["model"])
    d1 = dense["codex"]["pass_at_1"]
    n = dense["codex"]["problems"]

    # Left: block (non-embedding) parameters removed, as the issue asks; right: all parameters removed, where the
    # vocabulary rows (which remove no block parameter) show what they save.
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for ax, key, what in ((axes[0], "blocks_removed_fraction", "block (non-embedding) parameters"),
                          (axes[1], "parameters_removed_fraction", "all parameters")):
        label = labeller(ax)
        for r in rows:
            x = 100 * (0.0 if r["dense"] else r.get(key, float("nan")))
            y = 100 * r["codex"]["pass_at_1"]
            if math.isnan(x):
                continue
            src = r.get("weights", "f32") != "f32"  # the GGUF's own blocks: a triangle, f32: a circle
            if r["dense"]:
                ax.scatter([x], [y], marker="*", s=160, color="gray" if src else "black", zorder=3,
                           label=f"dense ({r.get('weights', 'f32')})")
            else:
                w = r.get("weights", "f32")
                style = {"f32": ("o", "tab:blue"), "source": ("^", "tab:green")}.get(w, ("s", "tab:purple"))
                ax.scatter([x], [y], s=30, marker=style[0], color=style[1], zorder=3,
                           label={"f32": "weights: f32", "source": "weights: GGUF blocks (source)"}.get(w, f"weights: {w} (re-encoded)"))
            label(x, y, r["row"])
        ax.axhline(100 * 0.97 * d1, color="tab:red", linestyle="--", linewidth=1, label="97% of dense pass@1")
        ax.set_xlabel(f"{what} removed, % of dense")
        handles, names = ax.get_legend_handles_labels()
        ax._pare_legend = {n: h for h, n in zip(handles, names)}  # one entry per label
        ax.set_title(f"pass@1 against {what} removed")
        ax.grid(True, linewidth=0.3)
    pass_axis(axes[0], [100 * r["codex"]["pass_at_1"] for r in rows], n)
    axes[0].legend(axes[0]._pare_legend.values(), axes[0]._pare_legend.keys(), loc="lower left")
    fig.suptitle(model)
    fig.tight_layout()
    save(fig, os.path.join(a.out_dir, "ablation-pass1.png"))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7.5, 5))
    label = labeller(ax, log=True)
    floor = 1e-4  # a vocabulary-only row's KL is ~1e-14 (kept tokens only): drawn at the floor, not 10 decades left
    pts = [r for r in rows if not r["dense"] and r.get("kl_measured") and r["kl_mean"] > 0]
    for r in pts:
        x, y = max(r["kl_mean"], floor), 100 * r["codex"]["pass_at_1"]
        vocab = r.get("kl_removed_mass", 0) > 0
        ax.scatter([x], [y], s=30, color="tab:orange" if vocab else "tab:blue", zorder=3,
                   label="vocabulary pruned: KL over the kept tokens only" if vocab else None)
        label(x, y, r["row"] + (" (KL < 1e-4)" if r["kl_mean"] < floor else ""))
    ax.axhline(100 * d1, color="black", linewidth=1, label="dense")
    ax.axhline(100 * 0.97 * d1, color="tab:red", linestyle="--", linewidth=1, label="97% of dense pass@1")
    if pts:
        ax.set_xscale("log")
    s = t["kl_vs_pass1"]["pruned_rows"]
    rho = "n/a" if s.get("rho") is None else f"{s['rho']:.2f}"
    zero = [r["row"] for r in rows if not r["dense"] and r.get("kl_measured") and r["kl_mean"] <= 0]
    ax.set_xlabel("KL(dense || pruned) mean on held-out code, nats per token (log)"
                  + (f"\nnot on a log axis, at KL 0: {', '.join(zero)}" if zero else ""))
    pass_axis(ax, [100 * r["codex"]["pass_at_1"] for r in rows], n)
    ax.set_title(f"Does KL predict pass@1? Spearman rho = {rho} over {s['n']} pruned rows\n{model}")
    ax.grid(True, which="both", linewidth=0.3)
    handles, names = ax.get_legend_handles_labels()
    keep = {n: h for h, n in zip(handles, names)}  # one legend entry per label
    ax.legend(keep.values(), keep.keys(), loc="lower left")
    fig.tight_layout()
    save(fig, os.path.join(a.out_dir, "ablation-kl.png"))
    plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
