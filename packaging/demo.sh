#!/bin/sh
# Installs the build dependencies, builds fedgate, and runs the host gateway
# on the shipped conf.d/ (two mock members: host and demo) in the foreground.
# Stop it with Ctrl-C.
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
exec ./build/release/bin/fedgate -c conf.d
