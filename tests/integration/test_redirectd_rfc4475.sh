#!/usr/bin/env bash
# redirectd against the 50 RFC 4475 torture messages, sent from a listed
# proxy address: each answer (or its absence) must be one that the
# `accept` column of tests/fixtures/rfc4475/expect.tsv allows, every answer
# must come back to the sender (the messages' Vias name foreign hosts),
# responses are never answered, and redirectd still answers OPTIONS after
# all of them and exits cleanly (ASan/LSan: no leak, no error).
#
# Some messages share a transaction key (top Via branch and sent-by, and
# method: unkscm/novelsc, escnull/regescrt, cparam01/cparam02). RFC 3261
# 17.2.3 makes the second a retransmission of the first, absorbed and
# answered with the first one's response at the first one's source; so
# before such a message the daemon is restarted (after a clean-exit check).
source "$(dirname "$0")/lib.sh"

R=$(free_port)
cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
# any port on 127.0.0.1: each message goes out from a fresh socket, so a
# retransmitted 302/404 of one message cannot be taken for the next one's answer
proxies = [ "127.0.0.1" ];
log_level = "notice"; # start_daemon waits for the notice line "started"
CONF
start_daemon redirectd "$WORK/redirectd.conf"
RPID=$LAST_PID

cat >"$WORK/torture.py" <<'PY'
import os, re, socket, sys, time

sys.path.insert(0, os.environ["SRC_DIR"] + "/tests/integration")
from rfc4475_expect import accepted, txn_key

fixtures, port, first, next_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
dst = ("127.0.0.1", port)


def exchange(data):
    """Sends from a fresh socket; returns what came back within 0.3 s."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(data, dst)
    answers = []
    deadline = time.monotonic() + 0.3
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            answers.append(s.recvfrom(65536)[0])
        except socket.timeout:
            break
    s.close()
    return answers


rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(fixtures, "expect.tsv"))
        if l.strip() and not l.startswith("#")]
assert len(rows) == 50, "expect.tsv has %d rows" % len(rows)
failures = 0
keys = set()
for index, (name, section, cls, desc, expected, accept) in enumerate(rows):
    if index < first:
        continue
    data = open(os.path.join(fixtures, name + ".dat"), "rb").read()
    key = None if data.startswith(b"SIP/2.0") else txn_key(data)
    if key in keys:
        print("---- %s shares a transaction key with an earlier message: restart" % name)
        with open(next_file, "w") as f:
            f.write(str(index))
        sys.exit(1 if failures else 3)
    if key:
        keys.add(key)
    answers = exchange(data)
    status, problems = None, []
    if answers:
        m = re.match(rb"SIP/2\.0 (\d{3}) ", answers[0])
        status = int(m.group(1)) if m else -1
        if len(answers) > 1:
            problems.append("%d answers" % len(answers))
    if data.startswith(b"SIP/2.0") and answers:
        problems.append("a response was answered")
    if not accepted(accept, status):
        problems.append("answer %s not in %s" % (status or "none", accept))
    failures += bool(problems)
    print("%-4s %-10s %-8s got %-5s accept %-16s %s" % ("FAIL" if problems else "ok", name, cls,
                                                       status or "none", accept,
                                                       "; ".join(problems)))

options = ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKafter\r\n"
           "From: <sip:monitor@example.net>;tag=a\r\nTo: <sip:127.0.0.1:%d>\r\n"
           "Call-ID: after-4475\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n" % (port, port)).encode()
answers = exchange(options)
ok = len(answers) == 1 and answers[0].startswith(b"SIP/2.0 200 ")
print("%-4s OPTIONS after the torture messages" % ("ok" if ok else "FAIL"))
sys.exit(1 if failures or not ok else 0)
PY

first=0
while :; do
    rc=0
    python3 "$WORK/torture.py" "$SRC_DIR/tests/fixtures/rfc4475" "$R" "$first" "$WORK/next" \
        >>"$WORK/rfc4475.out" 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || break
    first=$(cat "$WORK/next")
    stop_daemon "$RPID" redirectd || true
    start_daemon redirectd "$WORK/redirectd.conf"
    RPID=$LAST_PID
done
cat "$WORK/rfc4475.out"
check "every RFC 4475 message answered as expect.tsv accepts" test "$rc" -eq 0
check "all 50 messages were sent" test "$(grep -cE '^(ok|FAIL) +[a-z0-9]+ +(valid|invalid|semantic)' "$WORK/rfc4475.out")" -eq 50
check "OPTIONS still answered afterwards" grep -q "^ok   OPTIONS after" "$WORK/rfc4475.out"
check "redirectd is still running" kill -0 "$RPID"
stop_daemon "$RPID" redirectd || true
finish
