#!/usr/bin/env bash
# The test command: set up (idempotent), then every test in release mode (numeric code is 10-100x
# slower in debug). Extra arguments go to `swift test`, e.g. scripts/test.sh --filter ParityTests
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
cd "$root"
swift test -c release "$@"
