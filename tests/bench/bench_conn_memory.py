"""Memory per idle connection: fedgate next to nginx, in one run.

For each kind of connection (an idle TLS connection that chose http/1.1 by
ALPN, one that chose h2 and sent its preface and SETTINGS, and a slowloris
one that sent half a request head) and each count (FG_BENCH_CONNS, default
100,1000,2000), a fresh server of each sort gets that many connections
from this process; the resident memory (VmRSS, nginx: master and worker
summed) is read once it settles, the connections are closed, and it is
read again once it settles. Then one server of each sort takes
FG_BENCH_ROUNDS bursts of every kind at the largest count: does its RSS
come back after each? Printed side by side, and as JSON (stdout's last
line, and FG_BENCH_JSON when set). No figure is a pass/fail threshold:
every connection must succeed, that is all.

    FEDGATE_BIN=build/release/bin/fedgate FG_SOURCE_DIR=$PWD \\
        /usr/bin/python3 tests/bench/bench_conn_memory.py
"""
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Gateway, free_port, wait_for  # noqa: E402
from peer import nginx_kib, proc_kib, start_nginx, stop_nginx  # noqa: E402

COUNTS = [int(n) for n in
          os.environ.get("FG_BENCH_CONNS", "100,1000,2000").split(",")]
KINDS = ("h1", "h2", "slowloris")
ROUNDS = int(os.environ.get("FG_BENCH_ROUNDS", "3"))
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
H2_SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"
HALF_HEAD = (b"GET /clusters/demo/api/v1/pods HTTP/1.1\r\nHost: localhost\r\n"
             b"User-Agent: slow\r\nX-Pad: ")

# Both servers keep every connection for the whole measurement.
FEDGATE_KEYS = ("max_connections = %d\nmax_connections_per_source = 0\n"
                "header_timeout = 600s\nidle_timeout = 600s\n"
                "unauthenticated_idle_timeout = 600s\n")
NGINX_EXTRA = "client_header_timeout 600s; keepalive_timeout 600s;"


def open_conn(port, ctx, kind):
    raw = socket.create_connection(("127.0.0.1", port), 10)
    t = ctx.wrap_socket(raw, server_hostname="localhost")
    if kind == "h2":
        if t.selected_alpn_protocol() != "h2":
            raise SystemExit("the server did not choose h2")
        t.sendall(H2_PREFACE + H2_SETTINGS)
        # the server's SETTINGS come first; acknowledge them
        got = b""
        while len(got) < 9:
            chunk = t.recv(4096)
            if not chunk:
                raise SystemExit("h2: the server closed the connection")
            got += chunk
        t.sendall(H2_SETTINGS_ACK)
    elif kind == "slowloris":
        t.sendall(HALF_HEAD)
    return t


def settled_kib(read):
    """RSS once two reads 200 ms apart agree within 1%, bounded to 5 s."""
    last = read()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = read()
        if abs(now - last) <= max(64, last // 100):
            return now
        last = now
    return last


def released_kib(read):
    """RSS once it stopped falling for 3 s (fedgate trims its heap 2 s
    after a burst of closes), bounded to 15 s."""
    low, since = read(), time.monotonic()
    deadline = since + 15
    while time.monotonic() < deadline and time.monotonic() - since < 3:
        time.sleep(0.25)
        now = read()
        if now < low - 16:
            low, since = now, time.monotonic()
    return min(low, read())


def contexts(ca):
    out = {}
    for kind, alpn in (("h1", "http/1.1"), ("h2", "h2"),
                       ("slowloris", "http/1.1")):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.set_alpn_protocols([alpn])
        out[kind] = ctx
    return out


def hold(port, ctx, kind, n, read):
    """(KiB before, KiB with N connections held, KiB after closing them)."""
    before = settled_kib(read)
    conns = []
    try:
        for _ in range(n):
            conns.append(open_conn(port, ctx, kind))
        held = settled_kib(read)
    finally:
        for c in conns:
            c.close()
    return before, held, released_kib(read)


class Fedgate:
    def __init__(self, biggest):
        self.gw = Gateway(extra_gateway=FEDGATE_KEYS % biggest).start()
        self.port = self.gw.port
        self.ctxs = contexts(self.gw.ca)

    def rss(self):
        return proc_kib(self.gw.proc.pid, "VmRSS")

    def stop(self):
        code = self.gw.stop()
        self.gw.cleanup()
        if code != 0:
            raise SystemExit("fedgate exited %s" % code)


class Nginx:
    def __init__(self, biggest, tmp, cert_gw):
        self.port = free_port()
        self.proc = start_nginx(tmp, self.port, os.path.join(tmp, "root"),
                                os.path.join(cert_gw.state, "server.crt"),
                                os.path.join(cert_gw.state, "server.key"),
                                worker_connections=biggest, extra=NGINX_EXTRA)
        self.ctxs = contexts(cert_gw.ca)
        wait_for(lambda: subprocess.run(
            ["curl", "-sSf", "-o", "/dev/null", "--cacert", cert_gw.ca,
             "https://127.0.0.1:%d/index.json" % self.port],
            capture_output=True).returncode == 0, 15, "nginx")

    def rss(self):
        return nginx_kib(self.proc, "VmRSS")

    def stop(self):
        stop_nginx(self.proc)


def per_connection(make):
    """Each kind and count on a fresh server, so that every figure starts
    from the same baseline."""
    out = {}
    for kind in KINDS:
        out[kind] = {}
        for n in COUNTS:
            server = make()
            try:
                before, held, after = hold(server.port, server.ctxs[kind], kind,
                                           n, server.rss)
            finally:
                server.stop()
            out[kind][n] = {"per_conn_bytes": (held - before) * 1024 // n,
                            "rss_before_kib": before, "rss_held_kib": held,
                            "rss_after_close_kib": after}
    return out


def rounds(make):
    """One server, every kind at the largest count in turn, ROUNDS times:
    RSS after each burst closed, against the baseline."""
    server = make()
    try:
        base = settled_kib(server.rss)
        after = []
        for _ in range(ROUNDS):
            for kind in KINDS:
                after.append(hold(server.port, server.ctxs[kind], kind,
                                  max(COUNTS), server.rss)[2])
    finally:
        server.stop()
    return {"baseline_kib": base, "after_each_burst_kib": after}


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * max(COUNTS) + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))
    biggest = max(COUNTS) + 64
    tmp = tempfile.mkdtemp(prefix="fedgate-bench-")
    os.chmod(tmp, 0o755)  # nginx's workers drop root and read the files
    os.mkdir(os.path.join(tmp, "root"))
    with open(os.path.join(tmp, "root", "index.json"), "w") as f:
        f.write("{}")
    cert_gw = Fedgate(biggest)  # its certificate serves nginx too
    try:
        result = {
            "fedgate": per_connection(lambda: Fedgate(biggest)),
            "nginx": per_connection(lambda: Nginx(biggest, tmp, cert_gw.gw)),
            "fedgate_rounds": rounds(lambda: Fedgate(biggest)),
            "nginx_rounds": rounds(lambda: Nginx(biggest, tmp, cert_gw.gw)),
        }
    finally:
        cert_gw.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    fed, ngx = result["fedgate"], result["nginx"]
    print("\nresident memory per idle TLS connection (bytes; each line on a "
          "fresh server), and RSS after closing them")
    print("%-10s %6s %10s %10s %16s %16s" % (
        "kind", "conns", "fedgate", "nginx", "fedgate after", "nginx after"))
    for kind in KINDS:
        for n in COUNTS:
            f, g = fed[kind][n], ngx[kind][n]
            print("%-10s %6d %10d %10d %9d KiB (%+d) %9d KiB (%+d)" % (
                kind, n, f["per_conn_bytes"], g["per_conn_bytes"],
                f["rss_after_close_kib"],
                f["rss_after_close_kib"] - f["rss_before_kib"],
                g["rss_after_close_kib"],
                g["rss_after_close_kib"] - g["rss_before_kib"]))
    for name in ("fedgate", "nginx"):
        r = result[name + "_rounds"]
        print("%s, %d rounds of %d connections of each kind: baseline %d KiB, "
              "after each burst %s KiB" % (
                  name, ROUNDS, max(COUNTS), r["baseline_kib"],
                  " ".join(str(k) for k in r["after_each_burst_kib"])))
    text = json.dumps(result, sort_keys=True)
    if os.environ.get("FG_BENCH_JSON"):
        with open(os.environ["FG_BENCH_JSON"], "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
