#!/usr/bin/env bash
# Registrations per second through proxyd + redirectd (issue #5).
# Usage: bench/register_bench.sh BUILD_DIR
#
# Runs BUILD_DIR/proxyd and BUILD_DIR/redirectd (build without sanitizers:
# `make build`) on 127.0.0.1, both pinned to CPU 0, and SIPp pinned to CPU 1.
# SIPp plays phones behind a NAT: each call is a new phone (its own AOR)
# whose Via and Contact name 192.168.1.10, so proxyd takes the NAT path: Contact rewrite, Expires cap,
# Path, a client transaction to redirectd, the NAT table entry, and the 200
# back to the phone with its own Contact.
#
# Every SIPp instance sends from 127.0.0.1, and proxyd's budget is per
# source IP (limits.source_rate, 2000 datagrams/s by default): the bench's
# proxyd raises it, since one load generator stands in for thousands of
# phones. Each rate is still shared by several SIPp instances (one UDP
# socket each), which SIPp needs to keep up. (SIPp's socket-per-call
# mode, -t un, saturates SIPp's own CPU at about 3000 calls/s here.)
#
# Three modes in one run (issues #14, #17), each on freshly started daemons:
#   memory as plain, with redirectd's store = "memory" (nothing kept)
#   plain  proxyd without an auth section: one round trip per registration;
#          redirectd with the shipped store (SQLite): each 200 waits for its
#          binding's group commit
#   auth   proxyd with digest authentication (auth.algorithms = "MD5", the
#          one SIPp computes): REGISTER, 401, REGISTER with credentials
#          (each phone its own user, from USERS generated users), 200 --
#          two round trips through proxyd, one to redirectd
# For each rate it prints the rate asked and achieved, failed calls, SIPp
# retransmissions, the mean response time (the last REGISTER's), and the
# CPU use of proxyd and redirectd; then the highest rate with zero
# failures per mode, and auth/plain. Loopback only, bounded (under 4
# minutes); every process it starts is killed on exit.
# Environment: RATES (default "1000 2000 3000 4000 5000 6000 7000 8000 10000 12000"),
# STEP_S (default 4), MODES (default "plain auth").
set -euo pipefail

BUILD=${1:?usage: bench/register_bench.sh BUILD_DIR}
RATES=${RATES:-"1000 2000 3000 4000 5000 6000 7000 8000 10000 12000"}
# calls/s per SIPp instance (what one SIPp keeps up with)
# per source: a plain registration is one datagram from the phone, an
# authenticated one two (the REGISTER and the REGISTER with credentials).
PER_SOURCE_PLAIN=1500
PER_SOURCE_AUTH=900
STEP_S=${STEP_S:-4}
MODES=${MODES:-"plain auth memory"}
USERS=60000
HZ=$(getconf CLK_TCK)

for tool in sipp taskset python3; do
    command -v "$tool" >/dev/null || { echo "register_bench: $tool is missing" >&2; exit 2; }
done
for d in proxyd redirectd; do
    [ -x "$BUILD/$d" ] || { echo "register_bench: no $BUILD/$d (make build)" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "register_bench: needs 2 CPUs" >&2; exit 2; }

WORK=$(mktemp -d /tmp/register-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
P=$(free_port); R=$(free_port)

write_redirectd_conf() { # mode: "memory" keeps nothing, the others the shipped default
    local store="sqlite:$WORK/redirectd.db"
    [ "$1" = memory ] && store=memory
    rm -f "$WORK"/redirectd.db*
    cat >"$WORK/redirectd.conf" <<CONF
store = "$store";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1:$P" ];
max_expires = 7200;
log_level = "warn";
CONF
}
write_proxyd_conf() { # mode
    cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$P";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:9" ];
nat = { keepalive_interval = 20; max_expires = 120; };
limits = { source_rate = 1000000; source_burst = 1000000; };
log_level = "warn";
CONF
    [ "$1" = auth ] && cat >>"$WORK/proxyd.conf" <<CONF
auth = { realm = "bench.test"; users = "$WORK/users"; algorithms = "MD5";
         secret = "register bench secret"; max_failures = 1000000; };
CONF
    return 0
}
# USERS subscribers: the users file (MD5) and SIPp's injection file.
python3 - "$WORK" "$USERS" <<'PY'
import hashlib, sys
work, n = sys.argv[1], int(sys.argv[2])
with open(work + "/users", "w") as u, open(work + "/phones.csv", "w") as c:
    c.write("SEQUENTIAL\n")
    for i in range(n):
        user, pw = "u%d" % i, "pw%d" % i
        ha1 = hashlib.md5(("%s:bench.test:%s" % (user, pw)).encode()).hexdigest()
        u.write("%s bench.test MD5 %s\n" % (user, ha1))
        # SIPp 3.6 takes the whole keyword from the file, not [fieldN]
        # inside it
        c.write("%s;[authentication username=%s password=%s]\n" % (user, user, pw))
PY
cat >"$WORK/register.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="NATed phone REGISTER through proxyd">
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/UDP 192.168.1.10:5060;branch=[branch];rport
      From: <sip:[tag]b[call_number]@[remote_ip]>;tag=[pid]b[call_number]
      To: <sip:[tag]b[call_number]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[tag]b[call_number]@192.168.1.10:5060>
      Expires: 3600
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" rtd="true"/>
</scenario>
XML
cat >"$WORK/register_auth.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="NATed phone REGISTER through proxyd, digest">
  <send retrans="500">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/UDP 192.168.1.10:5060;branch=[branch];rport
      From: <sip:[field0]@[remote_ip]>;tag=[pid]b[call_number]
      To: <sip:[field0]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@192.168.1.10:5060>
      Expires: 3600
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="401" auth="true"/>
  <send retrans="500" start_rtd="true">
    <![CDATA[

      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/UDP 192.168.1.10:5060;branch=[branch];rport
      From: <sip:[field0]@[remote_ip]>;tag=[pid]b[call_number]
      To: <sip:[field0]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[field0]@192.168.1.10:5060>
      [field1]
      Expires: 3600
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" rtd="true"/>
</scenario>
XML

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU of our finished children (the SIPp instances), and the kernel's count
# of UDP datagrams dropped for a full receive buffer (any socket).
child_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }
udp_drops() { awk '/^Udp: [0-9]/{print $6; exit}' /proc/net/snmp; }

# sipp_step RATE CALLS TAG: SIPp instances (one UDP socket each, each under
# proxyd's per-source budget of 2000/s) sharing RATE; waits for them.
start_daemons() { # mode
    write_proxyd_conf "$1"
    write_redirectd_conf "$1"
    taskset -c 0 "$BUILD/redirectd" -f -c "$WORK/redirectd.conf" 2>"$WORK/redirectd.log" &
    RPID=$!; PIDS+=("$RPID"); disown "$RPID"
    taskset -c 0 "$BUILD/proxyd" -f -c "$WORK/proxyd.conf" 2>"$WORK/proxyd.log" &
    PPID_=$!; PIDS+=("$PPID_"); disown "$PPID_"
    sleep 0.5
    kill -0 "$RPID" && kill -0 "$PPID_" || { cat "$WORK"/*.log; exit 1; }
}
stop_daemons() {
    kill -KILL "$RPID" "$PPID_" 2>/dev/null || true
    sleep 0.3
}

sipp_step() {
    local rate=$1 calls=$2 tag=$3 n i spids=()
    local scen=(-sf register.xml)
    [ "$MODE" = auth ] && scen=(-sf register_auth.xml -inf phones.csv)
    n=$(( (rate + PER_SOURCE - 1) / PER_SOURCE ))
    for ((i = 0; i < n; i++)); do
        (cd "$WORK" && exec taskset -c 1 timeout $((STEP_S + 20)) sipp "127.0.0.1:$P" \
            "${scen[@]}" -i 127.0.0.1 -t u1 -r $((rate / n)) -m $((calls / n)) \
            -key tag "$tag$i" -cid_str "$tag$i-%u-%p@%s" -timeout $((STEP_S + 15)) -nostdin \
            -trace_stat -stf "$WORK/stat$i.csv" >"$WORK/sipp$i.out" 2>&1) &
        spids+=($!)
    done
    for p in "${spids[@]}"; do wait "$p" || true; done
    echo "$n"
}

run_mode() { # mode: prints the table; sets BEST
MODE=$1
PER_SOURCE=$PER_SOURCE_PLAIN
[ "$MODE" = auth ] && PER_SOURCE=$PER_SOURCE_AUTH
start_daemons "$MODE"
echo "[$MODE] proxyd + redirectd on CPU 0, SIPp on CPU 1; ${STEP_S}s per rate, NATed REGISTERs"
printf '%8s %9s %7s %8s %7s %8s %8s %10s %6s\n' asked achieved failed retrans "rtd ms" \
    "udp drop" "proxyd%" "redirectd%" "sipp%"
best=0
for rate in $RATES; do
    n=$(( (rate + PER_SOURCE - 1) / PER_SOURCE ))
    calls=$(( rate * STEP_S / n * n ))
    rm -f "$WORK"/stat*.csv
    p0=$(cpu_ticks "$PPID_"); r0=$(cpu_ticks "$RPID"); c0=$(child_ticks); d0=$(udp_drops)
    t0=$(date +%s.%N)
    n=$(sipp_step "$rate" "$calls" "r$rate-")
    t1=$(date +%s.%N)
    p1=$(cpu_ticks "$PPID_"); r1=$(cpu_ticks "$RPID"); c1=$(child_ticks); d1=$(udp_drops)
    read -r ok failed retrans rtd <<<"$(python3 - "$WORK" "$n" <<'PY'
import csv, sys
ok = failed = retrans = 0
rtd_us = []
for i in range(int(sys.argv[2])):
    rows = list(csv.reader(open("%s/stat%d.csv" % (sys.argv[1], i)), delimiter=";"))
    col = {name: j for j, name in enumerate(rows[0])}
    last = rows[-1]
    ok += int(last[col["SuccessfulCall(C)"]])
    failed += int(last[col["FailedCall(C)"]])
    retrans += int(last[col["Retransmissions(C)"]])
    # SIPp writes times as hh:mm:ss:microseconds (1 ms resolution)
    h, m, s, us = (int(x) for x in last[col["ResponseTime1(C)"]].split(":"))
    rtd_us.append(((h * 60 + m) * 60 + s) * 1000000 + us)
print(ok, failed, retrans, round(sum(rtd_us) / len(rtd_us) / 1000, 1))
PY
)"
    secs=$(python3 -c "print($t1 - $t0)")
    achieved=$(python3 -c "print(round($ok / $secs))")
    pcpu=$(python3 -c "print(round(100 * ($p1 - $p0) / $HZ / $secs))")
    rcpu=$(python3 -c "print(round(100 * ($r1 - $r0) / $HZ / $secs))")
    scpu=$(python3 -c "print(round(100 * ($c1 - $c0) / $HZ / $secs))")
    printf '%8s %9s %7s %8s %7s %8s %8s %10s %6s\n' "$rate" "$achieved" "$failed" "$retrans" \
        "$rtd" "$((d1 - d0))" "$pcpu" "$rcpu" "$scpu"
    # Sustained: every call answered, none retransmitted, at >= 95% of the rate.
    if [ "$failed" = 0 ] && [ "$ok" = "$calls" ] && [ "$retrans" = 0 ] &&
        [ "$achieved" -ge $((rate * 95 / 100)) ]; then
        best=$rate
    else
        break
    fi
done
echo "[$MODE] highest sustained rate (no failure, no retransmission): $best REGISTER/s"
stop_daemons
if [ "$MODE" != memory ] && [ -f "$WORK/redirectd.db" ]; then
    # every binding the run registered, as redirectd committed it
    python3 - "$WORK/redirectd.db" <<'PY'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT count(*), sum(length(k) + length(v)) FROM bindings").fetchone()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
if rows[0]:
    print("[store] %d bindings on disk: %d bytes of key and value each, %d bytes of file each"
          % (rows[0], rows[1] / rows[0], pages / rows[0]))
PY
fi
BEST=$best
}

declare -A RESULT
for m in $MODES; do
    run_mode "$m"
    RESULT[$m]=$BEST
    echo
done
if [ -n "${RESULT[plain]:-}" ] && [ -n "${RESULT[memory]:-}" ] && [ "${RESULT[memory]}" -gt 0 ]; then
    echo "REGISTER/s with the sqlite store ${RESULT[plain]}, with memory ${RESULT[memory]}:" \
        "sqlite/memory = $(python3 -c "print(round(${RESULT[plain]} / ${RESULT[memory]}, 2))")" \
        "(issue #17 wants >= 0.80)"
fi
if [ -n "${RESULT[plain]:-}" ] && [ -n "${RESULT[auth]:-}" ] && [ "${RESULT[plain]}" -gt 0 ]; then
    echo "REGISTER/s plain ${RESULT[plain]}, with auth ${RESULT[auth]}:" \
        "auth/plain = $(python3 -c "print(round(${RESULT[auth]} / ${RESULT[plain]}, 2))")" \
        "(issue #14 wants >= 0.75)"
fi
