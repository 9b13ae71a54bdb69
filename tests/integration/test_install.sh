#!/usr/bin/env bash
# `cmake --install` (issue #8): binaries in sbin/, configs in /etc/pinhole
# that an existing one is never replaced in, the systemd units with their
# paths rewritten to the installation, the man pages; and the units pass
# `systemd-analyze verify` (and its offline security review).
#
# Everything goes under DESTDIR in $WORK: nothing is written outside it.
source "$(dirname "$0")/lib.sh"

if ! command -v systemd-analyze >/dev/null; then
    log "SKIP: systemd-analyze is missing (scripts/deps.sh --test installs the systemd package)"
    exit 77
fi
DAEMONS="proxyd redirectd relayd"

# install PREFIX DESTDIR: one `cmake --install` of the test build.
install_to() {
    DESTDIR=$2 cmake --install "$BUILD_DIR" --prefix "$1" >"$WORK/install.log" 2>&1 ||
        { cat "$WORK/install.log"; return 1; }
}

# ---- the Debian layout: --prefix /usr ----
R=$WORK/root
check "cmake --install --prefix /usr with DESTDIR succeeds" install_to /usr "$R"
for b in $DAEMONS pinholectl; do
    check "sbin/$b installed and executable" test -x "$R/usr/sbin/$b"
done
# The installed proxyd.conf names the installed users file, not conf/users.
sed 's|"conf/users"|"/etc/pinhole/users"|' "$SRC_DIR/conf/proxyd.conf" >"$WORK/proxyd.conf.want"
check "/etc/pinhole/proxyd.conf names /etc/pinhole/users" \
    cmp -s "$WORK/proxyd.conf.want" "$R/etc/pinhole/proxyd.conf"
check "/etc/pinhole/users installed" cmp -s "$SRC_DIR/conf/users" "$R/etc/pinhole/users"
check "/etc/pinhole/users is not world-readable" test "$(stat -c %a "$R/etc/pinhole/users")" = 640
for d in $DAEMONS; do
    [ "$d" = proxyd ] ||
        check "/etc/pinhole/$d.conf installed" cmp -s "$SRC_DIR/conf/$d.conf" "$R/etc/pinhole/$d.conf"
    check "the installed $d.conf passes $d -t" "$R/usr/sbin/$d" -t -c "$R/etc/pinhole/$d.conf"
    unit=$R/usr/lib/systemd/system/pinhole-$d.service
    check "pinhole-$d.service installed" test -f "$unit"
    check "$d: Type=notify" grep -qx "Type=notify" "$unit"
    check "$d: ExecStart runs /usr/sbin/$d in the foreground on /etc/pinhole/$d.conf" \
        grep -qx "ExecStart=/usr/sbin/$d -f -c /etc/pinhole/$d.conf" "$unit"
    check "$d: ExecReload sends SIGHUP" grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit"
    check "$d: Restart=on-failure" grep -qx "Restart=on-failure" "$unit"
    for h in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes ProtectHome=yes \
        DynamicUser=yes User=pinhole CapabilityBoundingSet=CAP_NET_BIND_SERVICE \
        AmbientCapabilities=CAP_NET_BIND_SERVICE \
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"; do
        check "$d: $h" grep -qx "$h" "$unit"
    done
    check "$d(8) installed" test -f "$R/usr/share/man/man8/$d.8"
done
check "relayd: LimitNOFILE=65536" grep -qx "LimitNOFILE=65536" \
    "$R/usr/lib/systemd/system/pinhole-relayd.service"
check "pinholectl(8) installed" test -f "$R/usr/share/man/man8/pinholectl.8"
check "example configs in the docs" test -f "$R/usr/share/doc/pinhole/examples/relayd.conf"
if command -v man >/dev/null; then
    for p in $DAEMONS pinholectl; do
        check "man -l renders $p.8 without warnings" bash -c \
            "out=\$(LC_ALL=C MANWIDTH=80 man -l --warnings '$R/usr/share/man/man8/$p.8' 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
    done
fi

# ---- an operator's config survives a reinstall; a missing one comes back ----
echo "# edited by the operator" >>"$R/etc/pinhole/proxyd.conf"
rm "$R/etc/pinhole/relayd.conf"
check "a second install succeeds" install_to /usr "$R"
check "the edited proxyd.conf was kept" grep -q "edited by the operator" "$R/etc/pinhole/proxyd.conf"
check "the install log says it was kept" grep -q "Kept (exists): .*/etc/pinhole/proxyd.conf" \
    "$WORK/install.log"
check "the removed relayd.conf was installed again" \
    cmp -s "$SRC_DIR/conf/relayd.conf" "$R/etc/pinhole/relayd.conf"

# ---- another prefix: the units follow it ----
O=$WORK/opt
check "cmake --install --prefix /opt/pinhole succeeds" install_to /opt/pinhole "$O"
check "the binaries are under the prefix" test -x "$O/opt/pinhole/sbin/relayd"
check "the unit runs the binary under the prefix" grep -qx \
    "ExecStart=/opt/pinhole/sbin/relayd -f -c /etc/pinhole/relayd.conf" \
    "$O/opt/pinhole/lib/systemd/system/pinhole-relayd.service"
check "the configs still go to /etc/pinhole" test -f "$O/etc/pinhole/relayd.conf"

# ---- systemd-analyze: on copies of the units pointing into DESTDIR ----
# (verify checks that ExecStart's binary exists and that the
# Documentation= man pages resolve: MANPATH points at the installed ones)
V=$WORK/verify
mkdir -p "$V"
for d in $DAEMONS; do
    sed "s#/usr/sbin/#$R/usr/sbin/#g" "$R/usr/lib/systemd/system/pinhole-$d.service" \
        >"$V/pinhole-$d.service"
done
set +e
out=$(cd "$V" && MANPATH=$R/usr/share/man systemd-analyze verify "$V"/pinhole-*.service 2>&1)
rc=$?
set -e
if [ "$rc" -ne 0 ] && grep -qiE "Failed to (initialize|setup|allocate) manager|bus" <<<"$out"; then
    log "SKIP: systemd-analyze cannot run here: $out"
    exit 77
fi
check "systemd-analyze verify passes on the three units" test "$rc" -eq 0
check "systemd-analyze verify has nothing to say" test -z "$out"
if [ -n "$out" ]; then echo "$out"; fi
# exposed D: systemd's offline security review scores the unit 2.5 or
# lower ("OK"; an unhardened service scores 9.6).
exposed() {
    systemd-analyze security --offline=yes --threshold=25 "$V/pinhole-$1.service" \
        >"$WORK/security-$1.txt" 2>&1 || { tail -3 "$WORK/security-$1.txt"; return 1; }
}
for d in $DAEMONS; do
    check "$d: exposure at most 2.5 in systemd-analyze security" exposed "$d"
done
# and the verification does fail on a unit that is wrong
sed 's/^Type=notify$/Type=notyfy/' "$V/pinhole-relayd.service" >"$V/pinhole-broken.service"
set +e
(cd "$V" && MANPATH=$R/usr/share/man systemd-analyze verify "$V/pinhole-broken.service") \
    >"$WORK/broken.txt" 2>&1
set -e
check "a misspelt Type= is reported (the check is not vacuous)" grep -qi "service type" "$WORK/broken.txt"
finish
