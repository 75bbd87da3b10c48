#!/bin/sh
# Installs the Debian 12 packages fedgate needs to build, test and run its demo.
# Idempotent: packages already present are skipped, and apt is asked nothing
# when nothing is missing.
set -eu

BUILD="build-essential cmake pkg-config git ca-certificates openssl curl
  libssl-dev libnghttp2-dev libcjson-dev libinih-dev libevent-dev
  libhttp-parser-dev"
TEST="libcmocka-dev clang libclang-rt-14-dev nghttp2-client
  python3 python3-kubernetes python3-h2 nginx-light"

want="$BUILD"
[ "${1:-}" = "--test" ] && want="$BUILD $TEST"

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
