#!/usr/bin/env python3
"""Writes the tokenizer test fixtures: Hugging Face `tokenizers` (the Rust implementation, an
independent reference) encodes a corpus of tricky texts and HumanEval prompts with each real model's
tokenizer.json; the expected ids, pre-token pieces and decoded strings go to
Tests/TokenizerTests/Fixtures/<model>.json.

    python3 scripts/gen-tokenizer-fixtures.py          # installs `tokenizers` with pip if missing

Inputs: <root>/../shared/reference/<model>/tokenizer.json (or $PARE_REFERENCE/<model>/...),
        <cache>/data/HumanEval.jsonl.gz ($PARE_CACHE, default <root>/.cache).

Besides each model's own pre-tokenizer, two variants test the other pre-tokenizers on real
vocabularies: `smollm` (SmolLM2's vocabulary behind Digits(individual_digits) + the GPT-2 split,
what the GGUF's `tokenizer.ggml.pre = smollm` means) and `llama3` (Qwen's vocabulary behind the
Llama-3 split pattern, with ignore_merges as Llama 3's tokenizer.json has it).
"""
import gzip
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.environ.get("PARE_REFERENCE", os.path.join(os.path.dirname(ROOT), "shared", "reference"))
CACHE = os.environ.get("PARE_CACHE", os.path.join(ROOT, ".cache"))
OUT = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures")
MODELS = ["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"]
HUMANEVAL_PROMPTS = 40
MAX_BYTES = 400_000

try:
    import tokenizers
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "tokenizers"])
    import tokenizers
from tokenizers import Tokenizer

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                  r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = [
    "",
    "a",
    " ",
    "hello world",
    "Hello World! How are you?",
    "  leading spaces",
    "trailing spaces   ",
    "multiple   spaces    between  words",
    "tabs\tand\t\ttabs\t",
    "\t\tindented with tabs\n\t\t\treturn x",
    "line one\nline two\n\nline four\n",
    "windows\r\nline\r\nendings\r\n\r\n",
    "mixed \r\n \n\t \r  \n  x",
    "\n\n\n",
    "   \n   ",
    "  \n\n  \t",
    "x \n y",
    "end with spaces and newline  \n",
    "I'm sure it's what we'd've said; they'll see, you're right, I've",
    "I'M SURE IT'S WHAT WE'D SAID; THEY'LL SEE, YOU'RE RIGHT, I'VE",
    "Mixed 'S 'T 'Re 'rE 'LL 'lL 'D 'M 'Ve",
    "don't 'tis ''s '  's 'x 'sa 'ss 'st",
    "long s 'ſ and ligature 'ﬅ 'ﬀ and Kelvin 'K",
    "it'ſ x'ﬅ y'K z'Ś w'İ 'S' '",
    "'ll start'",
    "it'ſa x'Sa y'sa z'ﬅa w'LLa v'Rea u'ſſ",
    "numbers 0 12 345 6789 1234567890 3.14159 -42 1e10 0x1F",
    "unicode digits ٣٤٥ ۱۲ १२३ ½ ¾ Ⅻ ⅷ ① ²³ 𝟘𝟙",
    "a1b2c3 x_1 v2.0.1 1st 2nd 10,000",
    "Ünïcödé letters: café naïve façade Ωμέγα Привет мир",
    "combining: e\u0301 a\u0308 n\u0303 \u0301 x\u0301\u0302\u0303",
    "CJK: 日本語のテキスト 中文文本 한국어 텍스트",
    "emoji: 👋🏽 🚀✨ 👨‍👩‍👧‍👦 🇫🇷 ❤️",
    "arabic: مرحبا بالعالم hebrew: שלום עולם thai: สวัสดีครับ",
    "devanagari: नमस्ते दुनिया",
    "nbsp:\u00a0x\u00a0\u00a0y thin\u2009space ideographic\u3000space nel\u0085next ls\u2028ps\u2029end",
    "newer scripts: a\U00010d50b c\U00010940d e\U00011de0f \U0002ebf0 \U00011f04",
    "zero width: a\u200bb\u200cc\u200dd \ufeffbom",
    "controls: \x00 \x01\x02 \x7f \x1b[31mred\x1b[0m \x0b\x0c",
    "punctuation!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}",
    "mixed punct: a.b,c;d:e!f?g (h) [i] {j} <k> \"l\" 'm' `n` ~o ^p |q \\r /s",
    "x;\n\ny:\r\n z ,\n",
    "def fibonacci(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "class Foo(Bar):\n\tdef __init__(self, x=None, *args, **kwargs):\n\t\tsuper().__init__()\n\t\tself._x = x  # comment\n",
    "#include <stdio.h>\n\nint main(int argc, char **argv) {\n    printf(\"Hello, %s!\\n\", argv[0]);\n    return 0;\n}\n",
    "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n",
    "function add(a, b) {\n  return a + b; // ES5\n}\nconst f = async () => { await fetch(`/api/${id}`); };\n",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
    "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son' ORDER BY id DESC;",
    "<html>\n  <body class=\"main\">\n    <p>Hi &amp; bye</p>\n  </body>\n</html>",
    "#!/bin/bash\nfor f in *.txt; do echo \"$f\" | sed 's/a/b/g' >> out.log; done\n",
    "x = [1, 2, 3]\ny = {'a': 1, \"b\": 2}\nprint(f\"{x!r:>10}\")\n",
    "    \n        \n    x = 1\n        \n",
    "if (a==b&&c!=d||e<=f) { g->h(); i::j; k=>l; m**=2; }",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|><|im_end|><|endoftext|>",
    "text<|endoftext|>more text <|im_end|> tail",
    "partial <|im_start and <|im_end| and |> and <||>",
    "<|fim_prefix|>def f():\n    <|fim_suffix|>\n<|fim_middle|>",
    "<fim_prefix>def f():<fim_suffix>\n<fim_middle><file_sep><repo_name>",
    "<tool_call>{\"name\": \"x\"}</tool_call>",
    "<|im_start|><|im_start|>x<|im_end|",
    "ĠĊ Ġhello âĢĻ",
    "a" * 300,
    " " * 200 + "x",
    "=" * 500,
    "\n" * 100,
    "ab " * 150,
    "日本" * 100,
    "-" * 79 + "\n" + "#" * 79,
]


def random_texts(count=150, seed=20241123):
    """Deterministic random strings over an alphabet of the characters the split patterns treat specially."""
    import random
    rng = random.Random(seed)
    alphabet = (list(" \t\r\n\u00a0\u3000\u2028\u0085\x0b") + list("'sStTrReEvVmMlLdDſ") + list("ab\u00e9\u0416\u65e5\u0301")
                + list("0123\u0663\u00bd\u2167") + list(".,;:!?()[]{}<>|_-+=*/\\\"#@$%^&~`") + ["\U0001f680", "\u200d"]
                + ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|", "|>", "<tool_call>", "<fim_prefix>"])
    weights = [6 if c.isspace() else 3 if c in "'sStTrReEvVmMlLdD\u017f" else 2 for c in alphabet]
    return ["".join(rng.choices(alphabet, weights, k=rng.randint(1, 60))) for _ in range(count)]


CORPUS += random_texts()

# Byte sequences that are not valid UTF-8 (each decoded as a run of single-byte tokens).
INVALID_BYTES = [
    b"\xe2\x82", b"\xe2\x82\xac", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\xf0\x9f\x98", b"a\xffb", b"\xe2\x28\xa1", b"\xf0\x9f\x98\x80\x80", b"\xc3", b"\xfe\xff",
    b"\xf0\x80\x80\xaf", b"\xe0\x80\xaf", b"\xf8\x88\x80\x80\x80",
]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def humaneval_prompts():
    path = os.path.join(CACHE, "data", "HumanEval.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r["prompt"] for r in rows[:HUMANEVAL_PROMPTS]]


def variant(spec, pre_tokenizer, ignore_merges=None):
    spec = json.loads(json.dumps(spec))
    spec["pre_tokenizer"] = pre_tokenizer
    if ignore_merges is not None:
        spec["model"]["ignore_merges"] = ignore_merges
    return Tokenizer.from_str(json.dumps(spec))


def encode_cases(tok, texts, with_pieces):
    cases = []
    for text in texts:
        enc = tok.encode(text, add_special_tokens=False)
        case = {"text": text, "ids": enc.ids}
        if with_pieces and tok.pre_tokenizer is not None:
            case["pieces"] = [p for p, _ in tok.pre_tokenizer.pre_tokenize_str(text)]
        case["decoded"] = tok.decode(enc.ids, skip_special_tokens=False)
        cases.append(case)
    return cases


def decode_cases(tok):
    b2u = bytes_to_unicode()
    cases = []
    for raw in INVALID_BYTES:
        ids = [tok.token_to_id(b2u[b]) for b in raw]
        if None in ids:  # some vocabularies lack tokens for bytes that never occur in UTF-8
            continue
        cases.append({"ids": ids, "text": tok.decode(ids, skip_special_tokens=False)})
    added = sorted(tok.get_added_tokens_decoder().keys())
    hello = tok.encode("hello", add_special_tokens=False).ids
    euro = [tok.token_to_id(b2u[b]) for b in b"\xe2\x82\xac"]
    for ids in [added[:3] + hello, hello + added[-2:] + hello, euro[:2] + added[:1] + euro[2:],
                [tok.get_vocab_size() + 5] + hello, []]:
        cases.append({"ids": ids, "text": tok.decode(ids, skip_special_tokens=False)})
    return cases


def unicode_classes():
    """The reference's \\p{L}, \\p{N} and \\s over every scalar, as [start, end) ranges."""
    from tokenizers import Regex, pre_tokenizers
    scalars = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    text = "".join(map(chr, scalars))
    out = {"reference": f"tokenizers {tokenizers.__version__}"}
    for name, pattern in [("letter", r"\p{L}"), ("number", r"\p{N}"), ("whitespace", r"\s")]:
        kept = bytearray(len(scalars))  # 1 where the pattern did not match (offsets are in characters)
        for _, (a, b) in pre_tokenizers.Split(Regex(pattern), behavior="removed").pre_tokenize_str(text):
            kept[a:b] = b"\x01" * (b - a)
        ranges = []
        for i, c in enumerate(scalars):
            if kept[i]:
                continue
            if ranges and ranges[-1][1] == c:
                ranges[-1][1] = c + 1
            else:
                ranges.append([c, c + 1])
        out[name] = ranges
    return out


def main():
    classes = json.dumps(unicode_classes(), separators=(",", ":"))
    dest = os.path.join(OUT, "unicode-classes.json")
    with open(dest, "w", encoding="ascii") as f:
        f.write(classes + "\n")
    print(f"gen-tokenizer-fixtures: wrote {dest} ({len(classes)} bytes)")
    prompts = humaneval_prompts()
    for model in MODELS:
        path = os.path.join(REFERENCE, model, "tokenizer.json")
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        tok = Tokenizer.from_str(json.dumps(spec))
        out = {
            "generator": "scripts/gen-tokenizer-fixtures.py",
            "reference": f"tokenizers {tokenizers.__version__}",
            "model": model,
            "corpus": encode_cases(tok, CORPUS, with_pieces=True),
            "humaneval": encode_cases(tok, prompts, with_pieces=False),
            "decode": decode_cases(tok),
            "variants": {},
        }
        if model.startswith("smollm"):
            smollm = variant(spec, {"type": "Sequence", "pretokenizers": [
                {"type": "Digits", "individual_digits": True},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]})
            out["variants"]["smollm"] = encode_cases(smollm, CORPUS, with_pieces=True)
        else:
            llama3 = variant(spec, {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
                ignore_merges=True)
            out["variants"]["llama3"] = encode_cases(llama3, CORPUS, with_pieces=True)
        text = json.dumps(out, ensure_ascii=True, indent=None, separators=(",", ":"))
        if len(text) > MAX_BYTES:
            sys.exit(f"gen-tokenizer-fixtures: {model}.json would be {len(text)} bytes (limit {MAX_BYTES})")
        dest = os.path.join(OUT, f"{model}.json")
        with open(dest, "w", encoding="ascii") as f:
            f.write(text + "\n")
        print(f"gen-tokenizer-fixtures: wrote {dest} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
