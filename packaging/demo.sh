#!/bin/sh
# Installs the build dependencies, builds fedgate, and runs the host gateway
# on the shipped conf.d/ (two mock members: host and demo) in the foreground.
# Stop it with Ctrl-C.
#
# FG_DEMO_UNTIL_READY=1 (what CI uses): start the gateway, wait until it
# answers /readyz and a member list through it, print that, stop it, exit 0;
# exit 1 if it is not ready within 60 s.
set -eu
cd "$(dirname "$0")/.."
./packaging/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
cat <<MSG

fedgate is starting on https://127.0.0.1:9443 with the members of conf.d/.
In another terminal, from $(pwd):

  kubectl --kubeconfig state/admin.kubeconfig --context demo get pods -A
  kubectl --kubeconfig state/admin.kubeconfig --context host get nodes
  curl --http1.1 --cacert state/ca.crt -H "Authorization: Bearer \$(cat state/admin.token)" \\
       https://127.0.0.1:9443/clusters/demo/api/v1/namespaces

MSG
if [ "${FG_DEMO_UNTIL_READY:-0}" != 1 ]; then
  exec ./build/release/bin/fedgate -c conf.d
fi

./build/release/bin/fedgate -c conf.d &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
ready=0
i=0
while [ $i -lt 120 ]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "demo: fedgate exited before it was ready" >&2
    exit 1
  fi
  if [ -f state/ca.crt ] &&
    curl -fsS --max-time 2 --cacert state/ca.crt https://127.0.0.1:9443/readyz \
      >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.5
  i=$((i + 1))
done
if [ $ready != 1 ]; then
  echo "demo: fedgate did not answer /readyz within 60 s" >&2
  exit 1
fi
curl -fsS --cacert state/ca.crt -H "Authorization: Bearer $(cat state/admin.token)" \
  https://127.0.0.1:9443/clusters/demo/api/v1/namespaces >/dev/null
echo "demo: ready (/readyz and a namespace list of member demo answered)"
kill "$pid"
wait "$pid" || true
trap - EXIT
