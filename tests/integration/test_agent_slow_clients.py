"""Slow and stalled clients of a member served through one agent tunnel.
(a) A client that stops reading a `logs -f` stream (its pod's log is far
larger than every buffer on the way) does not slow the other streams on
the same tunnel: another stream's latency (GET /version) and throughput
(a 16 MiB log) are measured without and with the stall and must stay
within generous bounds. (b) A client reading a large list (13 MiB)
slowly grows neither the host's nor the agent's resident memory beyond
their configured buffers plus a margin. Every process is stopped by its
pid; every wait has a deadline."""
import json
import os
import socket
import subprocess
import sys
import time
import unittest

from agent_harness import AgentCase
from harness import SEEDS
from test_direct_streams import proc_status, sanitized

MIB = 1024 * 1024
LOG_BYTES = 16 * MIB
LIST_OBJECTS = 3000
LIST_VALUE = 4096  # bytes of data per ConfigMap: a list of ~13 MiB
# What the host and the agent hold per stream by design: the tunnel's
# stream window (256 KiB), the agent's answer buffer (256 KiB) and socket
# high-water mark (64 KiB), the host's buffer towards its client; rounded
# up. The margin covers allocator slack and a loaded machine's timing.
BUFFERS = 2 * MIB
MARGIN = 8 * MIB


def seed(path):
    """A seed with one pod (of demo.json's) logging LOG_BYTES, and
    LIST_OBJECTS ConfigMaps in namespace "load"."""
    with open(os.path.join(SEEDS, "demo.json")) as f:
        demo = json.load(f)
    pod = next(o for o in demo["objects"] if o["kind"] == "Pod")
    pod["metadata"] = {"name": "chatty", "namespace": "load",
                       "annotations": {}}
    line = "x" * 99 + "\n"
    pod["metadata"]["annotations"]["mock.fedgate.io/log"] = line * (
        LOG_BYTES // len(line))
    objects = [{"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "load"}}, pod]
    value = "v" * LIST_VALUE
    objects += [{"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "cm-%05d" % i, "namespace": "load"},
                 "data": {"value": value}} for i in range(LIST_OBJECTS)]
    with open(path, "w") as f:
        json.dump({"objects": objects}, f)


class RawStream:
    """A GET through the host on its own TLS connection with a small
    receive buffer, read only when asked."""

    def __init__(self, host, path, rcvbuf=16384):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(30)
        s.connect(("127.0.0.1", host.port))
        self.sock = host.tls_context().wrap_socket(
            s, server_hostname="localhost")
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n"
                           "Authorization: Bearer %s\r\n\r\n" %
                           (path, host.token)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError("closed before the head: %r" % head)
            head += chunk
        self.head, _, rest = head.partition(b"\r\n\r\n")
        self.got = len(rest)

    def status(self):
        return int(self.head.split(b" ", 2)[1])

    def read(self, n):
        while n > 0:
            chunk = self.sock.recv(min(n, 65536))
            if not chunk:
                return False
            self.got += len(chunk)
            n -= len(chunk)
        return True

    def close(self):
        self.sock.close()


class AgentSlowClientsTest(AgentCase):
    # ~30 MiB of seed: an ASan build on a loaded machine (beside
    # test_agent_scale's 200 agents) took more than 30 s to load it
    MEMBER_START_S = 120

    @classmethod
    def prepare(cls):
        cls.MEMBER_SEED = os.path.join(cls.dir, "load.json")
        seed(cls.MEMBER_SEED)

    def latency(self, n=15):
        """Median seconds of GET /version through the tunnel."""
        return self.median_get("/clusters/edge/version", n)

    def throughput(self):
        """MiB/s reading the whole LOG_BYTES log through the tunnel, the
        best of two (a loaded machine slows one read, rarely both)."""
        return max(self.read_log(), self.read_log())

    def read_log(self):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "120", "--cacert", self.host.ca,
             "-H", "Authorization: Bearer " + self.host.token,
             "-o", "/dev/null", "-w", "%{http_code} %{size_download} "
             "%{time_total}", self.host.base +
             "/clusters/edge/api/v1/namespaces/load/pods/chatty/log"],
            capture_output=True, text=True, timeout=150)
        code, size, seconds = out.stdout.split()
        self.assertEqual(code, "200", out.stderr)
        self.assertGreaterEqual(int(size), LOG_BYTES - 100)
        return int(size) / MIB / float(seconds)

    def test_a_stalled_log_stream_slows_no_other_stream(self):
        self.latency(3)  # warm: the member's connection is made
        base_latency, base_rate = self.latency(), self.throughput()
        stalled = RawStream(self.host, "/clusters/edge/api/v1/namespaces/"
                            "load/pods/chatty/log?follow=true")
        try:
            self.assertEqual(stalled.status(), 200, stalled.head)
            # it stops reading: every buffer on its way fills
            time.sleep(3)
            stall_latency, stall_rate = self.latency(), self.throughput()
            print("\nother stream without / with a stalled logs -f: "
                  "/version median %.1f / %.1f ms, log read %.0f / %.0f "
                  "MiB/s; the stalled client read %d KiB of %d MiB" % (
                      base_latency * 1000, stall_latency * 1000, base_rate,
                      stall_rate, stalled.got // 1024, LOG_BYTES // MIB),
                  file=sys.stderr)
            self.assertLess(stall_latency, max(5 * base_latency,
                                               base_latency + 0.5))
            self.assertGreater(stall_rate, base_rate / 5)
            # the stalled stream was held back, and is whole when read
            self.assertLess(stalled.got, LOG_BYTES // 2)
            self.assertTrue(stalled.read(LOG_BYTES // 2))
        finally:
            stalled.close()

    def test_b_slow_list_reader_memory_bounded(self):
        pids = {"host": self.host.proc.pid, "agent": self.agent.proc.pid}
        self.latency(3)
        before = {k: proc_status(p)["VmRSS"] for k, p in pids.items()}
        peak = dict(before)
        r = RawStream(self.host, "/clusters/edge/api/v1/namespaces/load/"
                      "configmaps")
        try:
            self.assertEqual(r.status(), 200, r.head)
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                self.assertTrue(r.read(32 * 1024))
                time.sleep(0.1)  # deliberate: a slow reader
                for k, p in pids.items():
                    peak[k] = max(peak[k], proc_status(p)["VmRSS"])
            held = r.got
            # the rest comes when it reads fast again
            while r.read(65536) and not r.got >= LIST_OBJECTS * LIST_VALUE:
                pass
        finally:
            r.close()
        growth = {k: (peak[k] - before[k]) / MIB for k in pids}
        print("\nslow list reader (read %.1f MiB in 8 s, then %.1f MiB): "
              "host RSS %.1f -> %.1f MiB (+%.1f), agent %.1f -> %.1f MiB "
              "(+%.1f); bound +%.0f MiB" % (
                  held / MIB, r.got / MIB, before["host"] / MIB,
                  peak["host"] / MIB, growth["host"], before["agent"] / MIB,
                  peak["agent"] / MIB, growth["agent"],
                  (BUFFERS + MARGIN) / MIB), file=sys.stderr)
        self.assertLess(held, 8 * MIB)  # it was slow
        self.assertGreaterEqual(r.got, LIST_OBJECTS * LIST_VALUE)
        # ASan's quarantine keeps freed memory resident: RSS then counts
        # allocations, not what is held
        if not sanitized():
            for k in pids:
                self.assertLess(growth[k] * MIB, BUFFERS + MARGIN, k)


if __name__ == "__main__":
    unittest.main()
