"""What the benchmarks share: nginx as the peer on the same work (same TLS
certificate, static files), h2load runs, and memory figures from /proc."""
import os
import re
import signal
import subprocess

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
worker_rlimit_nofile {rlimit};
events {{ worker_connections {worker_connections}; }}
http {{
    access_log off;
    {extra}
    # nginx closes a connection after 1000 requests by default; fedgate
    # does not, so neither does the peer.
    keepalive_requests 1000000;
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


def start_nginx(tmp, port, root, cert, key, worker_connections=1024,
                extra=""):
    """nginx serving ROOT on 127.0.0.1:PORT; TMP must be readable by its
    workers (they drop root). EXTRA: more directives for its http block."""
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, port=port, root=root, cert=cert,
                                  key=key,
                                  worker_connections=worker_connections,
                                  rlimit=2 * worker_connections + 64,
                                  extra=extra))
    return subprocess.Popen(["nginx", "-c", conf, "-e",
                             os.path.join(tmp, "nginx-error.log")])


def stop_nginx(nginx):
    """Graceful stop by pid, bounded."""
    nginx.send_signal(signal.SIGQUIT)
    try:
        nginx.wait(20)
    except subprocess.TimeoutExpired:
        nginx.kill()
        nginx.wait(5)


def proc_kib(pid, field):
    """A VmRSS / VmHWM figure of PID, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M)
    return int(m.group(1)) if m else 0


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)],
                         capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def cpu_seconds(pids):
    """User + system CPU seconds used so far by PIDS (all their threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def nginx_pids(nginx):
    return [nginx.pid] + children(nginx.pid)


def nginx_kib(nginx, field):
    """FIELD summed over nginx's master and workers."""
    return sum(proc_kib(p, field) for p in [nginx.pid] + children(nginx.pid))


def h2load(url, token, h1, requests, clients, streams=1):
    """(req/s, mean time per request) of REQUESTS GETs of URL; every one
    must succeed with a 2xx."""
    cmd = (["h2load"] + (["--h1"] if h1 else []) +
           ["-n", str(requests), "-c", str(clients),
            "-m", "1" if h1 else str(streams)] +
           (["-H", "authorization: Bearer " + token] if token else []) + [url])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    if out.returncode != 0:
        raise SystemExit("h2load failed: " + out.stderr + out.stdout)
    text = out.stdout
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
                .group(1))
    ok = int(re.search(r"(\d+) succeeded", text).group(1))
    codes = re.search(r"status codes: (\d+) 2xx", text)
    two_xx = int(codes.group(1)) if codes else 0
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", text).group(1)
    if ok != requests or two_xx != requests:
        raise SystemExit("not every request succeeded:\n" + text)
    return rps, mean
