"""fedgate next to nginx on the same work, in one run.

Both serve the same JSON document (the demo member's pod list in namespace
shop) over TLS on 127.0.0.1 with the same certificate: fedgate through its
router, token check and mock driver; nginx as a static file. h2load drives
each over HTTP/2 and over HTTP/1.1 with the same request count and
concurrency, then the peak memory (VmHWM) of each server is read from
/proc. Figures are printed side by side; nothing here is a pass/fail
threshold except that every request must succeed.

    FG_BENCH_REQUESTS=50000 /usr/bin/python3 tests/bench/bench_gateway.py
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Gateway, free_port, wait_for  # noqa: E402

REQUESTS = int(os.environ.get("FG_BENCH_REQUESTS", "20000"))
CLIENTS = int(os.environ.get("FG_BENCH_CLIENTS", "10"))
STREAMS = int(os.environ.get("FG_BENCH_STREAMS", "10"))
PATH = "/api/v1/namespaces/shop/pods"

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type application/json;
    types {{ }}
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {root};
        location / {{ try_files $uri =404; }}
    }}
}}
"""


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1)) if m else 0


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                         capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def h2load(url, token, h1):
    cmd = (["h2load"] + (["--h1"] if h1 else []) +
           ["-n", str(REQUESTS), "-c", str(CLIENTS),
            "-m", "1" if h1 else str(STREAMS)] +
           (["-H", "authorization: Bearer " + token] if token else []) + [url])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit("h2load failed: " + out.stderr + out.stdout)
    text = out.stdout
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
                .group(1))
    ok = int(re.search(r"(\d+) succeeded", text).group(1))
    codes = re.search(r"status codes: (\d+) 2xx", text)
    two_xx = int(codes.group(1)) if codes else 0
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", text).group(1)
    if ok != REQUESTS or two_xx != REQUESTS:
        raise SystemExit("not every request succeeded:\n" + text)
    return rps, mean


def main():
    gw = Gateway().start()
    tmp = tempfile.mkdtemp(prefix="fedgate-bench-")
    os.chmod(tmp, 0o755)  # nginx's workers drop root and read the files
    nginx = None
    try:
        token = gw.token
        body = subprocess.run(
            ["curl", "-sS", "--cacert", gw.ca, "-H", "Authorization: Bearer " +
             token, gw.base + "/clusters/demo" + PATH],
            capture_output=True, check=True).stdout
        root = os.path.join(tmp, "root")
        os.makedirs(os.path.join(root, os.path.dirname(PATH.lstrip("/"))))
        with open(os.path.join(root, PATH.lstrip("/")), "wb") as f:
            f.write(body)
        port = free_port()
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(
                tmp=tmp, port=port, root=root,
                cert=os.path.join(gw.state, "server.crt"),
                key=os.path.join(gw.state, "server.key")))
        nginx = subprocess.Popen(["nginx", "-c", os.path.join(tmp, "nginx.conf"),
                                  "-e", os.path.join(tmp, "nginx-error.log")])
        wait_for(lambda: subprocess.run(
            ["curl", "-sSf", "-o", "/dev/null", "--cacert", gw.ca,
             "https://127.0.0.1:%d%s" % (port, PATH)],
            capture_output=True).returncode == 0, 15, "nginx")

        rows = []
        for proto, h1 in (("HTTP/2", False), ("HTTP/1.1", True)):
            f_rps, f_mean = h2load(gw.base + "/clusters/demo" + PATH, token, h1)
            n_rps, n_mean = h2load("https://127.0.0.1:%d%s" % (port, PATH),
                                   None, h1)
            rows.append((proto, f_rps, f_mean, n_rps, n_mean))
        f_mem = vm_hwm_kib(gw.proc.pid)
        n_mem = sum(vm_hwm_kib(p) for p in [nginx.pid] + children(nginx.pid))

        print("\nfedgate vs nginx: %d requests of %d bytes, %d clients%s"
              % (REQUESTS, len(body), CLIENTS,
                 ", %d streams each on h2" % STREAMS))
        print("%-9s %14s %12s %14s %12s" % ("protocol", "fedgate req/s",
                                            "mean", "nginx req/s", "mean"))
        for proto, f_rps, f_mean, n_rps, n_mean in rows:
            print("%-9s %14.0f %12s %14.0f %12s" % (proto, f_rps, f_mean,
                                                    n_rps, n_mean))
        print("%-9s %14s %12s %14s" % ("peak RSS", "%d KiB" % f_mem, "",
                                       "%d KiB" % n_mem))
        print("(nginx serves a static file; fedgate routes, checks the token "
              "and renders the list from its in-memory store)")
    finally:
        if nginx:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(20)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait(5)
        code = gw.stop()
        gw.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    if code != 0:
        raise SystemExit("fedgate exited %s" % code)


if __name__ == "__main__":
    main()
