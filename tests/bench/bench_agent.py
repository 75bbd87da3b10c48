"""fedgate-agent at rest: resident memory and CPU of an agent whose tunnel
is joined and idle (PINGs only, every 10 s on both sides), against the
issue's bound of 8 MiB RSS and 1 ms of CPU per second. A host gateway, a
member-role gateway standing in for the member's kube-apiserver and the
agent run on 127.0.0.1; after one request through the tunnel (so the
agent's client to its apiserver is connected too) the agent is left alone
for FG_BENCH_IDLE_S seconds (default 60), its VmRSS read at the end and its
user + system time over the window from /proc. Printed, and as JSON
(stdout's last line, and FG_BENCH_JSON when set). Exits 1 over a bound.

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
from peer import proc_kib  # noqa: E402

IDLE_S = float(os.environ.get("FG_BENCH_IDLE_S", "60"))
RSS_BOUND_KIB = 8 * 1024
CPU_BOUND_MS_PER_S = 1.0
TICK = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid):
    """User + system time of PID so far, in ms."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / TICK


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
        start_ms, start = cpu_ms(pid), time.monotonic()
        time.sleep(IDLE_S)
        used_ms, elapsed = cpu_ms(pid) - start_ms, time.monotonic() - start
        rss = proc_kib(pid, "VmRSS")
        anon = proc_kib(pid, "RssAnon")
        if agent.proc.poll() is not None:
            raise SystemExit("the agent exited:\n" + agent.logs())
    finally:
        if agent:
            agent.stop()
            agent.cleanup()
        for gw in (host, member):
            gw.stop()
            gw.cleanup()
        subprocess.run(["rm", "-rf", tmp])
    figures = {"idle_s": round(elapsed, 1), "rss_kib": rss,
               "rss_anon_kib": anon,
               "cpu_ms_per_s": round(used_ms / elapsed, 3),
               "rss_bound_kib": RSS_BOUND_KIB,
               "cpu_bound_ms_per_s": CPU_BOUND_MS_PER_S}
    print("fedgate-agent idle for %.0f s: RSS %d KiB (bound %d; %d KiB of "
          "it its own, the rest shared library pages), CPU %.3f ms/s (bound "
          "%.1f)" % (elapsed, rss, RSS_BOUND_KIB, anon,
                     figures["cpu_ms_per_s"], CPU_BOUND_MS_PER_S))
    text = json.dumps(figures)
    print(text)
    if os.environ.get("FG_BENCH_JSON"):
        with open(os.environ["FG_BENCH_JSON"], "w") as f:
            f.write(text + "\n")
    over = rss > RSS_BOUND_KIB or figures["cpu_ms_per_s"] > CPU_BOUND_MS_PER_S
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
