#!/usr/bin/env bash
# Bounded fuzzing of the decoders: each fuzz target runs for the given time
# (default 20s). Crashers that go finds are written under the package's
# testdata/fuzz/<Target>/ and then run as regression cases by plain `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-20s}"
targets=(
  "./internal/event FuzzDecoder"
  "./internal/transcode FuzzAppendValue"
  "./internal/shape FuzzShape"
)
for entry in "${targets[@]}"; do
  pkg=${entry% *}; fn=${entry#* }
  echo "fuzz: $pkg $fn for $t"
  go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$pkg" 2>&1 | tail -n 3
done
