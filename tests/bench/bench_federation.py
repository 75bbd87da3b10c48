"""Federation at fleet scale (issue 23): a host with FG_BENCH_MEMBERS mock
members (default 1,000, each on a seed of one Namespace) and the
federation service; FG_BENCH_OBJECTS federated objects (default 100, half
FederatedConfigMaps, half FederatedDeployments) each placed on 3 members,
spread so that every object has members of its own, applied with one
`kubectl apply`. Measured: the host's resident memory at rest with its
members, after everything is propagated and at its peak (against the
issue's 128 MiB); the time from the apply until every object's status says
3/3; the host's CPU over that time and over FG_BENCH_IDLE_S seconds at rest
after it (watches open, nothing changing); the watches the service opened
(one per member and kind in use, and no more), and that deleting every
object stops them all (and the time until every federated object is
gone, its finalizer released by the members' deletes). Printed, and as JSON (stdout's last line). Timing
figures are reported, not failed; a wrong watch count or an object that
never propagates fails.

    FEDGATE_BIN=build/release/bin/fedgate FG_SOURCE_DIR=$PWD \\
        /usr/bin/python3 tests/bench/bench_federation.py
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Gateway, wait_for  # noqa: E402
from peer import cpu_seconds, proc_kib  # noqa: E402

MEMBERS = int(os.environ.get("FG_BENCH_MEMBERS", "1000"))
OBJECTS = int(os.environ.get("FG_BENCH_OBJECTS", "100"))
IDLE_S = float(os.environ.get("FG_BENCH_IDLE_S", "10"))
PER_OBJECT = 3
RSS_BOUND_KIB = 128 * 1024
POLICY = '\n[policy]\nchain = admin_token\n[plugin "admin_token"]\n' \
         '[plugin "federation"]\n'
SEED = {"objects": [{"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": "default"}}]}
KINDS = (("FederatedConfigMap", "federatedconfigmaps", "configmaps",
          "  template: {data: {k: v%d}}\n"),
         ("FederatedDeployment", "federateddeployments", "deployments",
          "  template:\n    spec:\n      replicas: 1\n"
          "      selector: {matchLabels: {app: o%d}}\n"
          "      template:\n        metadata: {labels: {app: o%d}}\n"
          "        spec: {containers: [{name: c, image: nginx}]}\n"))


def member(i, seed):
    return '[member "m%d"]\ndriver = mock\nseed = %s\n' % (i, seed)


def placed(i):
    """The members of object I: 3 of its own while there are enough."""
    return ["m%d" % ((PER_OBJECT * i + k) % MEMBERS)
            for k in range(PER_OBJECT)]


def manifest():
    docs = []
    for i in range(OBJECTS):
        kind, _, _, template = KINDS[i % 2]
        docs.append(
            "apiVersion: types.kubefed.io/v1beta1\nkind: %s\n"
            "metadata: {name: o%d, namespace: bench}\nspec:\n%s"
            "  placement: {clusters: [%s]}\n" %
            (kind, i, template.replace("%d", str(i)),
             ", ".join("{name: %s}" % m for m in placed(i))))
    return "---\n".join(docs)


def kubectl(gw, *args, stdin=None):
    out = subprocess.run(
        ["kubectl", "--kubeconfig", gw.kubeconfig, "--context",
         "fedgate.fleet", "--request-timeout=60s", *args], input=stdin,
        capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise AssertionError("kubectl %s: %s" % (" ".join(args), out.stderr))
    return out.stdout


def propagated(gw):
    """How many federated objects say 3/3."""
    n = 0
    for _, resource, _, _ in KINDS:
        items = json.loads(kubectl(gw, "get", resource, "-n", "bench", "-o",
                                   "json"))["items"]
        n += sum(1 for o in items if o.get("status", {}).get(
            "propagated") == "%d/%d" % (PER_OBJECT, PER_OBJECT))
    return n


def log_count(gw, text):
    return gw.logs().count(text)


def main():
    tmp = tempfile.mkdtemp(prefix="fedgate-bench-fed-")
    seed = os.path.join(tmp, "seed.json")
    with open(seed, "w") as f:
        json.dump(SEED, f)
    gw = Gateway(members=[member(i, seed) for i in range(MEMBERS)],
                 policy=POLICY)
    r = {"members": MEMBERS, "objects": OBJECTS, "clusters_each": PER_OBJECT}
    try:
        t0 = time.monotonic()
        gw.start(timeout=300)
        r["start_s"] = time.monotonic() - t0
        pid = gw.proc.pid
        time.sleep(2)
        r["rss_rest_kib"] = proc_kib(pid, "VmRSS")

        text = manifest()
        cpu0, t0 = cpu_seconds([pid]), time.monotonic()
        kubectl(gw, "apply", "-f", "-", stdin=text)
        r["apply_s"] = time.monotonic() - t0
        deadline = t0 + 600
        while propagated(gw) < OBJECTS:
            if time.monotonic() > deadline:
                raise AssertionError("not all propagated: %d of %d" %
                                     (propagated(gw), OBJECTS))
            time.sleep(0.5)
        r["propagated_s"] = time.monotonic() - t0
        r["propagate_cpu_s"] = cpu_seconds([pid]) - cpu0
        r["rss_propagated_kib"] = proc_kib(pid, "VmRSS")

        # watches: one per (member, kind) in use, none for other kinds
        want = {(m, KINDS[i % 2][2]) for i in range(OBJECTS)
                for m in placed(i)}
        logs = gw.logs()
        opened = logs.count("federation: watching ")
        r["watches"] = opened
        r["watches_expected"] = len(want)
        if opened != len(want):
            raise AssertionError("%d watches opened, %d (member, kind) in use"
                                 % (opened, len(want)))
        for m, kind in want:
            if "federation: watching %s in %s\n" % (kind, m) not in logs:
                raise AssertionError("no watch of %s in %s" % (kind, m))

        cpu0, t0 = cpu_seconds([pid]), time.monotonic()
        time.sleep(IDLE_S)
        r["idle_cpu_ms_per_s"] = (cpu_seconds([pid]) - cpu0) * 1000.0 / (
            time.monotonic() - t0)
        r["rss_idle_kib"] = proc_kib(pid, "VmRSS")

        # kubectl delete's own wait is paced by its client-side rate limit
        # (one LIST per object): the service's time is read without it
        t0 = time.monotonic()
        for _, resource, _, _ in KINDS:
            kubectl(gw, "delete", resource, "--all", "-n", "bench",
                    "--wait=false")
        wait_for(lambda: not any(json.loads(kubectl(
            gw, "get", resource, "-n", "bench", "-o", "json"))["items"]
            for _, resource, _, _ in KINDS), 300, "every object to go")
        r["delete_s"] = time.monotonic() - t0
        wait_for(lambda: log_count(gw, "federation: stopped watching ") ==
                 opened, 60, "every watch to stop")
        r["watches_stopped"] = opened
        r["rss_peak_kib"] = proc_kib(pid, "VmHWM")
    finally:
        code = gw.stop()
        logs = gw.logs()
        gw.cleanup()
        os.unlink(seed)
        os.rmdir(tmp)
    if code != 0:
        raise AssertionError("fedgate exited %s:\n%s" % (code, logs[-4000:]))

    mib = 1024.0
    print("federation: %d members, %d objects x %d clusters" %
          (MEMBERS, OBJECTS, PER_OBJECT))
    print("  start with the members     %8.1f s" % r["start_s"])
    print("  RSS at rest                %8.1f MiB" % (r["rss_rest_kib"] / mib))
    print("  kubectl apply              %8.1f s" % r["apply_s"])
    print("  all propagated (3/3)       %8.1f s after the apply began" %
          r["propagated_s"])
    print("  CPU until then             %8.2f s" % r["propagate_cpu_s"])
    print("  RSS propagated             %8.1f MiB" %
          (r["rss_propagated_kib"] / mib))
    print("  watches opened             %8d (member, kind) pairs in use: %d"
          % (r["watches"], r["watches_expected"]))
    print("  CPU at rest, watches open  %8.2f ms/s over %.0f s" %
          (r["idle_cpu_ms_per_s"], IDLE_S))
    print("  RSS at rest, propagated    %8.1f MiB" % (r["rss_idle_kib"] / mib))
    print("  all deleted everywhere     %8.1f s; watches stopped: %d" %
          (r["delete_s"], r["watches_stopped"]))
    print("  RSS peak (VmHWM)           %8.1f MiB (target %d MiB)%s" %
          (r["rss_peak_kib"] / mib, RSS_BOUND_KIB // 1024,
           "" if r["rss_peak_kib"] <= RSS_BOUND_KIB else "  OVER"))
    print(json.dumps(r))


if __name__ == "__main__":
    main()
