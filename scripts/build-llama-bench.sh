#!/usr/bin/env bash
# Builds llama.cpp's llama-bench (and nothing else) from the llama.cpp tree vendored in the pinned
# llama-cpp-python sdist, for the side-by-side benchmark in scripts/bench-compare.sh. Not used by CI.
#
#   scripts/build-llama-bench.sh          build once (idempotent), print the binary's path on stdout
#   FORCE=1 scripts/build-llama-bench.sh  re-run cmake configure + build even if the stamp matches
#   PARE_CACHE=/path scripts/build-llama-bench.sh
#
# The sdist is data: it is fetched with `pip download --no-deps`, checked against its sha256 and
# unpacked; llama-cpp-python is never installed. Layout (default cache: <repo>/.cache):
#   llama.cpp/llama_cpp_python-<ver>.tar.gz     the sdist
#   llama.cpp/llama_cpp_python-<ver>/           unpacked; llama.cpp itself is in vendor/llama.cpp
#   llama.cpp/build-<ver>/bin/llama-bench       the binary (static, Release, -march=native)
#   llama.cpp/build-<ver>/pare-build-info.json  pin, llama.cpp commit, cmake flags (read by bench-compare)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARE_CACHE:-$root/.cache}"
dir="$cache/llama.cpp"
mkdir -p "$dir"

# --- the pin ---
ver=0.3.36
sdist_sha=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
sdist="$dir/llama_cpp_python-$ver.tar.gz"
src="$dir/llama_cpp_python-$ver"
tree="$src/vendor/llama.cpp"
build="$dir/build-$ver"
bin="$build/bin/llama-bench"
jobs=2

say() { printf 'build-llama-bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Static, Release, native CPU flags; only what llama-bench links (ggml, llama, llama-common).
flags=(
  -DCMAKE_BUILD_TYPE=Release
  -DGGML_NATIVE=ON
  -DGGML_OPENMP=ON
  -DBUILD_SHARED_LIBS=OFF
  -DLLAMA_BUILD_TOOLS=ON
  -DLLAMA_BUILD_TESTS=OFF
  -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_SERVER=OFF
  -DLLAMA_BUILD_APP=OFF
  -DLLAMA_OPENSSL=OFF
)

stamp="$build/pare-build-info.json"
want_stamp() { # commit -> the stamp this pin and these flags produce
  python3 - "$ver" "$sdist_sha" "$1" "$(full_commit "$1")" "${flags[@]}" <<'PY'
import json, sys
ver, sha, commit, full, *flags = sys.argv[1:]
print(json.dumps({"llama_cpp_python": ver, "sdist_sha256": sha, "llama_cpp_commit": commit,
                  "llama_cpp_commit_full": full or None, "cmake_flags": flags}, indent=2))
PY
}

# The sdist also carries the submodule's git data (.git/modules/vendor/llama.cpp); GIT_CEILING_DIRECTORIES
# keeps git (here and in llama.cpp's build-info) from reporting an enclosing repository instead, e.g.
# Pare's own checkout when the cache lives inside it.
export GIT_CEILING_DIRECTORIES="$dir"
full_commit() { # short commit -> the full hash if the vendored tree's git data agrees with it, else ""
  local h
  h=$(git -C "$tree" rev-parse HEAD 2>/dev/null) || return 0
  case "$h" in "$1"*) echo "$h" ;; esac
}

changelog_commit() { # -> the llama.cpp commit the sdist's CHANGELOG names for $ver, or "unknown"
  local c
  c=$(awk -v v="## [$ver]" '$0 == v {f=1; next} f && /^## \[/ {exit} f && match($0, /llama\.cpp@[0-9a-f]+/) {print substr($0, RSTART+10, RLENGTH-10); exit}' "$src/CHANGELOG.md")
  echo "${c:-unknown}"
}

# --- fast path: built before with the same pin and flags ---
if [ -z "${FORCE:-}" ] && [ -x "$bin" ] && [ -f "$stamp" ] && [ -f "$src/CHANGELOG.md" ]; then
  if [ "$(cat "$stamp")" = "$(want_stamp "$(changelog_commit)")" ]; then
    say "up to date ($bin)"
    echo "$bin"
    exit 0
  fi
fi

# --- tools: cmake (apt, as root or via sudo), a C/C++ compiler ---
if ! command -v cmake >/dev/null 2>&1; then
  say "installing cmake"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq cmake >/dev/null
fi
command -v c++ >/dev/null 2>&1 || die "no C++ compiler (c++) on PATH; install g++"

# --- the sdist (pip download only; --no-binary for this package alone, so that pip does not also
#     build every build dependency, CMake included, from source just to read the metadata) ---
if ! [ -f "$sdist" ] || [ "$(sha256sum "$sdist" | cut -d' ' -f1)" != "$sdist_sha" ]; then
  rm -f "$sdist"
  tmp="$(mktemp -d "$dir/download.XXXXXX")"
  say "downloading llama-cpp-python==$ver (sdist)"
  python3 -m pip download --quiet --no-deps --no-binary llama-cpp-python --disable-pip-version-check \
    -d "$tmp" "llama-cpp-python==$ver" >&2
  [ -f "$tmp/llama_cpp_python-$ver.tar.gz" ] || die "pip did not produce llama_cpp_python-$ver.tar.gz in $tmp"
  got=$(sha256sum "$tmp/llama_cpp_python-$ver.tar.gz" | cut -d' ' -f1)
  [ "$got" = "$sdist_sha" ] || die "sha256 of llama_cpp_python-$ver.tar.gz is $got, expected $sdist_sha"
  mv "$tmp/llama_cpp_python-$ver.tar.gz" "$sdist"
  rm -rf "$tmp" "$src"
fi

# --- unpack (into a temporary directory, renamed when complete) ---
if ! [ -f "$tree/CMakeLists.txt" ]; then
  say "unpacking $sdist"
  rm -rf "$src" "$src.part"
  mkdir -p "$src.part"
  tar -xzf "$sdist" -C "$src.part"
  [ -f "$src.part/llama_cpp_python-$ver/vendor/llama.cpp/CMakeLists.txt" ] \
    || die "$sdist has no vendor/llama.cpp/CMakeLists.txt"
  mv "$src.part/llama_cpp_python-$ver" "$src"
  rmdir "$src.part"
fi
[ -f "$tree/tools/llama-bench/CMakeLists.txt" ] || die "no tools/llama-bench in $tree"

# The sdist's CHANGELOG names the vendored llama.cpp commit for each release.
commit=$(changelog_commit)
[ "$commit" != unknown ] || say "warning: no llama.cpp commit for $ver in $src/CHANGELOG.md"

# --- configure + build llama-bench only ---
say "configuring llama.cpp@$commit in $build"
rm -f "$stamp"
cmake -S "$tree" -B "$build" "${flags[@]}" -DLLAMA_BUILD_NUMBER=0 -DLLAMA_BUILD_COMMIT="$commit" >&2
say "building llama-bench ($jobs jobs)"
start=$(date +%s)
cmake --build "$build" --config Release --target llama-bench -j "$jobs" >&2
say "built in $(( $(date +%s) - start )) s"
[ -x "$bin" ] || die "cmake finished but $bin does not exist"
"$bin" --help >/dev/null 2>&1 || die "$bin does not run (--help failed)"
want_stamp "$commit" > "$stamp"
echo "$bin"
