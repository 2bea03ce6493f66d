#!/usr/bin/env python3
"""Builds Pare's shipped code corpora from the CPython 3.11 standard library, reproducibly, and checks
that they share no line with HumanEval (which is kept for evaluation).

    python3 scripts/make-corpus.py                 # writes data/corpus/code.txt and data/calibration/code.txt
    python3 scripts/make-corpus.py --check         # only checks the committed files (sizes, overlap, disjointness)

Options: --stdlib DIR (default /root/.pyenv/versions/3.11.7/lib/python3.11, or $PARE_STDLIB),
         --humaneval FILE (default .cache/data/HumanEval.jsonl.gz, or $PARE_CACHE/data/HumanEval.jsonl.gz).

Writes:
  data/calibration/code.txt   held-out calibration text (~100-200 KB): the KL checker's default
  data/corpus/code.txt        vocabulary corpus (~600-900 KB): vocab-prune's default; other modules
  data/MANIFEST.json          which module went where, with each file's sha256, and the check's result

Selection (deterministic; no randomness): the top-level modules `Lib/*.py` of the standard library, minus
generated or non-code files (EXCLUDED below) and modules over 120 KB, ordered by sha256("pare-corpus-v1:" +
name). Walking that order, a module goes to the calibration set while it stays under 200 KB and has not
reached 130 KB, otherwise to the vocabulary corpus while that stays under 900 KB, until it reaches 750 KB.
The two files therefore hold different modules. Each module is copied verbatim after a one-line header
`# ===== Lib/<name> (CPython <version>, PSF License 2.0) =====`.

Overlap check: no line of either corpus, stripped of surrounding whitespace and 40 characters or longer,
equals such a line of any HumanEval prompt or canonical solution. The script fails (exit 1) if one does;
it first checks that the check catches a planted HumanEval line.
No third-party packages needed.
"""
import argparse
import gzip
import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_STDLIB = os.environ.get("PARE_STDLIB", "/root/.pyenv/versions/3.11.7/lib/python3.11")
CACHE = os.environ.get("PARE_CACHE", os.path.join(ROOT, ".cache"))
DEFAULT_HUMANEVAL = os.path.join(CACHE, "data", "HumanEval.jsonl.gz")

CORPUS = os.path.join(ROOT, "data", "corpus", "code.txt")
CALIBRATION = os.path.join(ROOT, "data", "calibration", "code.txt")
MANIFEST = os.path.join(ROOT, "data", "MANIFEST.json")

SALT = "pare-corpus-v1:"
MAX_MODULE = 120_000
CALIBRATION_TARGET, CALIBRATION_CAP = 130_000, 200_000
CORPUS_TARGET, CORPUS_CAP = 750_000, 900_000
MIN_LINE = 40

# Generated, machine-specific, joke or data-table modules: not representative code.
EXCLUDED = {
    "__hello__.py", "antigravity.py", "this.py", "_sysconfigdata__linux_x86_64-linux-gnu.py",
    "_pydecimal.py", "stringprep.py", "sre_constants.py", "opcode.py", "token.py", "keyword.py",
}


def fail(msg):
    print(f"make-corpus: error: {msg}", file=sys.stderr)
    sys.exit(1)


def humaneval_lines(path):
    """Stripped lines of 40+ characters from every HumanEval prompt and canonical solution."""
    if not os.path.exists(path):
        fail(f"{path} is missing: run scripts/fetch-models.sh (it fetches HumanEval too) or pass --humaneval")
    lines = set()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        problems = [json.loads(l) for l in f if l.strip()]
    for p in problems:
        for field in ("prompt", "canonical_solution"):
            for s in p[field].splitlines():
                s = s.strip()
                if len(s) >= MIN_LINE:
                    lines.add(s)
    return lines, len(problems)


def overlaps(text, forbidden):
    """(line number, line) of every line of `text` that HumanEval also has."""
    return [(i + 1, s.strip()) for i, s in enumerate(text.splitlines()) if len(s.strip()) >= MIN_LINE and s.strip() in forbidden]


def select(stdlib):
    if not os.path.isdir(stdlib):
        fail(f"{stdlib} is not a directory: pass --stdlib with a CPython 3.11 Lib/ folder")
    names = sorted(n for n in os.listdir(stdlib) if n.endswith(".py") and n not in EXCLUDED)
    modules = []
    for n in names:
        with open(os.path.join(stdlib, n), "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(data) <= MAX_MODULE:
            modules.append((hashlib.sha256((SALT + n).encode()).hexdigest(), n, text))
    modules.sort()
    return modules


def build(stdlib, version):
    calibration, corpus = [], []
    cal_size = corpus_size = 0
    for _, name, text in select(stdlib):
        piece = f"# ===== Lib/{name} (CPython {version}, PSF License 2.0) =====\n" + text
        if not piece.endswith("\n"):
            piece += "\n"
        size = len(piece.encode("utf-8"))
        if cal_size < CALIBRATION_TARGET and cal_size + size <= CALIBRATION_CAP:
            calibration.append((name, piece))
            cal_size += size
        elif corpus_size < CORPUS_TARGET and corpus_size + size <= CORPUS_CAP:
            corpus.append((name, piece))
            corpus_size += size
    return calibration, corpus


def check(forbidden, problems):
    """Checks the files on disk; returns a summary dict or fails."""
    # The checker itself must catch a known-bad input: a HumanEval line, re-indented, inside code.
    sample = sorted(forbidden)[0]
    if overlaps("x = 1\n        " + sample + "  \ny = 2\n", forbidden) != [(2, sample)]:
        fail("the overlap check missed a planted HumanEval line; the checker is broken")
    result = {}
    texts = {}
    for label, path, lo, hi in (("calibration", CALIBRATION, 100_000, 200_000), ("corpus", CORPUS, 600_000, 900_000)):
        if not os.path.exists(path):
            fail(f"{path} is missing: run scripts/make-corpus.py")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        size = len(text.encode("utf-8"))
        if not lo <= size <= hi:
            fail(f"{path} is {size} bytes; expected {lo}-{hi}")
        bad = overlaps(text, forbidden)
        if bad:
            for n, s in bad[:10]:
                print(f"{path}:{n}: shares a line with HumanEval: {s}", file=sys.stderr)
            fail(f"{path} shares {len(bad)} line(s) of {MIN_LINE}+ characters with HumanEval")
        headers = [l for l in text.splitlines() if l.startswith("# ===== Lib/")]
        texts[label] = {h.split()[2] for h in headers}
        result[label] = {"bytes": size, "lines": text.count("\n"), "modules": len(headers)}
    shared = texts["calibration"] & texts["corpus"]
    if shared:
        fail(f"calibration and corpus share modules: {sorted(shared)}")
    result["humaneval"] = {"problems": problems, "lines_checked": len(forbidden), "min_line": MIN_LINE, "overlapping_lines": 0}
    return result


def write(path, pieces):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(p for _, p in pieces))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stdlib", default=DEFAULT_STDLIB)
    ap.add_argument("--humaneval", default=DEFAULT_HUMANEVAL)
    ap.add_argument("--check", action="store_true", help="only check the committed files")
    args = ap.parse_args()

    forbidden, problems = humaneval_lines(args.humaneval)
    if not args.check:
        if not os.path.exists(os.path.join(args.stdlib, "platform.py")):
            fail(f"{args.stdlib} does not look like a CPython Lib/ folder (no platform.py)")
        m = re.search(r"(3\.11(\.\d+)?)", os.path.abspath(args.stdlib))
        if not m:
            print(f"make-corpus: warning: {args.stdlib} may not be CPython 3.11; the corpora will differ", file=sys.stderr)
        version = m.group(1) if m else "3.x"
        calibration, corpus = build(args.stdlib, version)
        write(CALIBRATION, calibration)
        write(CORPUS, corpus)
        manifest = {
            "generator": "scripts/make-corpus.py",
            "source": f"CPython {version} standard library, Lib/*.py ({args.stdlib})",
            "licence": "PSF License Agreement for Python 3.11 (data/LICENSE-PSF.txt)",
            "calibration": [{"module": n, "sha256": hashlib.sha256(p.encode()).hexdigest()} for n, p in calibration],
            "corpus": [{"module": n, "sha256": hashlib.sha256(p.encode()).hexdigest()} for n, p in corpus],
        }
    summary = check(forbidden, problems)
    if not args.check:
        manifest["check"] = summary
        with open(MANIFEST + ".tmp", "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(MANIFEST + ".tmp", MANIFEST)
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
