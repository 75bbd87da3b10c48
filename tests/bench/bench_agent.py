"""fedgate-agent at rest: resident memory and CPU of an agent whose tunnel
is joined and idle (PINGs only, every 10 s on both sides), beside an idle
nginx (master and one worker, TLS and HTTP/2 configured: the smallest
proxy an operator would otherwise run) over the same window, and the
issue's target of 8 MiB RSS and 1 ms of CPU per second. A host gateway, a
member-role gateway standing in for the member's kube-apiserver and the
agent run on 127.0.0.1; after one request through the tunnel (so the
agent's client to its apiserver is connected too) the agent is left alone
for FG_BENCH_IDLE_S seconds (default 60), its VmRSS read at the end and its
user + system time over the window from /proc. Printed, and as JSON
(stdout's last line, and FG_BENCH_JSON when set). A figure over the target
is reported, not failed: a debug or sanitizer build is bigger by design.

    FEDGATE_BIN=build/release/bin/fedgate FG_SOURCE_DIR=$PWD \\
        /usr/bin/python3 tests/bench/bench_agent.py
"""
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from agent_harness import Agent, agent_member  # noqa: E402
from harness import Gateway, free_port, mock_member, wait_for  # noqa: E402
from peer import (cpu_seconds, nginx_kib, nginx_pids, proc_kib,  # noqa: E402
                  start_nginx, stop_nginx)

IDLE_S = float(os.environ.get("FG_BENCH_IDLE_S", "60"))
RSS_BOUND_KIB = 8 * 1024
CPU_BOUND_MS_PER_S = 1.0


def idle(pids):
    """CPU ms per second PIDS use while left alone for IDLE_S."""
    start_s, start = cpu_seconds(pids), time.monotonic()
    time.sleep(IDLE_S)
    used_s, elapsed = cpu_seconds(pids) - start_s, time.monotonic() - start
    return used_s * 1000.0 / elapsed, elapsed


def nginx_idle(tmp, gw):
    """(RSS KiB, CPU ms/s) of an idle nginx with GW's certificate."""
    root = os.path.join(tmp, "root")
    os.makedirs(root, exist_ok=True)
    os.chmod(tmp, 0o755)
    port = free_port()
    nginx = start_nginx(tmp, port, root, os.path.join(gw.state, "server.crt"),
                        os.path.join(gw.state, "server.key"))
    try:
        wait_for(lambda: len(nginx_pids(nginx)) > 1, 15, "nginx's worker")
        cpu, _ = idle(nginx_pids(nginx))
        return nginx_kib(nginx, "VmRSS"), cpu
    finally:
        stop_nginx(nginx)


def main():
    tmp = tempfile.mkdtemp(prefix="fedgate-bench-agent-")
    token_file = os.path.join(tmp, "edge.token")
    with open(token_file, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    tunnel = free_port()
    member = Gateway(members=[mock_member("edge", "demo.json")],
                     role="member")
    host = Gateway(members=[agent_member("edge", token_file)],
                   extra_files={"30-tunnel.ini":
                                "[tunnel]\nlisten = 127.0.0.1:%d\n" % tunnel})
    host.tunnel = tunnel
    agent = None
    try:
        member.start()
        host.start()
        agent = Agent(host, member, "edge", token_file).start()
        wait_for(lambda: "joined (1 live" in host.logs(), 30,
                 "the agent to join")
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", host.ca, "-H",
             "Authorization: Bearer " + host.token, "-o", "/dev/null", "-w",
             "%{http_code}", host.base + "/clusters/edge/version"],
            capture_output=True, text=True, timeout=30)
        if out.stdout != "200":
            raise SystemExit("a request through the tunnel got %r %s" %
                             (out.stdout, out.stderr))
        pid = agent.proc.pid
        time.sleep(1)  # let the request's buffers go
        cpu, elapsed = idle([pid])
        rss = proc_kib(pid, "VmRSS")
        anon = proc_kib(pid, "RssAnon")
        if agent.proc.poll() is not None:
            raise SystemExit("the agent exited:\n" + agent.logs())
        nginx_rss, nginx_cpu = nginx_idle(os.path.join(tmp, "nginx"), host)
    finally:
        if agent:
            agent.stop()
            agent.cleanup()
        for gw in (host, member):
            gw.stop()
            gw.cleanup()
        subprocess.run(["rm", "-rf", tmp])
    figures = {"idle_s": round(elapsed, 1), "rss_kib": rss,
               "rss_anon_kib": anon, "cpu_ms_per_s": round(cpu, 3),
               "nginx_rss_kib": nginx_rss,
               "nginx_cpu_ms_per_s": round(nginx_cpu, 3),
               "rss_target_kib": RSS_BOUND_KIB,
               "cpu_target_ms_per_s": CPU_BOUND_MS_PER_S,
               "within_target": rss <= RSS_BOUND_KIB and
               cpu <= CPU_BOUND_MS_PER_S}
    print("idle for %.0f s          RSS KiB   CPU ms/s" % elapsed)
    print("fedgate-agent (joined)  %7d   %8.3f   (%d KiB of it its own, the "
          "rest shared library pages)" % (rss, cpu, anon))
    print("nginx (master+worker)   %7d   %8.3f" % (nginx_rss, nginx_cpu))
    print("target                  %7d   %8.3f   %s" %
          (RSS_BOUND_KIB, CPU_BOUND_MS_PER_S,
           "met" if figures["within_target"] else "NOT MET"))
    text = json.dumps(figures)
    print(text)
    if os.environ.get("FG_BENCH_JSON"):
        with open(os.environ["FG_BENCH_JSON"], "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
