#!/usr/bin/env python3
"""Builds Pare's shipped code corpora, reproducibly, and checks that they share no line with HumanEval (which is
kept for evaluation): the Python corpora from the CPython 3.11 standard library, and the mixed corpus and held-out
text from source files of several languages that are on a Debian machine with the packages below installed.

    python3 scripts/make-corpus.py                 # writes data/corpus/code.txt and data/calibration/code.txt
    python3 scripts/make-corpus.py --check         # only checks the committed files (sizes, overlap, disjointness)

Options: --stdlib DIR (default /root/.pyenv/versions/3.11.7/lib/python3.11, or $PARE_STDLIB),
         --humaneval FILE (default .cache/data/HumanEval.jsonl.gz, or $PARE_CACHE/data/HumanEval.jsonl.gz).

Writes:
  data/calibration/code.txt   held-out calibration text (~100-200 KB): the KL checker's default
  data/corpus/code.txt        vocabulary corpus (~600-900 KB): vocab-prune's default; other modules
  data/corpus/mixed.txt       mixed corpus (~2.5 MB): vocab-prune{select=mass}'s default
  data/heldout/mixed.txt      held-out mixed text (~400 KB): the held-out check of tokenizer-changing passes
  data/licences/              the licence of every source the mixed files draw from
  data/MANIFEST.json          which file went where, with each piece's sha256, licences, and the check's result

Mixed sources (SOURCES below; each a language, a root, file patterns, a licence). Install first:
  apt-get install golang-src rust-src pybind11-dev   (Go 1.19 src, Rust 1.63 library, pybind11 headers)
plus what this machine has: CPython 3.11.7 (pyenv) Lib/ subpackages and include/, /usr/include/zlib.h and sqlite3.h,
pyenv's shell scripts and README, and Debian's node packages:
  apt-get install node-typescript node-acorn node-commander node-semver node-express node-yargs
(JavaScript from packages whose package.json licence is permissive, with Debian's copyright file shipped per package). Per source, files are ordered by
sha256("pare-mixed-v1:" + path) and dealt to the held-out text until it reaches its share, then to the mixed corpus
until it reaches its share (files over MAX_FILE are skipped): the two hold different files. Each file is copied
verbatim after `<comment> ===== <source>/<relative path> (<licence>) =====`. The Python pieces come from Lib/
subpackages, never from the top-level modules code.txt and calibration/code.txt use, so the held-out text is
held out from both selections (select=corpus and select=mass).

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

MIXED = os.path.join(ROOT, "data", "corpus", "mixed.txt")
HELDOUT = os.path.join(ROOT, "data", "heldout", "mixed.txt")
LICENCES = os.path.join(ROOT, "data", "licences")
MIXED_SALT = "pare-mixed-v1:"
MAX_FILE = 60_000
PYENV = os.environ.get("PARE_PYENV", "/root/.pyenv")
NODE = "/usr/share/nodejs"

# (name, language, comment prefix, root, relative-path regex, exclude regex, licence, licence file, corpus KB, held-out KB)
SOURCES = [
    ("cpython-lib", "Python", "#", DEFAULT_STDLIB, r"^(json|email|asyncio|concurrent|importlib|logging|unittest|urllib|xml|http|"
     r"sqlite3|wsgiref|collections|multiprocessing|tomllib|zipfile|re|dbm|curses|ctypes)/[^/]+\.py$", r"/test", "PSF-2.0",
     "LICENSE-PSF.txt", 420, 60),
    ("cpython-include", "C", "//", os.path.join(PYENV, "versions/3.11.7/include/python3.11"), r"\.h$", r"^$", "PSF-2.0",
     "LICENSE-PSF.txt", 200, 30),
    ("zlib-sqlite-headers", "C", "//", "/usr/include", r"^(zlib\.h|zconf\.h)$", r"^$", "Zlib", "zlib.h notice (in the file)", 60, 0),
    ("pybind11", "C++", "//", "/usr/include/pybind11", r"\.h$", r"^$", "BSD-3-Clause", "licences/pybind11.copyright", 260, 40),
    ("go", "Go", "//", "/usr/share/go-1.19/src", r"^(strings|bytes|bufio|sort|strconv|encoding/json|encoding/csv|path|"
     r"text/template|container|errors|flag|fmt|io|math|unicode|net/url|regexp|html|os|time|sync)/[^/]+\.go$", r"_test\.go$|/testdata/",
     "BSD-3-Clause", "licences/golang-src.copyright", 340, 50),
    ("rust", "Rust", "//", "/usr/src/rustc-1.63.0/library", r"^(core|alloc|std)/src/.+\.rs$", r"/tests?/|/benches/", "MIT OR Apache-2.0",
     "licences/rust-src.copyright", 380, 55),
    ("node-js", "JavaScript", "//", NODE, r"^(express|commander|semver|yargs|acorn|body-parser|braces|chalk|micromatch|minimatch|"
     r"glob|debug|qs|send|yargs-parser|cliui|picomatch|fill-range|to-regex-range|mime|cookie|ws|async)/(lib/.+|classes/.+|functions/"
     r".+|ranges/.+|internal/.+|[^/]+)\.js$", r"\.min\.js$|/dist/|/test/", "per package", "licences/node/", 330, 50),
    ("node-ts", "TypeScript", "//", NODE, r"^typescript/lib/lib\.[a-z0-9.]+\.d\.ts$", r"^$", "Apache-2.0", "licences/node/typescript.copyright",
     130, 25),
    ("pyenv-sh", "Shell", "#", PYENV, r"^(libexec/pyenv[-a-z]*|plugins/python-build/bin/[-a-z]+|completions/pyenv\.bash|"
     r"plugins/python-build/share/python-build/patches/.+)$", r"\.patch$|\.diff$", "MIT", "licences/pyenv.LICENSE", 150, 25),
    ("node-prose", "Markdown", "#", "/usr/share/doc", r"^node-[a-z-]+/README\.md(\.gz)?$", r"^$", "per package", "licences/node/",
     170, 30),
    ("pyenv-prose", "Markdown", "#", PYENV, r"^([^/]+\.md|plugins/python-build/README\.md)$", r"^$", "MIT", "licences/pyenv.LICENSE", 60, 0),
]
PERMISSIVE = {"MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "BlueOak-1.0.0", "0BSD"}

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


LICENCE_FILES = {  # shipped licence file -> where it comes from on the build machine
    "pybind11.copyright": "/usr/share/doc/pybind11-dev/copyright",
    "golang-src.copyright": "/usr/share/doc/golang-src/copyright",
    "rust-src.copyright": "/usr/share/doc/rust-src/copyright",
    "pyenv.LICENSE": os.path.join(PYENV, "LICENSE"),
}


def node_package(rel):
    """The package of a path under NODE (`express`) or under /usr/share/doc (`node-express` -> `express`)."""
    first = rel.split("/")[0]
    return first[len("node-"):] if first.startswith("node-") else first


def node_licence(pkg):
    """(licence id, Debian copyright file) of a node package if its licence is permissive and the file exists, else None."""
    copyright = f"/usr/share/doc/node-{pkg}/copyright"
    try:
        with open(os.path.join(NODE, pkg, "package.json"), encoding="utf-8") as f:
            lic = json.load(f).get("license")
    except (OSError, ValueError):
        return None
    if not isinstance(lic, str) or lic not in PERMISSIVE or not os.path.exists(copyright):
        return None
    return lic, copyright


def mixed_files(source):
    """(relative path, text, licence) of every file a source contributes, in its salted-hash order."""
    name, _, _, root, pattern, exclude, licence = source[:7]
    if not os.path.isdir(root):
        fail(f"{root} is missing (source {name}): install the packages named in this script's header")
    inc, exc = re.compile(pattern), re.compile(exclude)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, root)
            if not inc.search(rel) or (exclude != r"^$" and exc.search(rel)) or os.path.islink(full):
                continue
            lic = licence
            if licence == "per package":
                known = node_licence(node_package(rel))
                if known is None:
                    continue
                lic = known[0]
            size = os.path.getsize(full)
            if size == 0 or size > MAX_FILE:
                continue
            with open(full, "rb") as f:
                data = f.read()
            if full.endswith(".gz"):
                data = gzip.decompress(data)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append((hashlib.sha256((MIXED_SALT + name + "/" + rel).encode()).hexdigest(), rel, text, lic))
    out.sort()
    return [(rel, text, lic) for _, rel, text, lic in out]


def build_mixed():
    """The mixed corpus and the held-out text: per source, files dealt to held-out first, then to the corpus."""
    corpus, heldout, node_used = [], [], set()
    for source in SOURCES:
        name, language, comment = source[:3]
        corpus_kb, heldout_kb = source[8], source[9]
        c_size = h_size = 0
        for rel, text, lic in mixed_files(source):
            piece = f"{comment} ===== {name}/{rel} ({language}, {lic}) =====\n" + text
            if not piece.endswith("\n"):
                piece += "\n"
            size = len(piece.encode("utf-8"))
            if h_size < heldout_kb * 1000:
                heldout.append((name, rel, lic, piece))
                h_size += size
            elif c_size < corpus_kb * 1000:
                corpus.append((name, rel, lic, piece))
                c_size += size
            else:
                break
            if lic != source[6]:
                node_used.add(node_package(rel))
    return corpus, heldout, sorted(node_used | {"typescript"})


def write_licences(node_used):
    os.makedirs(os.path.join(LICENCES, "node"), exist_ok=True)
    for dst, src in LICENCE_FILES.items():
        with open(src, "rb") as f:
            data = f.read()
        with open(os.path.join(LICENCES, dst), "wb") as f:
            f.write(data)
    for pkg in node_used:
        with open(f"/usr/share/doc/node-{pkg}/copyright", "rb") as f:
            data = f.read()
        with open(os.path.join(LICENCES, "node", pkg + ".copyright"), "wb") as f:
            f.write(data)


def check_mixed(forbidden):
    """Sizes, the HumanEval overlap and disjointness of the mixed corpus and the held-out text."""
    result, headers = {}, {}
    for label, path, lo, hi in (("mixed", MIXED, 1_500_000, 3_900_000), ("heldout", HELDOUT, 200_000, 900_000)):
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
        heads = [l for l in text.splitlines() if " ===== " in l and l.rstrip().endswith("=====")]
        headers[label] = {h.split(" ===== ")[1].split(" (")[0] for h in heads}
        langs = sorted({h.rsplit(" (", 1)[1].split(",")[0] for h in heads})
        result[label] = {"bytes": size, "lines": text.count("\n"), "files": len(heads), "languages": langs}
    shared = headers["mixed"] & headers["heldout"]
    if shared:
        fail(f"the mixed corpus and the held-out text share files: {sorted(shared)[:5]}")
    return result


def write(path, pieces):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(p[-1] for p in pieces))
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
    if not args.check:
        mixed, heldout, node_used = build_mixed()
        write(MIXED, mixed)
        write(HELDOUT, heldout)
        write_licences(node_used)
        manifest["mixed_sources"] = [{"source": s[0], "language": s[1], "root": s[3], "licence": s[6], "licence_file": s[7]}
                                     for s in SOURCES]
        manifest["mixed"] = [{"source": n, "path": r, "licence": l, "sha256": hashlib.sha256(p.encode()).hexdigest()}
                             for n, r, l, p in mixed]
        manifest["heldout"] = [{"source": n, "path": r, "licence": l, "sha256": hashlib.sha256(p.encode()).hexdigest()}
                               for n, r, l, p in heldout]
    summary = check(forbidden, problems)
    summary.update(check_mixed(forbidden))
    if not args.check:
        manifest["check"] = summary
        with open(MANIFEST + ".tmp", "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(MANIFEST + ".tmp", MANIFEST)
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
