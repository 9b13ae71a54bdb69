#!/usr/bin/env bash
# Installs the Debian packages Pinhole needs to build, run and test.
# Idempotent: installs only what is missing, and runs apt-get update only then.
set -euo pipefail

BUILD_PKGS="build-essential cmake pkg-config libosip2-dev libevent-dev libconfig-dev libmimalloc-dev libssl-dev libsqlite3-dev"
TEST_PKGS="libcmocka-dev sip-tester sipvicious iproute2 nftables tshark valgrind procps python3 systemd man-db baresip-core"

want="$BUILD_PKGS"
case "${1:-}" in
    --test) want="$BUILD_PKGS $TEST_PKGS" ;;
    "") ;;
    *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

missing=()
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
