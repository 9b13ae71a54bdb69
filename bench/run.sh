#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, one after the other, on the plain
# (non-sanitizer) build. Each prints its own figures; see docs/performance.md.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
rc=0
echo "== table_bench"; "$BUILD/bench/table_bench" || rc=1
for b in redirectd_bench register_bench relay_bench call_bench; do
    [ -x "bench/$b.sh" ] || continue
    echo "== $b"
    bash "bench/$b.sh" "$BUILD" || rc=1
done
exit $rc
