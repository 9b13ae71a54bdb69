#!/usr/bin/env bash
# Config keys are declared once (style.md habit 5): the key reference in
# docs/operations.md must be exactly what the daemons' key tables generate
# (tests/tools/confdoc), and each daemon's man page must name every key.
# On a difference: regenerate with build/tests/confdoc and paste the output
# between the BEGIN/END keys markers of docs/operations.md.
source "$(dirname "$0")/lib.sh"

CONFDOC="$BUILD_DIR/tests/confdoc"
DOC="$SRC_DIR/docs/operations.md"

"$CONFDOC" >"$WORK/generated.md"
sed -n '/^<!-- BEGIN keys/,/^<!-- END keys -->/p' "$DOC" | sed '1d;$d' >"$WORK/documented.md"
check "docs/operations.md has the generated key block" test -s "$WORK/documented.md"
check "the generator names every daemon" test "$(grep -c '^### ' "$WORK/generated.md")" -eq 3
if diff -u "$WORK/documented.md" "$WORK/generated.md" >"$WORK/keys.diff"; then
    pass "docs/operations.md's key tables are the generated ones"
else
    fail "docs/operations.md's key tables differ from the key tables (- doc, + code):"
    cat "$WORK/keys.diff"
fi

# items D: the tags of the man page's .TP items (the line after each .TP),
# where the CONFIGURATION section names the keys.
items() { awk 'tp {print; tp = 0} /^\.TP/ {tp = 1}' "$SRC_DIR/docs/man/$1.8"; }
n=0
while read -r daemon key; do
    n=$((n + 1))
    if ! items "$daemon" | grep -qE "^\.BR? (.*[ \"])?$key([ \"]|\$)"; then
        fail "$daemon.8 has no item for the key $key"
    fi
done < <("$CONFDOC" -k)
check "every key of every daemon was looked for in its man page ($n keys)" test "$n" -ge 20
[ "$FAILS" -eq 0 ] && pass "each man page names each of its daemon's keys"
finish
