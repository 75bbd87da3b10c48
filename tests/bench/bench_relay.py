"""fedgate's relay beside nginx, HAProxy and nghttpx as the same TLS proxy,
in one run.

One nginx over TLS is the upstream: it serves /version (~200 B), a 20 KB
PodList and a 2 MB list as static JSON files. In front of it, each
terminating TLS with h2 and http/1.1 on 127.0.0.1, one worker each:

  fedgate-h2   fedgate, a direct member over h2 (admin token checked,
               the member's bearer token and impersonation added)
  fedgate-h1   the same over an HTTP/1.1 upstream (http2 = false)
  nginx        proxy_pass over HTTP/1.1 with keepalive (nginx has no h2
               upstream)
  haproxy      an h2 server line (alpn h2)
  nghttpx      an h2 backend
  fedgate-w2   fedgate-h2 with workers = 2
  fedgate-pol  fedgate-h2 with authentication (a static token file), RBAC
               (the shipped rules, the user's group bound to
               cluster-viewer on m1) and audit (Metadata events to a
               file) in its policy chain, requests carrying the user's token

and "upstream": the upstream alone. Every request carries the same
Authorization header. The peers forward the path as it is (the upstream
has the files under /clusters/m1/ too); fedgate strips /clusters/NAME.

h2load drives each workload (h2: -c 50 -m 10; HTTP/1.1: -c 50 -m 1; 2 MB: -c 10 -m 1) on
each system in turn, A B C A B C, for ROUNDS rounds. Figures: CPU per
request of the system under test (utime+stime of its processes from
/proc over the run), requests per second and its ratio to the upstream
alone, p50/p99 latency (h2load's per-request log), peak RSS (VmHWM).
Then p99 under a light load: h2 /version with -c 10 -m 1 (closed loop;
its request rate beside the full-load one says what share of the peak it
is) on the upstream, fedgate-h2 and the peers, and fedgate's p99 minus
the upstream's. Then
idle RSS per TLS connection (h2 preface and SETTINGS sent) at 100, 1,000
and 5,000 connections (as RLIMIT_NOFILE allows), taken in turn by a fresh
process of each proxy, fedgate's idle RSS, and its RSS with 1,000 configured direct
members once their first probe round is over (a quiet member's connection
goes with its probe) and the peak of that round, when every member dials at
once. One table with each fedgate figure's ratio to the best peer;
the JSON goes to --json. No figure is a pass/fail threshold; every
request must succeed.

    ./packaging/install-deps.sh --bench
    FEDGATE_BIN=build/release/bin/fedgate FG_SOURCE_DIR=$PWD \\
        /usr/bin/python3 tests/bench/bench_relay.py --json relay.json

--baseline OTHER_FEDGATE adds another build (fedgate-base, h2 upstream)
to the same interleaved run: a before/after that one machine's load
cannot skew. --smoke (what ctest runs) does the same with a few hundred requests, 20
connections and 20 members, and skips a peer that is not installed.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402
from harness import ADMIN_POLICY, Gateway, free_port, wait_for  # noqa: E402
from test_direct import direct_member, make_cert  # noqa: E402
from peer import children, cpu_seconds, proc_kib, start_nginx  # noqa: E402
from peer import stop_nginx  # noqa: E402
from bench_conn_memory import open_conn, settled_kib  # noqa: E402

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0",
           "gitCommit": "0" * 40, "gitTreeState": "clean",
           "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3",
           "compiler": "gc", "platform": "linux/amd64"}
# path under the member -> body size wanted
FILES = {"/version": 0, "/api/v1/namespaces/bench/pods": 20 * 1024,
         "/api/v1/pods": 2 * 1024 * 1024}
# name, HTTP/1.1?, path, clients, streams per client: 2 MB answers with
# -c 50 -m 10 would be a gigabyte in flight, so they run 10 x 1.
WORKLOADS = [("h2 /version", False, "/version", 50, 10),
             ("h1 /version", True, "/version", 50, 1),
             ("h2 20KB list", False, "/api/v1/namespaces/bench/pods", 50, 10),
             ("h1 20KB list", True, "/api/v1/namespaces/bench/pods", 50, 1),
             ("h2 2MB list", False, "/api/v1/pods", 10, 1)]
PEERS = ("nginx", "haproxy", "nghttpx")
# h2 /version under a light, closed-loop load: clients, streams per client
LIGHT = ("h2 /version light", False, "/version", 10, 1)
BENCH_TOKEN = "bench-user-token-0123456789abcdef"
POLICY_ON = """
[policy]
chain = admin_token, tokens, rbac, audit
[plugin "admin_token"]
[plugin "tokens"]
plugin = authn_token
token_file = tokens.csv
[plugin "rbac"]
plugin = rbac
rules = rbac
[plugin "audit"]
path = %s
"""
VIEWERS = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: bench-viewers
  annotations:
    fedgate.io/clusters: "m1"
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-viewer
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: bench-viewers
"""


def policy_files():
    """conf.d files of fedgate-pol: the token file and the rules."""
    d = os.path.join(os.environ.get("FG_SOURCE_DIR", "."), "conf.d", "rbac")
    files = {"rbac/" + n: open(os.path.join(d, n)).read()
             for n in os.listdir(d)}
    files["rbac/90-bench.yaml"] = VIEWERS
    files["tokens.csv"] = '%s,bench,1000,"bench-viewers"\n' % BENCH_TOKEN
    return files
IDLE_FOR = 2
IDLE_KEYS = ("max_connections = %d\nmax_connections_per_source = 0\n"
             "header_timeout = 600s\nidle_timeout = 600s\n"
             "unauthenticated_idle_timeout = 600s\n")


def pod(n):
    return {
        "metadata": {"name": "bench-%05d" % n, "namespace": "bench",
                     "uid": "%08d-0000-4000-8000-000000000000" % n,
                     "resourceVersion": str(1000 + n),
                     "labels": {"app": "bench", "tier": "web"}},
        "spec": {"nodeName": "node-%d" % (n % 8), "containers": [
            {"name": "app", "image": "registry.local/bench:1.0",
             "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]},
        "status": {"phase": "Running",
                   "podIP": "10.0.%d.%d" % (n // 250, n % 250 + 1)}}


def pod_list(size):
    """A PodList of about SIZE bytes of JSON."""
    count = max(1, size // len(json.dumps(pod(0))))
    return json.dumps({"kind": "PodList", "apiVersion": "v1",
                       "metadata": {"resourceVersion": "5000"},
                       "items": [pod(n) for n in range(count)]}).encode()


def write_root(root):
    for path, size in FILES.items():
        body = json.dumps(VERSION).encode() if not size else pod_list(size)
        for prefix in ("", "/clusters/m1"):
            full = os.path.join(root, (prefix + path).lstrip("/"))
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(body)


class System:
    """A process tree serving https://127.0.0.1:PORT, measured by pid."""
    prefix = "/clusters/m1"

    def pids(self):
        return [self.proc.pid] + children(self.proc.pid)

    def kib(self, field):
        return sum(proc_kib(p, field) for p in self.pids())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Upstream(System):
    prefix = ""

    def __init__(self, tmp, root, crt, key, conns):
        self.dir = os.path.join(tmp, "upstream")
        os.mkdir(self.dir)
        self.port = free_port()
        self.proc = start_nginx(self.dir, self.port, root, crt, key,
                                worker_connections=conns)

    def stop(self):
        stop_nginx(self.proc)


class Fedgate(System):
    def __init__(self, tmp, upstream, crt, h1, extra="", members=None,
                 binary=None, workers=1, policy=False):
        token = os.path.join(tmp, "member.token")
        with open(token, "w") as f:
            f.write("bench-member-token\n")
        if members is None:
            members = [direct_member("m1", upstream.port, crt, token,
                                     "" if not h1 else "http2 = false\n")]
        kw = {"policy": ADMIN_POLICY}
        if policy:
            kw = {"policy": POLICY_ON % os.path.join(tmp, "audit.log"),
                  "extra_files": policy_files()}
        self.gw = Gateway(members=members,
                          extra_gateway="workers = %d\n" % workers + extra,
                          **kw)
        default, harness.FEDGATE = harness.FEDGATE, binary or harness.FEDGATE
        try:
            self.gw.start(timeout=120)
        finally:
            harness.FEDGATE = default
        self.proc, self.port = self.gw.proc, self.gw.port
        self.token = BENCH_TOKEN if policy else self.gw.token

    def stop(self):
        code = self.gw.stop()
        self.gw.cleanup()
        if code != 0:
            raise SystemExit("fedgate exited %s" % code)


NGINX_PROXY = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
worker_rlimit_nofile {rlimit};
events {{ worker_connections {conns}; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 600s;
    client_header_timeout 600s;
    upstream up {{ server 127.0.0.1:{up}; keepalive 256; }}
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass https://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_ssl_verify on;
            proxy_ssl_name localhost;
            proxy_ssl_trusted_certificate {ca};
            proxy_ssl_session_reuse on;
        }}
    }}
}}
"""

HAPROXY = """
global
    nbthread 1
    maxconn {conns}
    tune.ssl.default-dh-param 2048
defaults
    mode http
    timeout connect 5s
    timeout client 600s
    timeout server 60s
    timeout http-keep-alive 600s
    http-reuse always
frontend fe
    bind 127.0.0.1:{port} ssl crt {pem} alpn h2,http/1.1
    # from an h2 server HAProxy writes "HTTP/1.1 200 " with no reason,
    # which h2load's HTTP/1.1 parser refuses
    http-response set-status 200 if {{ status 200 }}
    default_backend be
backend be
    server up 127.0.0.1:{up} ssl verify required ca-file {ca} alpn h2
"""


class Peer(System):
    def __init__(self, name, tmp, upstream, up_ca, cert, key, conns):
        self.name, self.port = name, free_port()
        d = os.path.join(tmp, name)
        os.makedirs(d, exist_ok=True)
        log = open(os.path.join(d, "log"), "w")
        if name == "nginx":
            conf = os.path.join(d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_PROXY.format(
                    dir=d, rlimit=2 * conns + 64, conns=conns,
                    up=upstream.port, port=self.port, cert=cert, key=key,
                    ca=up_ca))
            cmd = ["nginx", "-c", conf, "-e", os.path.join(d, "error.log")]
        elif name == "haproxy":
            pem = os.path.join(d, "server.pem")
            with open(pem, "w") as f:
                f.write(open(cert).read() + open(key).read())
            conf = os.path.join(d, "haproxy.cfg")
            with open(conf, "w") as f:
                f.write(HAPROXY.format(conns=conns, port=self.port, pem=pem,
                                       up=upstream.port, ca=up_ca))
            cmd = ["haproxy", "-db", "-f", conf]
        else:
            # --conf: Debian's /etc/nghttpx/nghttpx.conf adds a frontend on
            # port 3000, which a second run at the same time cannot bind
            cmd = ["nghttpx", "--conf=/dev/null", "--workers=1", "--no-ocsp",
                   "--frontend=127.0.0.1,%d" % self.port,
                   "--backend=127.0.0.1,%d;;proto=h2;tls" % upstream.port,
                   "--cacert=" + up_ca, "--backend-tls-sni-field=localhost",
                   "--frontend-read-timeout=600s",
                   "--frontend-keep-alive-timeout=600s",
                   "--frontend-http2-read-timeout=600s",
                   "--errorlog-file=" + os.path.join(d, "error.log"),
                   key, cert]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.name == "nginx":
            stop_nginx(self.proc)
        else:
            System.stop(self)


def note(what):
    """Progress on standard error, so a long run shows where it is."""
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), what))
    sys.stderr.flush()


def percentile(sorted_us, q):
    if not sorted_us:
        return 0.0
    return sorted_us[min(len(sorted_us) - 1, int(q * len(sorted_us)))]


def run_load(system, workload, token, tmp, how):
    """One h2load run against SYSTEM; every answer must be a 2xx."""
    _, h1, path, clients, streams = workload
    log = os.path.join(tmp, "h2load.log")
    if os.path.exists(log):  # h2load appends
        os.unlink(log)
    url = "https://127.0.0.1:%d%s%s" % (system.port, system.prefix, path)
    cmd = (["h2load", "--log-file=" + log, "-c", str(clients), "-m",
            str(streams)] + (["--h1"] if h1 else []) + how +
           ["-H", "authorization: Bearer " + token, url])
    before, t0 = cpu_seconds(system.pids()), time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(system.pids()) - before
    rows = []
    if os.path.exists(log):
        with open(log) as f:
            rows = [line.split("\t") for line in f if line.strip()]
    # a timed run logs the requests in flight when it stops without a
    # status: at most one per stream slot
    answered = [r for r in rows if len(r[1]) == 3 and r[1].isdigit()]
    bad = [r for r in answered if not r[1].startswith("2")]
    cut = len(rows) - len(answered)
    if out.returncode != 0 or bad or cut > clients * streams:
        raise SystemExit("h2load on %s failed (%d non-2xx, %d unanswered):"
                         "\n%s%s" % (url, len(bad), cut, out.stdout,
                                      out.stderr))
    rows = answered
    lat = sorted(int(r[2]) for r in rows)
    return {"requests": len(rows), "seconds": elapsed, "cpu_s": cpu}, lat


def merge(cell, run, lat):
    for k, v in run.items():
        cell[k] = cell.get(k, 0) + v
    cell.setdefault("lat", []).extend(lat)


def summarize(cell):
    lat = sorted(cell.pop("lat"))
    n = max(1, cell["requests"])  # none done in time: the figures say so
    cell.update({
        "cpu_us_per_req": cell["cpu_s"] * 1e6 / n,
        "req_per_s": cell["requests"] / cell["seconds"],
        "p50_ms": percentile(lat, 0.50) / 1000.0,
        "p99_ms": percentile(lat, 0.99) / 1000.0})
    return cell


def ready(system):
    def up():
        if system.proc.poll() is not None:
            raise SystemExit("%s exited" % type(system).__name__)
        return subprocess.run(
            ["curl", "-ksSf", "-o", "/dev/null", "-H",
             "Authorization: Bearer x", "https://127.0.0.1:%d%s/version" % (
                 system.port, system.prefix)],
            capture_output=True).returncode in (0, 22)
    wait_for(up, 30, "%s to serve" % getattr(system, "name",
                                              type(system).__name__))


def idle_per_conn(system, counts):
    """Bytes of RSS per idle h2 TLS connection at each of COUNTS: one fresh
    SYSTEM takes connections up to each count in turn, and holds them idle
    for IDLE_FOR seconds before its RSS is read (fedgate gives an idle
    connection's frame buffer back after a second)."""
    out = {}
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    conns = []
    try:
        ready(system)
        before = settled_kib(lambda: system.kib("VmRSS"))
        for n in sorted(counts):
            while len(conns) < n:
                conns.append(open_conn(system.port, ctx, "h2"))
            time.sleep(IDLE_FOR)
            held = settled_kib(lambda: system.kib("VmRSS"))
            out[n] = (held - before) * 1024 // n
    finally:
        for c in conns:
            c.close()
        system.stop()
    return out


def sockets(pid):
    """Sockets PID holds open."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(
                "socket:")
        except OSError:
            pass  # closed meanwhile
    return n


def ratio(value, best):
    return "%.2f" % (value / best) if best else "-"


def table(result, systems, peers):
    """One line per workload and figure: each system's value, fedgate's
    (over an h2 upstream) ratio to the best peer."""
    lines = []
    head = "%-14s %-12s" % ("workload", "figure") + "".join(
        "%13s" % s for s in systems) + "%11s" % "fg/best"
    lines.append(head)
    figs = [("cpu_us_per_req", "CPU us/req", min, "%13.1f"),
            ("req_per_s", "req/s", max, "%13.0f"),
            ("vs_upstream", "/upstream", max, "%13.2f"),
            ("p50_ms", "p50 ms", min, "%13.2f"),
            ("p99_ms", "p99 ms", min, "%13.2f")]
    for wl in (w[0] for w in WORKLOADS + [LIGHT]):
        up = result["load"][wl].get("upstream", {}).get("req_per_s", 0)
        for s in systems:
            c = result["load"][wl].get(s)
            if c:
                c["vs_upstream"] = c["req_per_s"] / up if up else 0
        for key, label, best_of, fmt in figs:
            row = "%-14s %-12s" % (wl, label)
            for s in systems:
                c = result["load"][wl].get(s)
                row += fmt % c[key] if c else "%13s" % "-"
            vals = [result["load"][wl][p][key] for p in peers
                    if p in result["load"][wl]]
            best = best_of(vals) if vals else 0
            row += "%11s" % ratio(result["load"][wl]["fedgate-h2"][key], best)
            lines.append(row)
    for label, key, fmt in (("peak RSS KiB", "peak_rss_kib", "%13d"),):
        row = "%-14s %-12s" % ("all", label)
        vals = []
        for s in systems:
            v = result[key].get(s)
            row += fmt % v if v is not None else "%13s" % "-"
            if s in peers and v is not None:
                vals.append(v)
        lines.append(row + "%11s" % ratio(result[key]["fedgate-h2"],
                                          min(vals) if vals else 0))
    for n in result["counts"]:
        row = "%-14s %-12s" % ("idle TLS", "B/conn@%d" % n)
        vals = []
        for s in systems:
            v = result["idle_conn"].get(s, {}).get(n)
            row += "%13d" % v if v is not None else "%13s" % "-"
            if s in peers and v is not None:
                vals.append(v)
        lines.append(row + "%11s" % ratio(
            result["idle_conn"]["fedgate-h2"][n], min(vals) if vals else 0))
    load = result["load"]

    def per_workload(name, key, base="fedgate-h2"):
        return ", ".join("%s %.2f" % (w[0], load[w[0]][name][key] /
                                      load[w[0]][base][key])
                         for w in WORKLOADS if load[w[0]][base][key])
    lines.append("auth + RBAC + audit on / off (fedgate-pol / fedgate-h2), "
                 "CPU per request: " + per_workload("fedgate-pol",
                                                    "cpu_us_per_req"))
    lines.append("auth + RBAC + audit on / off, req/s: " +
                 per_workload("fedgate-pol", "req_per_s"))
    lines.append("workers = 2 / workers = 1 (fedgate-w2 / fedgate-h2), "
                 "req/s: " + per_workload("fedgate-w2", "req_per_s"))
    light, full = load[LIGHT[0]], load[WORKLOADS[0][0]]
    lines.append("%s: fedgate-h2 p99 %.2f ms, upstream %.2f ms: %.2f ms "
                 "added, at %.0f%% of fedgate's full-load rate" % (
                     LIGHT[0], light["fedgate-h2"]["p99_ms"],
                     light["upstream"]["p99_ms"],
                     light["fedgate-h2"]["p99_ms"] -
                     light["upstream"]["p99_ms"],
                     100.0 * light["fedgate-h2"]["req_per_s"] /
                     full["fedgate-h2"]["req_per_s"]))
    lines.append("fedgate idle RSS %d KiB; with %d direct members %d KiB "
                 "between probe rounds (peak %d KiB as all dial at once)" % (
                     result["fedgate_idle_kib"], result["members"],
                     result["members_rss_kib"], result["members_peak_kib"]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("--baseline", metavar="FEDGATE",
                    help="another fedgate build, measured as fedgate-base "
                    "(h2 upstream) in the same interleaved run")
    args = ap.parse_args()
    counts, members, rounds = [100, 1000, 5000], 1000, args.rounds
    if args.smoke:
        counts, members, rounds = [20], 20, 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * max(counts) + 512
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))
    counts = [n for n in counts if 2 * n + 512 <= min(hard, need)]
    conns = max(counts) + 1024

    peers = [p for p in PEERS if shutil.which(p)]
    for p in PEERS:
        if p not in peers:
            if not args.smoke:
                raise SystemExit("%s is not installed: run "
                                 "packaging/install-deps.sh --bench" % p)
            print("skipping %s: not installed" % p)
    tmp = tempfile.mkdtemp(prefix="fedgate-bench-relay-")
    os.chmod(tmp, 0o755)  # nginx's workers drop root and read the files
    root = os.path.join(tmp, "root")
    write_root(root)
    up_crt, up_key = make_cert(tmp, "upstream")
    os.chmod(up_key, 0o644)
    upstream = Upstream(tmp, root, up_crt, up_key, 4096)
    running = [upstream]
    result = {"load": {w[0]: {} for w in WORKLOADS + [LIGHT]},
              "peak_rss_kib": {}, "idle_conn": {}, "counts": counts,
              "members": members}
    try:
        note("starting fedgate")
        fg2 = Fedgate(tmp, upstream, up_crt, False)
        running.append(fg2)
        fg1 = Fedgate(tmp, upstream, up_crt, True)
        running.append(fg1)
        # the peers serve fedgate's certificate, kept past its gateway
        cert, key = (shutil.copy(os.path.join(fg2.gw.state, n), tmp)
                     for n in ("server.crt", "server.key"))
        systems = {"upstream": upstream, "fedgate-h2": fg2,
                   "fedgate-h1": fg1}
        for name, kw in (("fedgate-w2", {"workers": 2}),
                         ("fedgate-pol", {"policy": True})):
            systems[name] = Fedgate(tmp, upstream, up_crt, False, **kw)
            running.append(systems[name])
        if args.baseline:
            systems["fedgate-base"] = Fedgate(tmp, upstream, up_crt, False,
                                              binary=args.baseline)
            running.append(systems["fedgate-base"])
        for p in peers:
            systems[p] = Peer(p, tmp, upstream, up_crt, cert, key, conns)
            running.append(systems[p])
        for s in systems.values():
            note("waiting for %s" % getattr(s, "name", type(s).__name__))
            ready(s)
        result["fedgate_idle_kib"] = fg2.kib("VmRSS")
        order = list(systems)
        for _ in range(rounds):
            for workload in WORKLOADS:
                wl, big = workload[0], workload[2] == "/api/v1/pods"
                if args.smoke:
                    how = ["-n", "20" if big else "500"]
                else:
                    how = ["-D", str(args.seconds)]
                for name in order:
                    note("%s on %s" % (wl, name))
                    s = systems[name]
                    token = (s if isinstance(s, Fedgate) else fg2).token
                    run, lat = run_load(s, workload, token, tmp, how)
                    merge(result["load"][wl].setdefault(name, {}), run, lat)
            for name in ["upstream", "fedgate-h2"] + peers:
                note("%s on %s" % (LIGHT[0], name))
                s = systems[name]
                run, lat = run_load(s, LIGHT, fg2.token, tmp,
                                    ["-n", "500"] if args.smoke else
                                    ["-D", str(args.seconds),
                                     "--warm-up-time=1s"])
                merge(result["load"][LIGHT[0]].setdefault(name, {}), run,
                      lat)
        for wl in result["load"]:
            for name in result["load"][wl]:
                summarize(result["load"][wl][name])
        for name, s in systems.items():
            result["peak_rss_kib"][name] = s.kib("VmHWM")
        for s in list(running):
            if s is not upstream:
                s.stop()
                running.remove(s)

        note("idle connections")
        result["idle_conn"]["fedgate-h2"] = idle_per_conn(Fedgate(
            tmp, upstream, up_crt, False, IDLE_KEYS % (max(counts) + 64)),
            counts)
        for p in peers:
            result["idle_conn"][p] = idle_per_conn(
                Peer(p, tmp, upstream, up_crt, cert, key, conns), counts)
        note("%d members" % members)
        token = os.path.join(tmp, "member.token")
        many = Fedgate(tmp, upstream, up_crt, False, members=[
            direct_member("m%d" % i, upstream.port, up_crt, token)
            for i in range(members)])
        running.append(many)
        # a handful of listeners, and a tenth of the members still probing
        few = members // 10 + 8
        try:
            wait_for(lambda: sockets(many.proc.pid) > few, 10,
                     "the members to dial")
        except AssertionError:
            pass  # a fast machine: the round was over before we looked
        wait_for(lambda: sockets(many.proc.pid) <= few, 60,
                 "the members' probe connections to close")
        time.sleep(3)  # the heap is trimmed 2 s after closes (mem_trim.c)
        result["members_rss_kib"] = settled_kib(lambda: many.kib("VmRSS"))
        result["members_peak_kib"] = many.kib("VmHWM")
    finally:
        for s in running:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print("\nfedgate's relay beside %s: %s, h2 -c 50 -m 10, h1 -c 50 -m 1, 2 MB -c 10, "
          "%d round(s); fg/best: fedgate-h2 over the best peer" % (
              ", ".join(peers), "smoke" if args.smoke else
              "%ds per cell" % args.seconds, rounds))
    print(table(result, list(systems), peers))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
