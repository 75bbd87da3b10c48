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
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Gateway, free_port, wait_for  # noqa: E402
from peer import (cpu_seconds, h2load, nginx_kib, nginx_pids,  # noqa: E402
                  proc_kib, start_nginx, stop_nginx)

REQUESTS = int(os.environ.get("FG_BENCH_REQUESTS", "20000"))
CLIENTS = int(os.environ.get("FG_BENCH_CLIENTS", "10"))
STREAMS = int(os.environ.get("FG_BENCH_STREAMS", "10"))
PATH = "/api/v1/namespaces/shop/pods"

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
        nginx = start_nginx(tmp, port, root,
                            os.path.join(gw.state, "server.crt"),
                            os.path.join(gw.state, "server.key"))
        wait_for(lambda: subprocess.run(
            ["curl", "-sSf", "-o", "/dev/null", "--cacert", gw.ca,
             "https://127.0.0.1:%d%s" % (port, PATH)],
            capture_output=True).returncode == 0, 15, "nginx")

        rows = []
        for proto, h1 in (("HTTP/2", False), ("HTTP/1.1", True)):
            # CPU per request: the servers' own CPU time over the run
            before = cpu_seconds([gw.proc.pid])
            f_rps, f_mean = h2load(gw.base + "/clusters/demo" + PATH, token, h1,
                                   REQUESTS, CLIENTS, STREAMS)
            f_cpu = (cpu_seconds([gw.proc.pid]) - before) * 1e6 / REQUESTS
            before = cpu_seconds(nginx_pids(nginx))
            n_rps, n_mean = h2load("https://127.0.0.1:%d%s" % (port, PATH),
                                   None, h1, REQUESTS, CLIENTS, STREAMS)
            n_cpu = (cpu_seconds(nginx_pids(nginx)) - before) * 1e6 / REQUESTS
            rows.append((proto, f_rps, f_mean, f_cpu, n_rps, n_mean, n_cpu))
        f_mem = proc_kib(gw.proc.pid, "VmHWM")
        n_mem = nginx_kib(nginx, "VmHWM")

        print("\nfedgate vs nginx: %d requests of %d bytes, %d clients%s"
              % (REQUESTS, len(body), CLIENTS,
                 ", %d streams each on h2" % STREAMS))
        print("%-9s %14s %10s %12s %14s %10s %12s" % (
            "protocol", "fedgate req/s", "mean", "CPU us/req", "nginx req/s",
            "mean", "CPU us/req"))
        for proto, f_rps, f_mean, f_cpu, n_rps, n_mean, n_cpu in rows:
            print("%-9s %14.0f %10s %12.1f %14.0f %10s %12.1f" % (
                proto, f_rps, f_mean, f_cpu, n_rps, n_mean, n_cpu))
        print("%-9s %14s %10s %12s %14s" % ("peak RSS", "%d KiB" % f_mem, "",
                                             "", "%d KiB" % n_mem))
        print("(nginx serves a static file; fedgate routes, checks the token "
              "and renders the list from its in-memory store)")
    finally:
        if nginx:
            stop_nginx(nginx)
        code = gw.stop()
        gw.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    if code != 0:
        raise SystemExit("fedgate exited %s" % code)


if __name__ == "__main__":
    main()
