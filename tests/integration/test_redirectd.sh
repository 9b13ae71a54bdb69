#!/usr/bin/env bash
# redirectd, the location service (issue #3), driven over loopback by SIPp:
# REGISTER from a listed proxy, 302 to the client's channel for its serving
# proxy and to the serving proxy for another, 404 for an unknown ID, 403
# for an unlisted source, Expires capping, expiry by the timer, unregister,
# the INVITE server transaction (timer G retransmissions, absorbed INVITE
# retransmissions, silence after the ACK), OPTIONS, a MESSAGE query (404), and SIGHUP reload.
source "$(dirname "$0")/lib.sh"

SCEN="$SRC_DIR/tests/integration/scenarios"
R=$(free_port) # redirectd
PA=$(free_port) # proxy A (listed)
PB=$(free_port) # proxy B (listed)
PC=$(free_port) # proxy C (listed only after the reload)
CHANNEL="sip:16@198.51.100.28:40312" # the client's NAT address, as proxy A registers it

write_conf() { # write_conf LISTEN_PORT PROXIES...
    local port=$1; shift
    local list; list=$(printf '"%s", ' "$@"); list=${list%, }
    cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$port";
proxies = [ $list ];
default_expires = 60;
max_expires = 120;
log_level = "info";
CONF
}
write_conf "$R" "127.0.0.1:$PA" "127.0.0.1:$PB"
start_daemon redirectd "$WORK/redirectd.conf"
RPID=$LAST_PID

# scenario NAME KEY=VALUE...: prints the path of a copy of scenarios/NAME.xml
# with every @KEY@ replaced by VALUE.
scenario() {
    local name=$1 out kv k v
    shift
    out=$(mktemp --suffix=.xml "$WORK/$name-XXXXXX")
    cp "$SCEN/$name.xml" "$out"
    for kv in "$@"; do
        k=${kv%%=*}
        v=${kv#*=}
        v=${v//\\/\\\\}
        v=${v//|/\\|}
        v=${v//&/\\&}
        sed -i "s|@$k@|$v|g" "$out"
    done
    if grep -q '@[A-Z_]*@' "$out"; then
        echo "unfilled placeholder in $out" >&2
        return 1
    fi
    echo "$out"
}

re() { sed 's/[].[*^$\\]/\\&/g' <<<"$1"; } # a literal as a POSIX ERE

# sipp_case DESCRIPTION SOURCE_IP SOURCE_PORT SCENARIO_FILE [SIPp args]: one call.
sipp_case() {
    local what=$1 ip=$2 port=$3 sf=$4 label
    shift 4
    label=$(basename "$sf" .xml)
    if sipp_run "$label" "127.0.0.1:$R" -sf "$sf" -i "$ip" -p "$port" -m 1 \
        -timeout 20 -timeout_error -recv_timeout 5000 "$@"; then
        pass "$what"
    else
        fail "$what"
        tail -5 "$WORK/$label.out"
        cat "$WORK/$label.err" 2>/dev/null | tail -20
    fi
}

# sipp_must_fail DESCRIPTION SOURCE_IP SOURCE_PORT SCENARIO_FILE: the call must fail
# (the scenarios' checks are live: a wrong expectation is caught).
sipp_must_fail() {
    local what=$1 ip=$2 port=$3 sf=$4 label
    label=$(basename "$sf" .xml)
    if sipp_run "$label" "127.0.0.1:$R" -sf "$sf" -i "$ip" -p "$port" -m 1 \
        -timeout 20 -timeout_error -recv_timeout 5000; then
        fail "$what"
    else
        pass "$what"
    fi
}

register() { # register ID CHANNEL PATH_PORT EXPIRES GRANTED FROM_PORT
    scenario redirectd_register ID="$1" CHANNEL="$2" CHANNEL_RE="$(re "$2")" \
        PATH="127.0.0.1:$3" PATH_RE="$(re "127.0.0.1:$3")" EXPIRES="$4" GRANTED="$5"
}
invite_302() { # invite_302 ID EXPECTED_CONTACT
    scenario redirectd_invite ID="$1" CONTACT_RE="$(re "$2")"
}
invite_status() { # invite_status ID STATUS
    scenario redirectd_invite_status ID="$1" STATUS="$2"
}

# ---- figures 2a-2c: register, then ask from the serving proxy and another ----
sipp_case "REGISTER from listed proxy A: 200 echoes the binding" 127.0.0.1 "$PA" \
    "$(register 16 "$CHANNEL" "$PA" 60 60)"
sipp_case "INVITE from the serving proxy A: 302 to the client's channel" 127.0.0.1 "$PA" \
    "$(invite_302 16 "$CHANNEL")"
sipp_case "INVITE from proxy B: 302 to the serving proxy A" 127.0.0.1 "$PB" \
    "$(invite_302 16 "sip:16@127.0.0.1:$PA")"
sipp_must_fail "a 302 to another address fails the scenario's Contact check" 127.0.0.1 "$PB" \
    "$(invite_302 16 "$CHANNEL")"
sipp_case "INVITE for an unknown ID: 404" 127.0.0.1 "$PA" "$(invite_status 99 404)"

# ---- trust: 127.0.0.2 is loopback too, but not in `proxies` ----
sipp_case "REGISTER from an unlisted address: 403" 127.0.0.2 "$PA" \
    "$(scenario redirectd_register_forbidden ID=77 CHANNEL="sip:77@198.51.100.28:4000")"
sipp_case "INVITE from an unlisted address: 403" 127.0.0.2 "$PA" "$(invite_status 16 403)"
sipp_case "the refused REGISTER bound nothing: 404" 127.0.0.1 "$PA" "$(invite_status 77 404)"

# ---- Expires: capped at max_expires; a 2 s binding expires on its own ----
sipp_case "Expires above max_expires is granted 120" 127.0.0.1 "$PA" \
    "$(register 17 "sip:17@198.51.100.28:40313" "$PA" 100000 120)"
sipp_case "REGISTER with Expires: 2" 127.0.0.1 "$PB" \
    "$(register 18 "sip:18@198.51.100.29:5062" "$PB" 2 2)"
sipp_case "the 2 s binding answers at once" 127.0.0.1 "$PB" \
    "$(invite_302 18 "sip:18@198.51.100.29:5062")"
sleep 3.2
sipp_case "after 3 s the binding has expired: 404" 127.0.0.1 "$PB" "$(invite_status 18 404)"

# ---- unregister ----
sipp_case "REGISTER 19" 127.0.0.1 "$PA" "$(register 19 "sip:19@198.51.100.30:7000" "$PA" 60 60)"
sipp_case "Expires: 0 removes it, the 200 lists no binding" 127.0.0.1 "$PA" \
    "$(scenario redirectd_unregister ID=19 CHANNEL="sip:19@198.51.100.30:7000")"
sipp_case "unregistered ID: 404" 127.0.0.1 "$PA" "$(invite_status 19 404)"

# ---- OPTIONS (health check) and another method (a location query) ----
sipp_case "OPTIONS: 200 with Allow; MESSAGE for nobody: 404" 127.0.0.1 "$PA" \
    "$SCEN/redirectd_options.xml"

# ---- the INVITE server transaction ----
sf=$(scenario redirectd_retransmit ID=16 CONTACT_RE="$(re "$CHANNEL")")
sipp_case "302 left unACKed, then ACKed" 127.0.0.1 "$PA" "$sf" -trace_counts
counts=$(ls "$WORK"/redirectd_retransmit-*_counts.csv 2>/dev/null | head -1)
retrans=$(python3 - "$counts" <<'PY'
import sys
rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
head, last = rows[0], rows[-1]
# the 302 step's retransmission column: "<n>_302_Retrans" or similar
cols = [i for i, h in enumerate(head) if "302" in h and "Retrans" in h]
print(max(int(last[i] or 0) for i in cols) if cols else -1)
PY
) || retrans=-1
check "SIPp saw the unACKed 302 retransmitted by timer G (got $retrans)" test "$retrans" -ge 1

# Timing and absorption checked to the packet by a raw client: the 302 is
# resent at T1 then 2·T1 (RFC 3261 17.2.1), identically; a retransmitted
# INVITE (same branch) gets the same 302 back, not a new lookup; the ACK is
# not answered and stops timer G.
check "INVITE transaction: timer G, absorbed INVITE, ACK ends it" \
    python3 - "$R" "$PA" "$CHANNEL" <<'PY'
import re, socket, sys, time
dst = ("127.0.0.1", int(sys.argv[1]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[2])))
def msg(method, cseq_method, to_tag=""):
    return ("%s sip:16@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKpytxn1\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:12@example.net>;tag=py1\r\n"
            "To: <sip:16@example.net>%s\r\nCall-ID: pytxn-1@127.0.0.1\r\n"
            "CSeq: 1 %s\r\nContent-Length: 0\r\n\r\n"
            % (method, dst[1], sys.argv[2], to_tag, cseq_method)).encode()
def collect(until):
    got = []
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return got
        s.settimeout(left)
        try:
            data, _ = s.recvfrom(65536)
        except socket.timeout:
            return got
        if b"\r\nCall-ID: pytxn-1@127.0.0.1\r\n" in data:  # not an earlier test's
            got.append((time.monotonic(), data))
t0 = time.monotonic()
s.sendto(msg("INVITE", "INVITE"), dst)
got = collect(t0 + 2.2)
assert len(got) == 3, "want the 302 and 2 retransmissions in 2.2 s, got %d" % len(got)
first = got[0][1]
assert first.startswith(b"SIP/2.0 302 "), first[:40]
assert b"<" + sys.argv[3].encode() + b">" in first, first
assert all(d == first for _, d in got), "a retransmission differs from the first 302"
gaps = [got[i + 1][0] - got[i][0] for i in range(2)]
assert got[0][0] - t0 < 0.2, "first 302 late"
assert 0.35 < gaps[0] < 0.8 and 0.8 < gaps[1] < 1.4, "timer G intervals %r" % gaps
s.sendto(msg("INVITE", "INVITE"), dst)  # retransmission, same branch
again = collect(time.monotonic() + 0.3)
assert [d for _, d in again] == [first], "absorbed INVITE: want the same 302 once, got %r" % again
tag = re.search(rb"\r\nTo: [^\r]*;tag=([^;\r]+)", first).group(1).decode()
s.sendto(msg("ACK", "ACK", ";tag=" + tag), dst)
late = collect(time.monotonic() + 3.0)
assert late == [], "after the ACK: %r" % late
PY

# ---- SIGHUP: proxies change, bindings stay; listen cannot change ----
write_conf "$R" "127.0.0.1:$PA" "127.0.0.1:$PC"
kill -HUP "$RPID"
check "reload applies the new proxies" wait_log redirectd "configuration reloaded" 5
sipp_case "after reload, new proxy C gets 302 to A: binding 16 kept" 127.0.0.1 "$PC" \
    "$(invite_302 16 "sip:16@127.0.0.1:$PA")"
sipp_case "after reload, proxy B is refused: 403" 127.0.0.1 "$PB" "$(invite_status 16 403)"
write_conf "$(free_port)" "127.0.0.1:$PA" "127.0.0.1:$PC"
kill -HUP "$RPID"
check "a changed listen is refused" wait_log redirectd "listen cannot change" 5
check "and the old configuration is kept" wait_log redirectd "reload refused" 5
sipp_case "still serving on the old address" 127.0.0.1 "$PA" "$(invite_302 16 "$CHANNEL")"

stop_daemon "$RPID" redirectd || true
finish
