#!/usr/bin/env bash
# Regenerates the code for Sources/Plan/plan.proto: Swift (protoc + protoc-gen-swift) and C (protoc-c).
#
#   scripts/gen-proto.sh
#
# Writes Sources/Plan/Generated/plan.pb.swift and Sources/PlanReaderC/plan.pb-c.{c,h}. The generated code is
# committed; `swift build` never runs protoc. Needs protoc and protoc-c (Debian: protobuf-compiler,
# protobuf-c-compiler) and the Swift plugin, taken from $PROTOC_GEN_SWIFT (default below).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugin="${PROTOC_GEN_SWIFT:-/work/tools/swift-protobuf/.build/release/protoc-gen-swift}"
say() { printf 'gen-proto: %s\n' "$*" >&2; }

for tool in protoc protoc-c; do
  command -v "$tool" >/dev/null || { say "$tool not found: apt-get install protobuf-compiler protobuf-c-compiler"; exit 1; }
done
if [ ! -x "$plugin" ]; then
  say "protoc-gen-swift not found at $plugin"
  say "build it from a swift-protobuf 1.39.0 checkout (the version Package.resolved pins; about 10 minutes):"
  say "  git clone --branch 1.39.0 https://github.com/apple/swift-protobuf && cd swift-protobuf"
  say "  swift build -c release --product protoc-gen-swift"
  say "then run again with PROTOC_GEN_SWIFT=<checkout>/.build/release/protoc-gen-swift"
  exit 1
fi

cd "$root/Sources/Plan"
mkdir -p Generated
# Internal visibility: the only user of the generated types is PlanCodec.swift in the same target.
protoc --plugin=protoc-gen-swift="$plugin" --swift_out=Generated --swift_opt=Visibility=Internal plan.proto
protoc-c --c_out="$root/Sources/PlanReaderC" plan.proto
say "wrote Sources/Plan/Generated/plan.pb.swift, Sources/PlanReaderC/plan.pb-c.c, Sources/PlanReaderC/plan.pb-c.h"
