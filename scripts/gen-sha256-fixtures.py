#!/usr/bin/env python3
"""Generates the SHA-256 test fixture with Python's hashlib (OpenSSL), independently of Pare's C code.

    python3 scripts/gen-sha256-fixtures.py    # writes Tests/ModelTests/Fixtures/sha256-lengths.json

Writes a JSON object:
  data_hex   300 pseudo-random bytes (seeded, so the file is reproducible), as lower-case hex
  digests    301 lower-case hex digests: digests[n] = sha256(data[:n]) for n = 0...300
No third-party packages needed.
"""
import hashlib
import json
import os
import random

LENGTH = 300
SEED = 180_4  # FIPS 180-4

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out_dir = os.path.join(root, "Tests", "ModelTests", "Fixtures")
os.makedirs(out_dir, exist_ok=True)

data = random.Random(SEED).randbytes(LENGTH)
fixture = {
    "generator": "scripts/gen-sha256-fixtures.py (Python hashlib)",
    "data_hex": data.hex(),
    "digests": [hashlib.sha256(data[:n]).hexdigest() for n in range(LENGTH + 1)],
}
path = os.path.join(out_dir, "sha256-lengths.json")
with open(path, "w") as f:
    json.dump(fixture, f, indent=1)
    f.write("\n")
print(f"wrote {path}: {LENGTH + 1} digests")
