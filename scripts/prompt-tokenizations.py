#!/usr/bin/env python3
"""How many HumanEval prompts a pruned vocabulary tokenizes differently from the dense one.

A vocabulary-pruned module (a .pir written by `pare opt`) keeps the source ids in its `id_map`; vocab-prune keeps
the merge closure of what it keeps, so the pruned tokenizer gives the same tokens as the dense one exactly on the
texts whose dense tokens are all kept. This reads the id map, tokenizes every prompt with the dense checkpoint
(`pare tokenize --json`), and reports the share of prompts with a removed token and the share of prompt tokens removed.

  scripts/prompt-tokenizations.py MODEL.gguf PRUNED.pir [--data HumanEval.jsonl.gz] [--json]
"""
import argparse, gzip, json, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def id_map(pir):
    with open(pir, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*id_map = \[(.*)\]\s*$", line)
            if m:
                kept = set()
                for part in filter(None, (p.strip() for p in m.group(1).split(","))):
                    a, _, b = part.partition("..")
                    kept.update(range(int(a), int(b) + 1) if b else [int(a)])
                return kept
    sys.exit(f"{pir}: no id_map line: not a vocabulary-pruned module")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("pir")
    ap.add_argument("--data", default=os.path.join(os.environ.get("PARE_CACHE", os.path.join(ROOT, ".cache")), "data", "HumanEval.jsonl.gz"))
    ap.add_argument("--pare", default=os.path.join(ROOT, ".build", "release", "pare"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    kept = id_map(a.pir)
    with gzip.open(a.data, "rt", encoding="utf-8") if a.data.endswith(".gz") else open(a.data, encoding="utf-8") as f:
        problems = [json.loads(l) for l in f if l.strip()]
    changed, tokens, removed = [], 0, 0
    for p in problems:
        r = subprocess.run([a.pare, "tokenize", a.model, "--text", p["prompt"], "--json"], capture_output=True, text=True, check=True)
        ids = json.loads(r.stdout)["ids"]
        gone = [i for i in ids if i not in kept]
        tokens += len(ids)
        removed += len(gone)
        if gone:
            changed.append(p["task_id"])
    out = {"pir": a.pir, "vocabulary": len(kept), "prompts": len(problems), "prompts_changed": len(changed),
           "prompt_tokens": tokens, "prompt_tokens_removed": removed, "changed": changed}
    if a.json:
        print(json.dumps(out, sort_keys=True))
    else:
        print(f"{a.pir}: {len(kept)} tokens kept; {len(changed)}/{len(problems)} HumanEval prompts tokenize differently "
              f"({100 * len(changed) / len(problems):.1f}%); {removed}/{tokens} prompt tokens removed ({100 * removed / tokens:.2f}%)")


if __name__ == "__main__":
    main()
