#!/bin/sh
# The Debian packages as an operator gets them: builds them (build-deb.sh,
# lintian included), installs them on this machine with apt, checks the
# installed unit with `systemd-analyze verify`, runs the installed daemon the
# way the unit does (user fedgate, no capabilities, no new privileges,
# -c /etc/fedgate/conf.d) first with the packaged configuration (no member)
# and then with one mock member added, checks /readyz, /version, a kubectl
# call through it and a team's kubeconfig from fedgatectl, and builds the SDK's example plugin against the installed
# fedgate-sdk. Everything installed is purged at the end, also on failure.
# Run as root on a machine where fedgate is not installed.
set -eu
cd "$(dirname "$0")/.."
out="${1:-build/deb}"
[ "$(id -u)" -eq 0 ] || {
  echo "test-deb: run as root (it installs packages)" >&2
  exit 1
}
if dpkg-query -W -f='${Status}' fedgate 2>/dev/null | grep -q installed; then
  echo "test-deb: fedgate is installed already; purge it first" >&2
  exit 1
fi

rm -f "$out"/*.deb
./packaging/build-deb.sh "$out"

member=/etc/fedgate/conf.d/members/pkgtest.ini
rules=/etc/fedgate/rbac/40-pkgtest.yaml
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  rm -f "$member" "$rules"
  # dpkg, not apt-get: apt refuses the whole purge when one package (the
  # SDK, on a failure before its step) is not installed
  dpkg --purge fedgate-sdk fedgate-mock fedgate >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "./$out"/fedgate_*.deb "./$out"/fedgate-mock_*.deb
id fedgate
test "$(stat -c %U /var/lib/fedgate)" = fedgate
# the static token file of the packaged chain: the daemon's, no one else's
test "$(stat -c '%U %a' /etc/fedgate/tokens.csv)" = "fedgate 600"
test -f /etc/fedgate/rbac/00-cluster-admin.yaml

echo "test-deb: systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/fedgate.service

# The unit's command line; another gateway on this machine may hold the
# packaged port, then a free one is given with --listen.
listen=127.0.0.1:9443
extra=""
port=$(python3 -c '
import socket
s = socket.socket()
try:
    s.bind(("127.0.0.1", 9443))
except OSError:
    s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
if [ "$port" != 9443 ]; then
  listen=127.0.0.1:$port
  extra="--listen $listen"
  echo "test-deb: 127.0.0.1:9443 is taken; using $listen"
fi

# Starts the installed daemon as the unit would (User=fedgate,
# NoNewPrivileges, empty capability sets, UMask) and waits for /readyz.
start() {
  (
    cd /
    umask 0077
    # shellcheck disable=SC2086
    exec setpriv --reuid=fedgate --regid=fedgate --init-groups \
      --no-new-privs --bounding-set=-all --inh-caps=-all \
      /usr/bin/fedgate -c /etc/fedgate/conf.d $extra
  ) >"$tmp/fedgate.log" 2>&1 &
  pid=$!
  i=0
  until curl -fsS --max-time 2 --cacert /var/lib/fedgate/ca.crt \
    "https://$listen/readyz" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 60 ]; then
      echo "test-deb: the installed fedgate did not become ready:" >&2
      cat "$tmp/fedgate.log" >&2
      exit 1
    fi
    sleep 0.5
    i=$((i + 1))
  done
  echo "test-deb: /readyz ok ($1)"
}

stop() {
  kill "$pid"
  rc=0
  wait "$pid" || rc=$?
  pid=""
  if [ $rc -ne 0 ]; then
    echo "test-deb: fedgate exited with $rc:" >&2
    cat "$tmp/fedgate.log" >&2
    exit 1
  fi
}

start "packaged configuration, no member"
token=$(cat /var/lib/fedgate/admin.token)
curl -fsS --cacert /var/lib/fedgate/ca.crt -H "Authorization: Bearer $token" \
  "https://$listen/version" >"$tmp/version.json"
python3 - "$tmp/version.json" "$(git rev-parse HEAD)" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
assert v["gitCommit"] == sys.argv[2], v
print("test-deb: /version:", v["gitVersion"], v["gitCommit"])
PY
stop

cat >"$member" <<INI
[member "pkgtest"]
driver = mock
seed = /usr/share/fedgate/seeds/demo.json
INI
# The README's team kubeconfig with the packaged chain: the example
# namespace admin binding on this member, a token for the team from
# fedgatectl, whose --server answer gives the team this member only, in
# its namespace.
sed 's/fedgate.io\/clusters: "demo"/fedgate.io\/clusters: "pkgtest"/' \
  /usr/share/doc/fedgate/examples/rbac/40-namespace-admin.yaml >"$rules"
start "one mock member"
kubectl --kubeconfig /var/lib/fedgate/admin.kubeconfig --context pkgtest \
  get namespaces
fedgatectl kubeconfig -c /etc/fedgate/conf.d --user sam --group shop-admins \
  --token-file /etc/fedgate/tokens.csv --server "https://$listen" \
  >"$tmp/sam.kubeconfig"
test "$(stat -c '%U %a' /etc/fedgate/tokens.csv)" = "fedgate 600"
test "$(kubectl --kubeconfig "$tmp/sam.kubeconfig" config view \
  -o jsonpath='{.contexts[*].name}/{.contexts[*].context.namespace}')" = \
  "fedgate.fleet pkgtest/shop" # and the host's own API (kubectl sorts them)
kill -HUP "$pid"
i=0
until kubectl --kubeconfig "$tmp/sam.kubeconfig" get pods >/dev/null 2>&1; do
  [ $i -lt 40 ] || {
    echo "test-deb: the team's token did not work after SIGHUP" >&2
    exit 1
  }
  sleep 0.5
  i=$((i + 1))
done
if kubectl --kubeconfig "$tmp/sam.kubeconfig" get pods -A 2>"$tmp/err"; then
  echo "test-deb: the team may list pods in every namespace" >&2
  exit 1
fi
grep -q 'User "sam" cannot list resource "pods"' "$tmp/err"
echo "test-deb: a team's kubeconfig sees its namespace only"
stop
grep -q 'serving 1 member(s)' "$tmp/fedgate.log"

echo "test-deb: the SDK"
apt-get install -y -qq "./$out"/fedgate-sdk_*.deb
pkg-config --cflags fedgate-sdk
# The SDK names the directory the packaged daemon loads its plugins from.
test -f "$(pkg-config --variable=plugindir fedgate-sdk)/direct.so"
test -f "$(pkg-config --variable=plugindir fedgate-sdk)/admin_token.so"
test -f "$(pkg-config --variable=includedir fedgate-sdk)/fedgate/plugin.h"
test -f "$(pkg-config --variable=libdir fedgate-sdk)/libfedgate-sdk.a"
pkg-config --libs fedgate-sdk
cmake -S sdk/examples/echo-driver -B "$tmp/echo" >/dev/null
cmake --build "$tmp/echo"
# The chain's authenticate plugin beside the example driver.
ln -s "$(pkg-config --variable=plugindir fedgate-sdk)/admin_token.so" "$tmp/echo/"
mkdir "$tmp/conf"
cat >"$tmp/conf/10.ini" <<INI
[gateway]
plugin_dir = $tmp/echo
state_dir = $tmp/state
[member "echo"]
driver = echo
greeting = hi
[policy]
chain = admin_token
[plugin "admin_token"]
INI
/usr/bin/fedgate -c "$tmp/conf" --check
echo "test-deb: ok"
