#!/bin/sh
# Installs the Debian 12 packages fedgate needs to build, test and run its demo.
# Idempotent: packages already present are skipped, and apt is asked nothing
# when nothing is missing.
#
#   install-deps.sh            build the gateway (the demo)
#   install-deps.sh --package  and build the Debian packages (build-deb.sh)
#   install-deps.sh --test     and run every test, the package test included
#   install-deps.sh --bench    and the peers of tests/bench/bench_relay.py
set -eu

BUILD="build-essential cmake pkg-config git ca-certificates openssl curl
  libssl-dev libnghttp2-dev libcjson-dev libinih-dev libevent-dev
  libhttp-parser-dev libyaml-dev zlib1g-dev"
# The Debian tools: dpkg-buildpackage, dh, lintian; systemd-analyze checks
# the unit; adduser makes the package's system user.
PACKAGE="debhelper dpkg-dev fakeroot lintian systemd adduser"
TEST="libcmocka-dev clang libclang-rt-14-dev nghttp2-client
  python3 python3-kubernetes python3-h2 nginx-light"
# The proxies the relay benchmark measures fedgate beside (h2load is in
# nghttp2-client, nghttpx in nghttp2-proxy).
BENCH="nginx-light haproxy nghttp2-proxy nghttp2-client"

case "${1:-}" in
"") want="$BUILD" ;;
--package) want="$BUILD $PACKAGE" ;;
--test) want="$BUILD $PACKAGE $TEST" ;;
--bench) want="$BUILD $TEST $BENCH" ;;
*)
  echo "usage: install-deps.sh [--package | --test | --bench]" >&2
  exit 2
  ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done

if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

if ! command -v kubectl >/dev/null 2>&1; then
  echo "install-deps: kubectl is not installed and Debian 12 does not package it;" >&2
  echo "install-deps: the demo and the kubectl tests need it on PATH." >&2
fi
