#!/usr/bin/env python3
"""Keeps Package.swift's header true: the dependency graph it states is the one the targets declare, and the one
their sources import.

    .ci/check-deps.py            check (exit 1 with what differs)
    .ci/check-deps.py --print    print the header block the targets call for (to paste into Package.swift)
    .ci/check-deps.py --self-test

For every target of ours (not test targets), three sets must agree:
  - declared: its `dependencies:` in Package.swift (products of other packages by product name);
  - imported: the modules its Swift sources `import` (system modules such as Foundation and Glibc left out; C
    targets import nothing and are checked on declared only);
  - stated:   its line in the header block between `// Dependency graph` and the blank comment line after it.
SwiftPM lets a target import a module it reaches only through another target, so a missing declaration builds;
this check is what catches it. An import without a declaration, a declaration nothing imports, or a header line
that differs from the declarations fails.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM = {"Foundation", "Glibc", "Darwin", "Dispatch", "XCTest", "FoundationNetworking", "Synchronization"}
HEADER_START = "// Dependency graph"
# `import M`, with any attributes (@testable, @_exported, @preconcurrency, @_spi(x)), an access level, or a kind.
IMPORT = re.compile(r'^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?import\s+'
                    r'(?:(?:struct|class|enum|protocol|typealias|func|let|var)\s+)?(\w+)')
DECLARATION = re.compile(r'\.(?:target|executableTarget|systemLibrary|testTarget)\(\s*name:')


def parse_targets(text):
    """name -> (kind, path, [dependencies]) for every non-test target."""
    targets = {}
    starts = list(re.finditer(r'\.(target|executableTarget|systemLibrary|testTarget)\(\s*name:\s*"([^"]+)"', text))
    for i, m in enumerate(starts):
        kind, name = m.group(1), m.group(2)
        rest = text[m.end():starts[i + 1].start() if i + 1 < len(starts) else len(text)]
        if kind == "testTarget":
            continue
        deps = []
        d = re.search(r'dependencies:\s*\[(.*?)\]\s*,\s*(?:path|providers|pkgConfig|exclude|resources)\s*:', rest, re.S)
        if d:
            body = d.group(1)
            deps += re.findall(r'\.product\(name:\s*"([^"]+)"', body)
            body = re.sub(r'\.product\([^)]*\)', "", body)
            deps += re.findall(r'"([^"]+)"', body)
        p = re.search(r'path:\s*"([^"]+)"', rest)
        targets[name] = (kind, p.group(1) if p else f"Sources/{name}", deps)
    return targets


def imports(path):
    found = set()
    for base, _, files in os.walk(os.path.join(ROOT, path)):
        for f in files:
            if not f.endswith(".swift"):
                continue
            for line in open(os.path.join(base, f), encoding="utf-8"):
                m = IMPORT.match(line)
                if m and m.group(1) not in SYSTEM:
                    found.add(m.group(1))
    return found


def stated(text):
    """name -> [dependencies] from the header block."""
    lines = text.splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith(HEADER_START))
    except StopIteration:
        return None
    out = {}
    for l in lines[start + 1:]:
        if not l.startswith("//   "):
            break
        name, _, deps = l[5:].partition(":")
        out[name.strip()] = [d.strip() for d in deps.split(",") if d.strip() and d.strip() != "-"]
    return out


def header_block(targets):
    width = max(len(n) for n in targets) + 1
    rows = [f"//   {(n + ':').ljust(width)} {', '.join(sorted(d)) or '-'}" for n, (_, _, d) in sorted(targets.items(), key=lambda kv: order(kv[0], targets))]
    return "\n".join([HEADER_START + " (each target: what it depends on; checked by .ci/check-deps.py):"] + rows)


def order(name, targets, memo=None):
    """Depth in the graph (0: depends on nothing of ours), then name: lower layers first."""
    memo = {} if memo is None else memo
    if name not in memo:
        memo[name] = 0
        deps = [d for d in targets[name][2] if d in targets]
        memo[name] = 1 + max((order(d, targets, memo)[0] for d in deps), default=-1)
    return (memo[name], name)


def problems(text):
    targets = parse_targets(text)
    out = []
    declared = len(DECLARATION.findall(text))
    tests = len(re.findall(r'\.testTarget\(\s*name:', text))
    if declared - tests != len(targets):
        out.append(f"Package.swift declares {declared - tests} targets but this check read {len(targets)}: fix parse_targets")
    for name, (kind, path, _) in sorted(targets.items()):
        if not os.path.isdir(os.path.join(ROOT, path)):
            out.append(f"{name}: its path {path} (as this check read it) is not a directory: fix parse_targets or the path")
    for name, (kind, path, deps) in sorted(targets.items()):
        if kind == "systemLibrary":
            continue
        imp = imports(path)
        ours = set(targets) | {"ArgumentParser", "SwiftProtobuf"}
        missing = sorted(m for m in imp if m in ours and m not in deps and m != name)
        unknown = sorted(m for m in imp if m not in ours and m != name)
        has_swift = any(f.endswith(".swift") for _, _, fs in os.walk(os.path.join(ROOT, path)) for f in fs)
        unused = sorted(d for d in deps if has_swift and d not in imp)
        for m in missing:
            out.append(f"{name} imports {m} but does not declare it in Package.swift")
        for m in unknown:
            out.append(f"{name} imports {m}, which is neither a target of this package nor a known system module")
        for d in unused:
            out.append(f"{name} declares {d} but no source of it imports {d}")
    st = stated(text)
    if st is None:
        out.append(f"Package.swift has no '{HEADER_START}' block; .ci/check-deps.py --print writes one")
    else:
        for name, (_, _, deps) in sorted(targets.items()):
            if name not in st:
                out.append(f"the header does not list {name}")
            elif sorted(st[name]) != sorted(deps):
                out.append(f"the header says {name} depends on {', '.join(sorted(st[name])) or 'nothing'}; Package.swift declares {', '.join(sorted(deps)) or 'nothing'}")
        for name in sorted(set(st) - set(targets)):
            out.append(f"the header lists {name}, which is not a target")
    return out


def self_test():
    good = '''// Dependency graph (x):
//   A: -
//   B: A
//
let package = Package(targets: [
        .target(name: "A", path: "SelfTestA"),
        .target(name: "B", dependencies: ["A"], path: "SelfTestB"),
    ])
'''
    t = parse_targets(good)
    assert t == {"A": ("target", "SelfTestA", []), "B": ("target", "SelfTestB", ["A"])}, t
    assert stated(good) == {"A": [], "B": ["A"]}
    assert header_block(t).splitlines()[1:] == ["//   A: -", "//   B: A"], header_block(t)
    bad = good.replace("//   B: A", "//   B: -")
    assert any("the header says B depends on nothing" in p for p in problems_with(bad, {})), problems_with(bad, {})
    # B's source imports A: fine; C imported but not declared; A declared by B but, with no import, unused.
    assert problems_with(good, {"SelfTestB": "import A\n"}) == []
    assert problems_with(good, {"SelfTestB": "import A\nimport B2\n"}) == ["B imports B2, which is neither a target of this package nor a known system module"]
    two = good.replace('.target(name: "B"', '.target(name: "C", path: "SelfTestC"),\n        .target(name: "B"').replace("//   B: A", "//   B: A\n//   C: -")
    assert problems_with(two, {"SelfTestB": "import A\nimport C\n"}) == ["B imports C but does not declare it in Package.swift"]
    assert problems_with(good, {"SelfTestB": "import Foundation\n"}) == ["B declares A but no source of it imports A"]
    for spelling in ("@preconcurrency import C", "internal import C", "@_spi(x) @_implementationOnly import C", "import struct C.X"):
        assert problems_with(two, {"SelfTestB": f"import A\n{spelling}\n"}) == ["B imports C but does not declare it in Package.swift"], spelling
    moved = good.replace('path: "SelfTestB"', 'path: "Elsewhere"')
    assert any("Elsewhere" in p and "not a directory" in p for p in problems_with(moved, {})), problems_with(moved, {})
    print("check-deps: self-test passed")


def problems_with(text, sources):
    """problems() with the given sources written under a temporary root."""
    import tempfile
    global ROOT
    saved = ROOT
    with tempfile.TemporaryDirectory() as d:
        ROOT = d
        for path in ("SelfTestA", "SelfTestB", "SelfTestC"):
            os.makedirs(os.path.join(d, path))
        for path, src in sources.items():
            open(os.path.join(d, path, "x.swift"), "w").write(src)
        try:
            return problems(text)
        finally:
            ROOT = saved


def main():
    if "--self-test" in sys.argv:
        self_test()
        return 0
    text = open(os.path.join(ROOT, "Package.swift"), encoding="utf-8").read()
    if "--print" in sys.argv:
        print(header_block(parse_targets(text)))
        return 0
    out = problems(text)
    for p in out:
        print(f"check-deps: {p}", file=sys.stderr)
    if out:
        print("check-deps: fix Package.swift (declarations, and the header block: .ci/check-deps.py --print)", file=sys.stderr)
        return 1
    print(f"check-deps: {len(parse_targets(text))} targets: declarations, imports and Package.swift's header agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
