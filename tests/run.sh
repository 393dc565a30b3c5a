#!/usr/bin/env bash
# Runs every test in Compiler.sln and ends with a plain "N passed, N failed" line.
# Usage: tests/run.sh [extra dotnet test arguments]
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v dotnet >/dev/null 2>&1; then
  echo "missing: the .NET 10 SDK ('dotnet'). Install it from https://dot.net (Debian: apt-get install dotnet-sdk-10.0)." >&2
  echo "0 passed, 1 failed"
  exit 1
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
dotnet test Compiler.sln -c Release --logger "trx;LogFilePrefix=tessera" --results-directory "$results" "$@"
status=$?

passed=0; failed=0; total=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); total=$((total + ${t:-0}))
done

# A run that built nothing or executed fewer tests than it found is a failure, not a pass.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
not_run=$((total - passed - failed))
if [ "$not_run" -gt 0 ]; then
  echo "$not_run test(s) were skipped or not run; skipped tests do not count as passing" >&2
  failed=$((failed + not_run))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
