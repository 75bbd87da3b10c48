"""Out of file descriptors: max_connections is held within RLIMIT_NOFILE at
start (a line names the key), and when accept() fails with EMFILE anyway
the listener pauses with a backoff instead of spinning, logs a bounded
number of lines, sheds waiting clients through its reserve descriptor,
counts it all in /metrics, and serves again once descriptors are free."""
import os
import re
import resource
import socket
import subprocess
import time
import unittest

from harness import FEDGATE, Gateway, wait_for


def limit_fds(n):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


def cpu_seconds(pid):
    """User + system CPU time of PID so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def key_line(gw, key):
    with open(os.path.join(gw.conf, "10-gateway.ini")) as f:
        for n, line in enumerate(f, 1):
            if line.startswith(key + " "):
                return n
    raise AssertionError("no %s in the config" % key)


def closed_by_peer(sock):
    """Whether the gateway closed SOCK (without waiting)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class FdBudgetTest(unittest.TestCase):
    def test_max_connections_is_held_within_the_fd_limit(self):
        gw = Gateway(extra_gateway="max_connections = 1024\n")
        self.addCleanup(gw.cleanup)
        self.addCleanup(gw.stop)
        gw.start(preexec_fn=limit_fds(128))
        wait_for(lambda: " as host on " in gw.logs(), 10, "fedgate to serve")
        line = key_line(gw, "max_connections")
        expect = (r"10-gateway.ini:%d: max_connections = 1024 with 1 "
                  r"worker\(s\) needs \d+ file descriptors, but RLIMIT_NOFILE "
                  r"allows 128: %s at most (\d+) connection")
        m = re.search(expect % (line, "serving"), gw.logs())
        self.assertTrue(m, gw.logs())
        self.assertLess(int(m.group(1)), 128)
        self.assertEqual(gw.stop(), 0, gw.logs())
        # --check says the same, and a limit is no configuration error
        check = subprocess.run([FEDGATE, "-c", gw.conf, "--check"],
                               capture_output=True, text=True, timeout=30,
                               preexec_fn=limit_fds(128))
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertRegex(check.stderr, expect % (line, "a start would serve"))


class AcceptExhaustionTest(unittest.TestCase):
    CLIENTS = 40

    def test_out_of_descriptors_pauses_instead_of_spinning(self):
        gw = Gateway(extra_gateway="max_connections_per_source = 0\n"
                                   "header_timeout = 60s\n")
        self.addCleanup(gw.cleanup)
        self.addCleanup(gw.stop)
        gw.start(preexec_fn=limit_fds(256))
        pid = gw.proc.pid
        clients = []
        try:
            # Room for a few more descriptors, far below max_connections:
            # what other users of the descriptors can leave.
            used = len(os.listdir("/proc/%d/fd" % pid))
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (used + 6, 256))
            for _ in range(self.CLIENTS):
                clients.append(socket.create_connection(
                    ("127.0.0.1", gw.port), 5))
            wait_for(lambda: "Too many open files" in gw.logs(), 10,
                     "the accept error to be reported")
            lines_before = gw.logs().count("\n")
            cpu_before, t0 = cpu_seconds(pid), time.monotonic()
            # The window itself is the measurement: the listener must
            # stay paused (no CPU, no log lines) while it lasts.
            time.sleep(3)
            cpu = cpu_seconds(pid) - cpu_before
            elapsed = time.monotonic() - t0
            self.assertLess(cpu, 0.15 * elapsed,
                            "%.2f s of CPU in %.1f s" % (cpu, elapsed))
            self.assertLess(gw.logs().count("\n") - lines_before, 8,
                            gw.logs()[-3000:])
            # Waiting clients are told (closed), not left hanging.
            shed = sum(closed_by_peer(c) for c in clients)
            self.assertGreaterEqual(shed, 1)
        finally:
            for c in clients:
                c.close()
        # With descriptors free again, everyone is served.
        def healthy():
            out = subprocess.run(
                ["curl", "-sS", "--max-time", "2", "--cacert", gw.ca,
                 gw.base + "/healthz"], capture_output=True, text=True)
            return out.stdout == "ok"
        wait_for(healthy, 15, "/healthz to answer again")
        metrics = {}

        def resumed():
            # connections the clients closed while they waited in the
            # backlog may still cost a short pause or two
            out = subprocess.run(
                ["curl", "-sS", "--max-time", "5", "--cacert", gw.ca, "-H",
                 "Authorization: Bearer " + gw.token, gw.base + "/metrics"],
                capture_output=True, text=True, timeout=20)
            metrics.update(line.rsplit(" ", 1)
                           for line in out.stdout.splitlines()
                           if line and not line.startswith("#"))
            return metrics.get("fedgate_accept_paused") == "0"
        wait_for(resumed, 15, "the listener to resume")
        self.assertGreater(int(metrics["fedgate_accept_errors_total"]), 0)
        self.assertGreaterEqual(int(metrics[
            'fedgate_connections_rejected_total{reason="no_descriptors"}']),
            shed)
        self.assertEqual(gw.stop(), 0, gw.logs())


if __name__ == "__main__":
    unittest.main()
