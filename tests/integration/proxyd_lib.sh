# Shared by the proxyd registration tests (sourced after lib.sh): SIPp
# phones registering through proxyd, a SIPp "asking proxy" reading
# bindings back from redirectd, and readers for SIPp's message logs.

SCEN="$SRC_DIR/tests/integration/scenarios"

# phone NAME PORT AOR VIA CONTACT EXPIRES: one REGISTER from 127.0.0.1:PORT
# to proxyd ($P); the exchange is logged in $WORK/NAME.msg.
phone() {
    local name=$1 port=$2 aor=$3 via=$4 contact=$5 expires=$6
    sipp_run "$name" "127.0.0.1:$P" -sf "$SCEN/proxyd_phone_register.xml" -i 127.0.0.1 \
        -p "$port" -m 1 -key aor "$aor" -key via "$via" -key contact "$contact" \
        -key expires "$expires" -trace_msg -message_file "$WORK/$name.msg" \
        -timeout 20 -timeout_error || true
}

# ask NAME AOR: an INVITE for AOR from 127.0.0.1:$A (the address proxyd
# advertises in Path, so redirectd takes the asker for the serving proxy
# and answers with the client's channel) to redirectd ($R).
ask() {
    local name=$1 aor=$2
    sipp_run "$name" "127.0.0.1:$R" -sf "$SCEN/proxyd_ask_redirect.xml" -i 127.0.0.1 \
        -p "$A" -m 1 -key aor "$aor" -trace_msg -message_file "$WORK/$name.msg" \
        -timeout 10 -timeout_error || true
}

# received NAME: the messages SIPp received, one after the other.
received() {
    awk '/^-{20,}/{r=0} /message received/{r=1; next} r' "$WORK/$1.msg" 2>/dev/null
}

# status NAME: the status code of the first response received ("none").
status() {
    local s
    s=$(received "$1" | awk '/^SIP\/2.0 [0-9]+/{print $2; exit}')
    echo "${s:-none}"
}

# header NAME HEADER: that header of the first final response received.
header() {
    received "$1" | awk -v h="$2" '
        /^SIP\/2.0 [2-6][0-9][0-9]/ {f=1; next}
        /^SIP\/2.0 1[0-9][0-9]/ {f=0}
        f && tolower(substr($0, 1, length(h) + 1)) == tolower(h ":") {
            sub(/^[^:]*:[ \t]*/, ""); sub(/\r$/, ""); print; exit }'
}

# expect_status NAME CODE WHAT
expect_status() {
    local got
    got=$(status "$1")
    if [ "$got" = "$2" ]; then pass "$3 ($2)"; else fail "$3: got $got, want $2"; fi
}

# expect_header NAME HEADER REGEX WHAT
expect_header() {
    local got
    got=$(header "$1" "$2")
    if [[ "$got" =~ $3 ]]; then pass "$4 ($2: $got)"; else fail "$4: $2 is '$got', want /$3/"; fi
}
