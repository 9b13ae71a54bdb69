#!/usr/bin/env bash
# The daemons' test paths under valgrind (memcheck) on the plain build:
# start each daemon, feed it the RFC 4475 torture messages and a health
# check from a trusted proxy address, stop it with SIGTERM, and require no
# memory errors and no definite, indirect or possible leaks.
source "$(dirname "$0")/lib.sh"

PLAIN=${PLAIN_BUILD_DIR:-}
if [ -z "$PLAIN" ] || [ ! -x "$PLAIN/redirectd" ] || ! command -v valgrind >/dev/null; then
    log "skipped: needs valgrind and the plain build (PLAIN_BUILD_DIR, set by make test)"
    exit 77
fi

P=$(free_port); R=$(free_port); Y=$(free_port); C=$(free_port)
cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1:$P", "127.0.0.1:$C" ];
CONF
cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$Y";
media_address = "127.0.0.1";
port_min = 42000; port_max = 42999;
proxies = [ "127.0.0.1:$P", "127.0.0.1:$C" ];
CONF
cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$P";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
CONF

declare -A PID PORT=([proxyd]=$P [redirectd]=$R [relayd]=$Y)
for d in redirectd relayd proxyd; do
    valgrind --quiet --error-exitcode=42 --soname-synonyms=somalloc=libmimalloc.so* --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --log-file="$WORK/$d.vg" \
        "$PLAIN/$d" -f -c "$WORK/$d.conf" >"$WORK/$d.log" 2>&1 &
    PID[$d]=$!; PIDS+=("${PID[$d]}")
    check "$d starts under valgrind" wait_log "$d" "started" 30
done

# From the trusted address C: every torture message, then an OPTIONS.
python3 - "$SRC_DIR/tests/fixtures/rfc4475" "$C" "$P" "$R" "$Y" <<'PY'
import os, socket, sys, time
d, src, ports = sys.argv[1], int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", src))
for name in sorted(os.listdir(d)):
    if name.endswith(".dat"):
        data = open(os.path.join(d, name), "rb").read()
        for p in ports:
            s.sendto(data, ("127.0.0.1", p))
        time.sleep(0.01)
for p in ports:
    s.sendto(("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKvg%d\r\n"
              "Max-Forwards: 70\r\nFrom: <sip:vg@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1:%d>\r\n"
              "Call-ID: vg%d@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
              % (p, src, p, p, p)).encode(), ("127.0.0.1", p))
time.sleep(1.5)
PY

for d in proxyd relayd redirectd; do
    kill -TERM "${PID[$d]}"
    rc=0; wait "${PID[$d]}" || rc=$?
    check "$d exits 0 under valgrind (no memory errors, no leaks)" test "$rc" -eq 0
    if [ "$rc" -ne 0 ]; then cat "$WORK/$d.vg"; tail -5 "$WORK/$d.log"; fi
done
finish
