"""The mock driver at scale, next to nginx on the same work, in one run.

A seed of FG_BENCH_OBJECTS objects (default 100,000) is generated in a
temporary directory: 10,000 pods shaped like the demo seed's (spec and
status) spread over 20 namespaces, with the Deployments, ReplicaSets and
Services that own and front them, 50 Nodes, and ConfigMaps, Secrets and
Events to make up the count. The objects are written in shuffled order, as
a merged or hand-edited seed may be, so the loader has to sort them.
fedgate serves it as one mock member with one worker, and this prints:

  - how long the seed takes to load (from start until a request answers),
    and fedgate's memory after loading against an almost empty seed's;
  - the time to list all 10,000 pods as JSON over HTTP/2 and HTTP/1.1 and
    as a Table (curl, median of FG_BENCH_REPS fetches), with the peak
    memory growth (VmHWM, reset before each group) beside the list's size:
    the list is streamed item by item, so the growth must stay far below
    the size of the list, which is the evidence that no second copy of it
    is held;
  - paging through all pods with limit=500 (requests and total time);
  - h2load, 10 clients, FG_BENCH_REQUESTS fetches of one namespace's pods;
  - kubectl get pods -A -o name, to show that a real client copes.

nginx serves the exact bytes fedgate returned (the full list, its Table and
the namespace's list) as static files over TLS with the same certificate,
and gets the same fetches and the same h2load run. Nothing here is a
pass/fail threshold except correctness: every request answers 200 and every
list holds the items it should. The summary holds the issues' targets
beside the figures: fedgate's RSS with the seed against the 128 MiB budget,
bytes per object against 1.5x the JSON, and the h2load list rate against
50% of nginx's.

FG_BENCH_BASELINE names another fedgate binary (an older build: copy its
bin/ and lib/ directories together, the plugins are found beside it) that
loads the same seed first; its memory and whole-list times are printed
before this build's, as "before" and "after".

    FG_BENCH_OBJECTS=100000 FG_BENCH_REQUESTS=1000 \\
        FG_BENCH_BASELINE=/tmp/before/bin/fedgate \\
        /usr/bin/python3 tests/bench/bench_mock_scale.py
"""
import hashlib
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402
from harness import Gateway, free_port, wait_for  # noqa: E402
from peer import (children, cpu_seconds, h2load, proc_kib,  # noqa: E402
                  start_nginx, stop_nginx)

OBJECTS = int(os.environ.get("FG_BENCH_OBJECTS", "100000"))
REQUESTS = int(os.environ.get("FG_BENCH_REQUESTS", "1000"))
REPS = int(os.environ.get("FG_BENCH_REPS", "5"))
CLIENTS = int(os.environ.get("FG_BENCH_CLIENTS", "10"))
BASELINE = os.environ.get("FG_BENCH_BASELINE")
BUDGET_MIB = 128
PODS = 10000
NAMESPACES = 20
NODES = 50
REPLICAS = 5
PAGE = 500
MEMBER = "scale"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
ALL_PODS = "/api/v1/pods"
NS_PODS = "/api/v1/namespaces/ns-00/pods"
CREATED = "2026-11-19T14:03:00Z"
STARTED = "2026-11-19T14:04:00Z"

def digest(*parts, n=10):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def uid(*parts):
    h = digest(*parts, n=32)
    return "%s-%s-4%s-8%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:32])


def meta(name, ns=None, labels=None, owner=None, **extra):
    m = {"name": name, "creationTimestamp": CREATED}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    if owner:
        m["ownerReferences"] = [dict(owner, controller=True,
                                     blockOwnerDeletion=True)]
    m.update(extra)
    return m


def condition(kind, t=STARTED):
    return {"type": kind, "status": "True", "lastProbeTime": None,
            "lastTransitionTime": t}


def container(app, image):
    return {
        "name": app, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "APP_NAME", "value": app},
                {"name": "POD_IP", "valueFrom": {"fieldRef": {
                    "apiVersion": "v1", "fieldPath": "status.podIP"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080,
                                       "scheme": "HTTP"},
                           "periodSeconds": 10, "timeoutSeconds": 1,
                           "successThreshold": 1, "failureThreshold": 3},
        "volumeMounts": [{"name": "kube-api-access", "readOnly": True,
                          "mountPath":
                          "/var/run/secrets/kubernetes.io/serviceaccount"}],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File"}


def pod(ns, app, rs_name, rs_uid, hash_, i, serial):
    name = "%s-%s" % (rs_name, digest(rs_name, str(i), n=5))
    image = "registry.example.com/%s/%s:1.%d.0" % (ns, app, serial % 17)
    node = "node-%02d" % (serial % NODES)
    ip = "10.244.%d.%d" % (serial // 250, serial % 250 + 2)
    host_ip = "172.19.0.%d" % (serial % NODES + 10)
    cid = digest(name, "container", n=64)
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": meta(name, ns, {"app": app, "pod-template-hash": hash_},
                         {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                          "name": rs_name, "uid": rs_uid}),
        "spec": {
            "containers": [container(app, image)],
            "volumes": [{"name": "kube-api-access", "projected": {
                "defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607,
                                             "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [
                        {"key": "ca.crt", "path": "ca.crt"}]}}]}}],
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "serviceAccountName": "default",
            "serviceAccount": "default", "terminationGracePeriodSeconds": 30,
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable",
                 "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 300}],
            "nodeName": node},
        "status": {
            "qosClass": "Burstable", "phase": "Running",
            "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "podIP": ip, "podIPs": [{"ip": ip}], "startTime": CREATED,
            "conditions": [condition("PodReadyToStartContainers"),
                           condition("Initialized", CREATED),
                           condition("Ready"), condition("ContainersReady"),
                           condition("PodScheduled", CREATED)],
            "containerStatuses": [{
                "name": app, "image": image,
                "imageID": "registry.example.com/%s/%s@sha256:%s" % (
                    ns, app, digest(image, n=64)),
                "containerID": "containerd://" + cid,
                "ready": True, "started": True, "restartCount": serial % 3,
                "state": {"running": {"startedAt": STARTED}}}]}}


def workload(ns, app, serial):
    """A Deployment, its ReplicaSet, its pods and the Service in front."""
    labels = {"app": app}
    hash_ = digest(ns, app, "template")
    dep_uid = uid("deploy", ns, app)
    rs_name = "%s-%s" % (app, hash_)
    rs_uid = uid("rs", ns, rs_name)
    template = {"metadata": {"labels": labels},
                "spec": {"containers": [container(app, "registry.example.com/"
                                                  "%s/%s:1.0.0" % (ns, app))]}}
    ready = {"replicas": REPLICAS, "readyReplicas": REPLICAS,
             "availableReplicas": REPLICAS}
    out = [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": meta(app, ns, labels, uid=dep_uid,
                          annotations={"deployment.kubernetes.io/revision":
                                       "1"}),
         "spec": {"replicas": REPLICAS, "selector": {"matchLabels": labels},
                  "template": template,
                  "strategy": {"type": "RollingUpdate"}},
         "status": dict(ready, updatedReplicas=REPLICAS, observedGeneration=1,
                        conditions=[{"type": "Available", "status": "True",
                                     "reason": "MinimumReplicasAvailable"}])},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet",
         "metadata": meta(rs_name, ns, dict(labels, **{
             "pod-template-hash": hash_}), {"apiVersion": "apps/v1",
                                            "kind": "Deployment", "name": app,
                                            "uid": dep_uid}, uid=rs_uid),
         "spec": {"replicas": REPLICAS, "selector": {"matchLabels": dict(
             labels, **{"pod-template-hash": hash_})}, "template": template},
         "status": dict(ready, fullyLabeledReplicas=REPLICAS,
                        observedGeneration=1)},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": meta(app, ns, labels),
         "spec": {"type": "ClusterIP", "selector": labels,
                  "clusterIP": "10.96.%d.%d" % (serial // 250,
                                                serial % 250 + 2),
                  "ports": [{"name": "http", "protocol": "TCP", "port": 80,
                             "targetPort": 8080}]},
         "status": {"loadBalancer": {}}},
    ]
    for i in range(REPLICAS):
        out.append(pod(ns, app, rs_name, rs_uid, hash_,
                       i, serial * REPLICAS + i))
    return out


def filler(kind, ns, i):
    name = "%s-%05d" % (kind.lower(), i)
    if kind == "ConfigMap":
        return {"apiVersion": "v1", "kind": kind, "metadata": meta(
            name, ns, {"app.kubernetes.io/part-of": "bench"}),
            "data": {"settings.yaml": "replicas: %d\nlevel: info\n"
                     "endpoint: http://svc-%d.%s.svc:80/\n" % (i % 9, i, ns),
                     "feature-flags": ",".join("flag-%d" % j
                                               for j in range(i % 7 + 1))}}
    if kind == "Secret":
        return {"apiVersion": "v1", "kind": kind, "type": "Opaque",
                "metadata": meta(name, ns),
                "data": {"username": "YmVuY2g=", "password":
                         digest(name, "password", n=24)}}
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": meta(name, ns),
            "involvedObject": {"apiVersion": "v1", "kind": "Pod",
                               "namespace": ns, "name": "pod-%05d" % i},
            "reason": "Pulled", "type": "Normal", "count": 1,
            "message": "Container image already present on machine",
            "source": {"component": "kubelet", "host": "node-%02d"
                       % (i % NODES)},
            "firstTimestamp": STARTED, "lastTimestamp": STARTED}


def make_seed(path, total):
    apps = PODS // REPLICAS
    per_ns = apps // NAMESPACES
    objs = [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "ns-%02d" % n}} for n in range(NAMESPACES)]
    for n in range(NODES):
        objs.append({"apiVersion": "v1", "kind": "Node", "metadata": meta(
            "node-%02d" % n, labels={"kubernetes.io/hostname":
                                     "node-%02d" % n}),
            "spec": {"podCIDR": "10.244.%d.0/24" % n},
            "status": {"conditions": [condition("Ready")], "nodeInfo": {
                "kubeletVersion": "v1.31.2", "osImage": "Debian 12",
                "containerRuntimeVersion": "containerd://1.7.22"}}})
    for a in range(apps):
        objs += workload("ns-%02d" % (a // per_ns), "app-%04d" % a, a)
    rest = total - len(objs)
    if rest < 0:
        raise SystemExit("FG_BENCH_OBJECTS must be at least %d" % len(objs))
    kinds = ("ConfigMap", "ConfigMap", "Secret", "Event")
    for i in range(rest):
        objs.append(filler(kinds[i % len(kinds)], "ns-%02d" % (i % NAMESPACES),
                           i))
    random.Random(1).shuffle(objs)
    with open(path, "w") as f:
        json.dump({"objects": objs}, f, separators=(",", ":"))
    return os.path.getsize(path)


def reset_hwm(pid):
    """Resets VmHWM to the current RSS (Linux clear_refs, value 5)."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


class Fetcher:
    """curl against one server: whole bodies, or timings with -o /dev/null."""

    def __init__(self, base, ca, token):
        self.base, self.ca, self.token = base, ca, token

    def cmd(self, path, http, accept):
        c = ["curl", "-sS", http, "--max-time", "300", "--cacert", self.ca]
        if self.token:
            c += ["-H", "Authorization: Bearer " + self.token]
        if accept:
            c += ["-H", "Accept: " + accept]
        return c + [self.base + path]

    def body(self, path, accept=None):
        out = subprocess.run(self.cmd(path, "--http2", accept) +
                             ["-w", "%{stderr}%{http_code}"],
                             capture_output=True, timeout=330)
        code = out.stderr.decode().strip()[-3:]
        if out.returncode != 0 or code != "200":
            raise SystemExit("GET %s%s: curl %d, HTTP %s" % (
                self.base, path, out.returncode, code))
        return out.stdout

    def timed(self, path, http, accept=None, reps=REPS, pid=None):
        """Median total time (s) and the bytes of each fetch; with PID, also
        that process's CPU seconds per fetch."""
        times, size = [], None
        cpu0 = cpu_seconds([pid]) if pid else 0
        for _ in range(reps):
            out = subprocess.run(
                self.cmd(path, http, accept) +
                ["-o", "/dev/null", "-w",
                 "%{http_code} %{size_download} %{time_total}"],
                capture_output=True, text=True, timeout=330)
            parts = out.stdout.split()
            if out.returncode != 0 or len(parts) != 3 or parts[0] != "200":
                raise SystemExit("GET %s%s (%s): curl %d %s %s" % (
                    self.base, path, http, out.returncode, out.stdout,
                    out.stderr))
            if size is not None and int(parts[1]) != size:
                raise SystemExit("GET %s%s: %s bytes, then %s" % (
                    self.base, path, size, parts[1]))
            size = int(parts[1])
            times.append(float(parts[2]))
        if pid:
            return (statistics.median(times), size,
                    (cpu_seconds([pid]) - cpu0) / reps)
        return statistics.median(times), size


def check_pods(body, want, what):
    doc = json.loads(body)
    items = doc.get("items") if doc.get("kind") == "PodList" else None
    if items is None or len(items) != want:
        raise SystemExit("%s: expected a PodList of %d, got %s of %s" % (
            what, want, doc.get("kind"),
            len(items) if items is not None else "no items"))
    return doc


def check_table(body, want):
    doc = json.loads(body)
    rows = doc.get("rows")
    if doc.get("kind") != "Table" or rows is None or len(rows) != want:
        raise SystemExit("Table: expected %d rows, got %s of %s" % (
            want, doc.get("kind"), len(rows) if rows is not None else "none"))


def page_through(gw, path):
    """Lists PATH with limit=PAGE over one HTTP/1.1 connection, following
    metadata.continue; returns (requests, seconds, names)."""
    conn = http.client.HTTPSConnection("127.0.0.1", gw.port, timeout=120,
                                       context=gw.tls_context())
    names, requests, cont = [], 0, ""
    start = time.monotonic()
    try:
        while True:
            query = {"limit": str(PAGE)}
            if cont:
                query["continue"] = cont
            conn.request("GET", path + "?" + urllib.parse.urlencode(query),
                         headers={"Authorization": "Bearer " + gw.token})
            resp = conn.getresponse()
            body = resp.read()
            requests += 1
            if resp.status != 200:
                raise SystemExit("page %d: HTTP %d: %s" % (
                    requests, resp.status, body[:300]))
            doc = json.loads(body)
            if len(doc["items"]) > PAGE:
                raise SystemExit("page %d holds %d items" % (
                    requests, len(doc["items"])))
            names += [(i["metadata"]["namespace"], i["metadata"]["name"])
                      for i in doc["items"]]
            cont = doc["metadata"].get("continue", "")
            if not cont:
                break
    finally:
        conn.close()
    return requests, time.monotonic() - start, names


def kubectl_names(gw, chunk):
    cmd = ("kubectl --kubeconfig %s --context %s get pods -A "
           "--request-timeout=60s --chunk-size=%d -o name | wc -l" % (
               gw.kubeconfig, MEMBER, chunk))
    start = time.monotonic()
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd],
                         capture_output=True, text=True, timeout=300)
    took = time.monotonic() - start
    if out.returncode != 0 or int(out.stdout.strip() or 0) != PODS:
        warnings = [line for line in gw.logs().splitlines()
                    if " warn " in line or " error " in line]
        raise SystemExit("kubectl (chunk size %d): exit %d, %s lines\n%s"
                         "fedgate's warnings:\n%s" % (
                             chunk, out.returncode, out.stdout.strip(),
                             out.stderr, "\n".join(warnings[-5:])))
    return took


def member(seed):
    return '[member "%s"]\ndriver = mock\nseed = %s\n' % (MEMBER, seed)


def started(gw):
    """Starts GW; returns seconds until a request is answered. The listening
    socket is bound and the state dir (CA, token) written before the seed is
    read, so a TCP connect is not enough: this waits for an HTTP answer from
    the loaded member (the TLS handshake waits for the event loop)."""
    t0 = time.monotonic()
    gw.start()
    Fetcher(gw.base, gw.ca, gw.token).body(
        "/clusters/%s/api/v1/namespaces/ns-00" % MEMBER)
    return time.monotonic() - t0


def baseline(seed, seed_bytes, base_rss):
    """The FG_BENCH_BASELINE build on SEED: (label, bytes/object, RSS and
    VmHWM after load in KiB, JSON and Table list times)."""
    saved = harness.FEDGATE
    harness.FEDGATE = BASELINE
    gw = Gateway(members=[member(seed)], extra_gateway="workers = 1\n")
    try:
        load_s = started(gw)
        pid = gw.proc.pid
        rss, hwm = proc_kib(pid, "VmRSS"), proc_kib(pid, "VmHWM")
        fg = Fetcher(gw.base, gw.ca, gw.token)
        prefix = "/clusters/" + MEMBER
        json_s, _, json_cpu = fg.timed(prefix + ALL_PODS, "--http2", pid=pid)
        table_s, _, table_cpu = fg.timed(prefix + ALL_PODS, "--http2", TABLE,
                                         pid=pid)
    finally:
        harness.FEDGATE = saved
        code = gw.stop()
        gw.cleanup()
    if code != 0:
        raise SystemExit("baseline fedgate exited %s" % code)
    return ((rss - base_rss) * 1024.0 / OBJECTS, rss, hwm, load_s, json_s,
            table_s, json_cpu, table_cpu)


def main():
    harness.START_TIMEOUT = 600.0
    tmp = tempfile.mkdtemp(prefix="fedgate-bench-")
    os.chmod(tmp, 0o755)  # nginx's workers drop root and read the files
    gateways, nginx, codes = [], None, []
    try:
        # An almost empty seed first: what fedgate costs without the store.
        small = os.path.join(tmp, "small.json")
        with open(small, "w") as f:
            json.dump({"objects": [{"apiVersion": "v1", "kind": "Namespace",
                                    "metadata": {"name": "ns-00"}}]}, f)
        gw = Gateway(members=[member(small)], extra_gateway="workers = 1\n")
        gateways.append(gw)
        base_s = started(gw)
        base_rss = proc_kib(gw.proc.pid, "VmRSS")

        seed = os.path.join(tmp, "seed.json")
        t0 = time.monotonic()
        seed_bytes = make_seed(seed, OBJECTS)
        print("generated %d objects (%d pods), %.1f MiB of JSON, in %.1fs"
              % (OBJECTS, PODS, seed_bytes / 1048576.0,
                 time.monotonic() - t0))

        old = baseline(seed, seed_bytes, base_rss) if BASELINE else None

        gw = Gateway(members=[member(seed)], extra_gateway="workers = 1\n")
        gateways.append(gw)
        load_s = started(gw)
        fg = Fetcher(gw.base, gw.ca, gw.token)
        pid = gw.proc.pid
        rss_loaded = proc_kib(pid, "VmRSS")
        hwm_loaded = proc_kib(pid, "VmHWM")
        prefix = "/clusters/" + MEMBER

        # The bodies nginx will serve, and the correctness checks. The first
        # fetch of the full list is the cold one: nothing of a list has been
        # allocated yet, so whatever it keeps or peaks at shows here.
        reset_hwm(pid)
        full = fg.body(prefix + ALL_PODS)
        cold_growth = proc_kib(pid, "VmHWM") - rss_loaded
        cold_kept = proc_kib(pid, "VmRSS") - rss_loaded
        check_pods(full, PODS, "all pods")
        table = fg.body(prefix + ALL_PODS, TABLE)
        check_table(table, PODS)
        per_ns = fg.body(prefix + NS_PODS)
        ns_doc = check_pods(per_ns, PODS // NAMESPACES, "namespace ns-00")
        if any(i["metadata"]["namespace"] != "ns-00" for i in ns_doc["items"]):
            raise SystemExit("namespace ns-00 lists another namespace's pod")
        del ns_doc

        root = os.path.join(tmp, "root")
        files = {prefix + ALL_PODS: full, prefix + NS_PODS: per_ns,
                 "/table" + prefix + ALL_PODS: table}
        for path, data in files.items():
            os.makedirs(os.path.dirname(root + path), exist_ok=True)
            with open(root + path, "wb") as f:
                f.write(data)
        port = free_port()
        nginx = start_nginx(tmp, port, root,
                            os.path.join(gw.state, "server.crt"),
                            os.path.join(gw.state, "server.key"))
        nx = Fetcher("https://127.0.0.1:%d" % port, gw.ca, None)
        wait_for(lambda: subprocess.run(
            nx.cmd(prefix + NS_PODS, "--http2", None) +
            ["-f", "-o", "/dev/null"], capture_output=True).returncode == 0,
            15, "nginx")

        # Whole-list fetches; VmHWM is reset before each group so that its
        # growth is the peak the group added over the resident store.
        rows, hwm_listed = [], 0
        for label, path, http, accept, size in (
                ("10,000 pods JSON, h2", ALL_PODS, "--http2", None, len(full)),
                ("10,000 pods JSON, h1.1", ALL_PODS, "--http1.1", None,
                 len(full)),
                ("10,000 pods Table, h2", ALL_PODS, "--http2", TABLE,
                 len(table))):
            reset_hwm(pid)
            before = proc_kib(pid, "VmRSS")
            f_s, f_bytes, f_cpu = fg.timed(prefix + path, http, accept,
                                           pid=pid)
            peak = proc_kib(pid, "VmHWM")
            hwm_listed = max(hwm_listed, peak)
            growth = peak - before
            n_path = ("/table" if accept else "") + prefix + path
            n_s, n_bytes = nx.timed(n_path, http)
            if f_bytes != size or n_bytes != size:
                raise SystemExit("%s: %d and %d bytes, expected %d" % (
                    label, f_bytes, n_bytes, size))
            rows.append((label, size, f_s, n_s, growth, f_cpu))

        reset_hwm(pid)
        before = proc_kib(pid, "VmRSS")
        pages, page_s, names = page_through(gw, prefix + ALL_PODS)
        page_growth = proc_kib(pid, "VmHWM") - before
        if len(names) != PODS or len(set(names)) != PODS:
            raise SystemExit("paging: %d items, %d distinct, expected %d" % (
                len(names), len(set(names)), PODS))

        loads = []
        for proto, h1 in (("h2", False), ("h1.1", True)):
            reset_hwm(pid)
            before = proc_kib(pid, "VmRSS")
            f_rps, f_mean = h2load(gw.base + prefix + NS_PODS, gw.token, h1,
                                   REQUESTS, CLIENTS)
            growth = proc_kib(pid, "VmHWM") - before
            n_rps, n_mean = h2load(nx.base + prefix + NS_PODS, None, h1,
                                   REQUESTS, CLIENTS)
            loads.append((proto, f_rps, f_mean, n_rps, n_mean, growth))

        kube_500 = kubectl_names(gw, 500)
        kube_all = kubectl_names(gw, 0)

        f_rss = proc_kib(pid, "VmRSS")
        n_pids = [nginx.pid] + children(nginx.pid)
        n_hwm = sum(proc_kib(p, "VmHWM") for p in n_pids)
        n_rss = sum(proc_kib(p, "VmRSS") for p in n_pids)

        store = rss_loaded - base_rss
        print("\nfedgate mock member at scale: %d objects, %.1f MiB seed, "
              "1 worker; nginx: %d worker, same TLS certificate"
              % (OBJECTS, seed_bytes / 1048576.0, 1))
        print("start to first answer: %.2f s with the seed (%.0f objects/s), "
              "%.2f s with an almost empty one" % (load_s, OBJECTS / load_s,
                                                   base_s))
        print("fedgate RSS: %s with an empty seed, %s after load (%s for the "
              "member: its store, the watch log holding only recent events; "
              "%.0f bytes/object, %.1fx the seed's JSON)"
              % (mib(base_rss), mib(rss_loaded), mib(store),
                 store * 1024.0 / OBJECTS, store * 1024.0 / seed_bytes))
        print("fedgate VmHWM: %s after load, %s at most while fetching "
              "the lists below" % (mib(hwm_loaded), mib(hwm_listed)))
        print("first (cold) fetch of the 10,000 pods, %d bytes of JSON: "
              "fedgate's VmHWM grew %s over its RSS after load, and %s of it "
              "stayed resident" % (len(full), mib(cold_growth),
                                   mib(cold_kept)))
        print("\n%-24s %10s %11s %11s %10s %12s %14s"
              % ("list (curl, median of %d)" % REPS, "bytes", "fedgate",
                 "nginx", "fedgate", "fedgate CPU", "fedgate peak"))
        print("%-24s %10s %11s %11s %10s %12s %14s"
              % ("", "", "time", "time", "MB/s", "per fetch", "growth"))
        for label, size, f_s, n_s, growth, f_cpu in rows:
            print("%-24s %10d %10.3fs %10.3fs %10.1f %11.0fms %14s"
                  % (label, size, f_s, n_s, size / f_s / 1e6, f_cpu * 1e3,
                     mib(growth)))
        print("%-24s %10s %10.3fs %11s %10s %14s"
              % ("limit=%d paging, h1.1" % PAGE, "%d req" % pages, page_s,
                 "-", "", mib(page_growth)))
        print("\nh2load: %d requests of one namespace's %d pods (%d bytes), "
              "%d clients, 1 stream each" % (REQUESTS, PODS // NAMESPACES,
                                             len(per_ns), CLIENTS))
        print("%-9s %14s %12s %14s %12s %14s" % (
            "protocol", "fedgate req/s", "mean", "nginx req/s", "mean",
            "fedgate peak"))
        for proto, f_rps, f_mean, n_rps, n_mean, growth in loads:
            print("%-9s %14.1f %12s %14.1f %12s %14s" % (
                proto, f_rps, f_mean, n_rps, n_mean,
                "+" + mib(growth)))
        print("\nkubectl get pods -A -o name | wc -l (%d pods): %.2fs with "
              "--chunk-size=500 (%d pages), %.2fs with --chunk-size=0"
              % (PODS, kube_500, (PODS + PAGE - 1) // PAGE, kube_all))
        print("memory at the end: fedgate RSS %s, VmHWM %s since the last "
              "reset; nginx (master + worker) RSS %s, VmHWM %s"
              % (mib(f_rss), mib(proc_kib(pid, "VmHWM")), mib(n_rss),
                 mib(n_hwm)))
        print("(nginx sends precomputed bytes from a file; fedgate checks the "
              "token, routes, and copies every item's stored JSON into the "
              "response as it streams (a Table copies the cells prepared "
              "when each object was stored); CPU is utime+stime in 10 ms "
              "ticks over the fetches; 'peak growth' is fedgate's VmHWM over its RSS just "
              "before, against the list's size: a second copy of the list "
              "would show as growth of about its size)")
        json_s, json_cpu = rows[0][2], rows[0][5]
        table_s, table_cpu = rows[2][2], rows[2][5]
        print("\ntargets (issues 20 and 21)")
        print("%-44s %14s %14s" % ("", "before", "after"))
        if old:
            print("%-44s %14.0f %14.0f" % ("bytes per object (1.5x JSON: %.0f)"
                                           % (1.5 * seed_bytes / OBJECTS),
                                           old[0],
                                           store * 1024.0 / OBJECTS))
            print("%-44s %14s %14s" % ("RSS after load (budget %d MiB)"
                                       % BUDGET_MIB, mib(old[1]),
                                       mib(rss_loaded)))
            print("%-44s %14s %14s" % ("VmHWM after load", mib(old[2]),
                                       mib(hwm_loaded)))
            print("%-44s %13.2fs %13.2fs" % ("start to first answer",
                                             old[3], load_s))
            print("%-44s %13.3fs %13.3fs" % ("10,000 pods JSON, h2",
                                             old[4], json_s))
            print("%-44s %13.3fs %13.3fs" % ("10,000 pods Table, h2",
                                             old[5], table_s))
            print("%-44s %12.0fms %12.0fms" % ("fedgate CPU, pods JSON, h2",
                                               old[6] * 1e3, json_cpu * 1e3))
            print("%-44s %12.0fms %12.0fms" % ("fedgate CPU, pods Table, h2",
                                               old[7] * 1e3,
                                               table_cpu * 1e3))
        else:
            print("%-44s %14s %14.0f" % ("bytes per object (1.5x JSON: %.0f)"
                                         % (1.5 * seed_bytes / OBJECTS), "-",
                                         store * 1024.0 / OBJECTS))
            print("%-44s %14s %14s" % ("RSS after load (budget %d MiB)"
                                       % BUDGET_MIB, "-", mib(rss_loaded)))
        print("RSS with %d objects: %s, %s the %d MiB budget" % (
            OBJECTS, mib(rss_loaded),
            "within" if rss_loaded <= BUDGET_MIB * 1024 else "OVER",
            BUDGET_MIB))
        for proto, f_rps, _, n_rps, _, _ in loads:
            print("h2load %s list rate: fedgate %.1f req/s, nginx %.1f req/s:"
                  " %.0f%% of nginx's (target 50%%)" % (
                      proto, f_rps, n_rps, 100.0 * f_rps / n_rps))
    finally:
        if nginx:
            stop_nginx(nginx)
        for gw in gateways:
            try:
                codes.append(gw.stop())
            finally:
                gw.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    if any(c != 0 for c in codes):
        raise SystemExit("fedgate exited %s" % codes)


if __name__ == "__main__":
    main()
