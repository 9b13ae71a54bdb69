#!/usr/bin/env bash
# proxyd's registration module (figure 3a) against a real redirectd on
# 127.0.0.1, with SIPp phones:
#  - a NATed phone (Via/Contact name 192.168.1.10:5060, the packet comes from
#    127.0.0.1:PORT) is registered at redirectd under its source address:
#    an INVITE for its AOR to redirectd from the serving proxy's address
#    comes back 302 with Contact = 127.0.0.1:PORT;
#  - the phone gets its own Contact back, with the granted expiry capped at
#    nat.max_expires; a non-NATed phone keeps the expiry it asked for;
#  - unregister removes the binding (404 afterwards);
#  - a REGISTER without Contact gets 400;
#  - SIGHUP applies a new nat.max_expires without dropping bindings, and
#    refuses a changed listen address.
#
# How the binding is read back: redirectd answers an INVITE with the
# client's channel only when the asker is the client's serving proxy (the
# Path of the registration, design decision 3). proxyd owns its listen
# port, so the test makes proxyd advertise 127.0.0.1:$A — a port the test's
# SIPp "asker" binds — and lists 127.0.0.1 (any port) in redirectd's
# proxies. redirectd still answers proxyd's REGISTERs at their source port
# (rport), so the registrations themselves are unaffected.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/proxyd_lib.sh"

P=$(free_port); R=$(free_port); Y=$(free_port); A=$(free_port)
cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1" ];
default_expires = 3600;
max_expires = 7200;
CONF
write_proxyd_conf() { # max_expires [listen port]
    cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:${2:-$P}";
advertise = "127.0.0.1:$A";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
nat = { keepalive_interval = 0; max_expires = $1; };
log_level = "debug";
CONF
}
write_proxyd_conf 60

start_daemon redirectd "$WORK/redirectd.conf"; RPID=$LAST_PID
start_daemon proxyd "$WORK/proxyd.conf"; PPID_=$LAST_PID

# 1. A NATed phone asks for 3600 s. (Phone ports are picked just before
#    use: other tests pick ports too.)
PH1=$(free_port)
phone alice1 "$PH1" alice 192.168.1.10:5060 192.168.1.10:5060 3600
expect_status alice1 200 "NATed phone registered"
expect_header alice1 Contact '^<sip:alice@192\.168\.1\.10:5060>;expires=60$' \
    "the phone sees its own Contact with the capped expiry"
expect_header alice1 Expires '^60$' "Expires capped at nat.max_expires"
check "proxyd logged the NAT" grep -q "alice registered for 60s behind NAT 127.0.0.1:$PH1" \
    "$WORK/proxyd.log"

ask ask1 alice
expect_status ask1 302 "redirectd knows alice"
expect_header ask1 Contact "^<?sip:alice@127\.0\.0\.1:$PH1>?" \
    "the binding holds the phone's source address, not 192.168.1.10"

# 2. A phone that is not NATed (Via = source, loopback Contact) keeps its
#    expiry and its Contact.
PH2=$(free_port)
phone bob1 "$PH2" bob "127.0.0.1:$PH2" "127.0.0.1:$PH2" 3600
expect_status bob1 200 "public phone registered"
expect_header bob1 Contact "^<sip:bob@127\.0\.0\.1:$PH2>;expires=3600$" \
    "a public phone's expiry is not capped"
ask ask2 bob
expect_header ask2 Contact "^<?sip:bob@127\.0\.0\.1:$PH2>?" "redirectd holds bob's Contact"

# 3. Bad input: no Contact -> 400, and redirectd is not asked.
python3 - "$P" <<'PY' >"$WORK/bad.out"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.bind(("127.0.0.1", 0))
msg = ("REGISTER sip:127.0.0.1 SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKnocontact;rport\r\n"
       "From: <sip:carol@127.0.0.1>;tag=1\r\nTo: <sip:carol@127.0.0.1>\r\n"
       "Call-ID: nocontact\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
       "Content-Length: 0\r\n\r\n")
s.sendto(msg.encode(), ("127.0.0.1", int(sys.argv[1])))
print(s.recv(4096).decode().split("\r\n")[0])
PY
check "a REGISTER without Contact gets 400" grep -q "^SIP/2.0 400" "$WORK/bad.out"

# 4. Unregister.
phone alice2 "$PH1" alice 192.168.1.10:5060 192.168.1.10:5060 0
expect_status alice2 200 "unregister accepted"
ask ask3 alice
expect_status ask3 404 "alice is gone from redirectd"
check "proxyd logged the unregister" grep -q "alice unregistered" "$WORK/proxyd.log"

# 5. Reload: nat.max_expires 60 -> 30 applies to the next registration,
#    bob's binding is untouched; a new listen address is refused.
write_proxyd_conf 30
kill -HUP "$PPID_"
check "reload applied" wait_log proxyd "configuration reloaded" 5
PH3=$(free_port)
phone alice3 "$PH3" alice 192.168.1.10:5060 192.168.1.10:5060 3600
expect_header alice3 Expires '^30$' "the new cap applies after SIGHUP"
ask ask4 bob
expect_status ask4 302 "bob still registered after the reload"
write_proxyd_conf 30 "$(free_port)"
kill -HUP "$PPID_"
check "a changed listen address is refused" wait_log proxyd "listen cannot change" 5
phone alice4 "$PH3" alice 192.168.1.10:5060 192.168.1.10:5060 3600
expect_status alice4 200 "registrations still work on the old config"
expect_header alice4 Expires '^30$' "the refused reload kept the running config"

stop_daemon "$PPID_" proxyd || true
stop_daemon "$RPID" redirectd || true
finish
