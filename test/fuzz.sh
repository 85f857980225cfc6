#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME (default 10s) each,
# starting from the checked-in corpus under each package's testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
n=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u || true)
  for t in $targets; do
    echo "== fuzz $pkg $t ($FUZZTIME)"
    go test -run='^$' -fuzz="^${t}\$" -fuzztime="$FUZZTIME" "$pkg"
    n=$((n+1))
  done
done
echo "fuzz: $n targets ran for $FUZZTIME each without a failure"
