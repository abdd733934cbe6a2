#!/usr/bin/env bash
# Bounded fuzzing of the decoders, of the container labels and of tag normalisation: each fuzz target runs for the given time
# (default 20s). Crashers that go finds are written under the package's
# testdata/fuzz/<Target>/ and then run as regression cases by plain `go test`.
#
# A failure that wrote no crasher is the fuzzing engine's own (seen here on a
# loaded machine: a worker reported as hung); it is printed in full and the
# target is run once more. A crasher always fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${1:-20s}"
targets=(
  "./internal/event FuzzDecoder"
  "./internal/event FuzzSkip"
  "./internal/transcode FuzzAppendValue"
  "./internal/shape FuzzShape"
  "./internal/join FuzzReader"
  "./internal/labels FuzzLabels"
  "./internal/tags FuzzNormalize"
)
crashers() { { find "$1/testdata/fuzz/$2" -type f 2>/dev/null || true; } | wc -l; }
for entry in "${targets[@]}"; do
  pkg=${entry% *}; fn=${entry#* }
  echo "fuzz: $pkg $fn for $t"
  before=$(crashers "$pkg" "$fn")
  if out=$(go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$pkg" 2>&1); then
    tail -n 3 <<<"$out"
    continue
  fi
  tail -n 40 <<<"$out"
  if [ "$(crashers "$pkg" "$fn")" != "$before" ]; then
    echo "fuzz: $fn found a crasher, kept under $pkg/testdata/fuzz/$fn" >&2
    exit 1
  fi
  echo "fuzz: $fn failed without a crasher: running it once more"
  go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$pkg" 2>&1 | tail -n 40
done
