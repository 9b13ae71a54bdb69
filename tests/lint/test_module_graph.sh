#!/usr/bin/env bash
# proxyd's module graph (issue #13): a module is a name with its .c and .h
# in src/proxyd; module A depends on B when A.c or A.h includes "B.h".
# Fails when only proxy.c and main.c do not own the #include "proxy.h"
# (every other module sees proxy_env.h), or when the graph has a cycle:
# each module must be buildable and testable on its dependencies alone.
set -euo pipefail
SRC_DIR=${SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DIR=${1:-$SRC_DIR/src/proxyd}
fail=0

for f in "$DIR"/*.c "$DIR"/*.h; do
    base=$(basename "$f")
    case "$base" in proxy.c | main.c | proxy.h) continue ;; esac
    if grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]+"proxy\.h"' "$f"; then
        echo "module_graph: $base includes proxy.h (modules include proxy_env.h)" >&2
        fail=1
    fi
done

# One "A B" line per edge, for tsort; a module's own header is no edge.
edges=$(for f in "$DIR"/*.c "$DIR"/*.h; do
    a=$(basename "$f"); a=${a%.*}
    echo "$a $a"
    sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"/]+)\.h".*/\1/p' "$f" |
        while read -r b; do
            [ -e "$DIR/$b.h" ] && [ "$b" != "$a" ] && echo "$a $b"
        done
done | sort -u)

err=$(mktemp)
if ! order=$(printf '%s\n' "$edges" | tsort 2>"$err"); then
    echo "module_graph: the include graph of $DIR has a cycle:" >&2
    cat "$err" >&2
    fail=1
fi
rm -f "$err"
[ "$fail" -eq 0 ] || exit 1
echo "module_graph: $(printf '%s\n' "$order" | wc -l) modules, no cycle, proxy.h only in proxy.c and main.c"
