"""Watch fan-out of the mock member: FG_BENCH_WATCHES open watches (default
10,000) receive one event each, and the time until all of them have it.

fedgate serves a mock member with one worker. The client opens the
watches as HTTP/2 streams through the gateway (FG_BENCH_STREAMS per TLS
connection, default 100), all on the ConfigMaps of one namespace from the
current resourceVersion, so that no initial events are sent. Each round
then creates one ConfigMap (HTTP/1.1, a connection of its own) and reads
every connection until each watch has received its ADDED event; the
figures of a round are the time from sending the create until 50%, 99%
and all of the watches had the event, and the CPU time fedgate spent in
that span (/proc, in clock ticks: 10 ms steps). FG_BENCH_ROUNDS rounds
(default 5) give medians.

The client reads with h2 (the Python package) until every stream has its
response head, then counts the events in the bytes as they arrive rather
than decode each frame, so that Python does not set the pace of a fan-out
that fedgate finishes in milliseconds: one ADDED event per watch, and no
other bytes but frame heads (no bookmarks were asked for).

FG_BENCH_BASELINE names another fedgate binary (an older build: its bin/
and lib/ copied together) that serves its own set of watches at the same
time; the rounds alternate between the two builds, and its figures print
as "before" beside this build's.

    FEDGATE_BIN=build/release/bin/fedgate FG_SOURCE_DIR=$PWD \\
        FG_BENCH_BASELINE=/tmp/before/bin/fedgate \\
        /usr/bin/python3 tests/bench/bench_mock_watch.py
"""
import http.client
import json
import os
import selectors
import socket
import ssl
import statistics
import sys
import tempfile
import time

import h2.config
import h2.connection
import h2.events

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402
from harness import Gateway  # noqa: E402
from peer import cpu_seconds, proc_kib  # noqa: E402

WATCHES = int(os.environ.get("FG_BENCH_WATCHES", "10000"))
STREAMS = int(os.environ.get("FG_BENCH_STREAMS", "100"))
ROUNDS = int(os.environ.get("FG_BENCH_ROUNDS", "5"))
BASELINE = os.environ.get("FG_BENCH_BASELINE")
MEMBER = "fan"
NS = "default"
PATTERN = b'"type":"ADDED"'
TIMEOUT = 120.0


class Conn:
    """One TLS connection carrying N watch streams."""

    def __init__(self, gw, path, n):
        ctx = gw.tls_context(alpn=("h2",))
        sock = socket.create_connection(("127.0.0.1", gw.port), TIMEOUT)
        self.tls = ctx.wrap_socket(sock, server_hostname="localhost")
        if self.tls.selected_alpn_protocol() != "h2":
            raise SystemExit("the gateway did not choose h2")
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True,
                                      header_encoding="utf-8"))
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(1 << 24)
        self.heads = 0
        for _ in range(n):
            sid = self.h2.get_next_available_stream_id()
            self.h2.send_headers(sid, [
                (":method", "GET"), (":scheme", "https"),
                (":authority", "127.0.0.1:%d" % gw.port), (":path", path),
                ("authorization", "Bearer " + gw.token),
                ("accept", "application/json")], end_stream=True)
        self.n = n
        self.tls.sendall(self.h2.data_to_send())
        self.got = 0
        self.tail = b""

    def read_heads(self):
        """Feeds h2 until every stream has its response head."""
        data = self.tls.recv(65536)
        if not data:
            raise SystemExit("the gateway closed a watch connection")
        for ev in self.h2.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                status = dict(ev.headers).get(":status")
                if status != "200":
                    raise SystemExit("a watch answered %s" % status)
                self.heads += 1
            elif isinstance(ev, (h2.events.StreamReset,
                                 h2.events.StreamEnded)):
                raise SystemExit("a watch stream ended before its event")
        out = self.h2.data_to_send()
        if out:
            self.tls.sendall(out)

    def count(self):
        """Reads what is there; returns how many events it held."""
        try:
            data = self.tls.recv(1 << 20)
        except ssl.SSLWantReadError:
            return 0
        if not data:
            raise SystemExit("the gateway closed a watch connection")
        buf = self.tail + data
        n = buf.count(PATTERN)
        # what could start a pattern that the next read completes
        last = buf.rfind(PATTERN)
        start = max(len(buf) - len(PATTERN) + 1,
                    last + len(PATTERN) if last >= 0 else 0)
        self.tail = buf[start:]
        self.got += n
        return n

    def close(self):
        self.tls.close()


class Side:
    """One fedgate build with its watches open."""

    def __init__(self, label, binary, seed):
        self.label, self.rounds = label, []
        saved = harness.FEDGATE
        harness.FEDGATE = binary
        try:
            self.gw = Gateway(
                members=['[member "%s"]\ndriver = mock\nseed = %s\n'
                         % (MEMBER, seed)],
                extra_gateway="workers = 1\n")
            self.gw.start()
        finally:
            harness.FEDGATE = saved
        self.pid = self.gw.proc.pid
        self.prefix = "/clusters/%s/api/v1/namespaces/%s/configmaps" % (
            MEMBER, NS)
        self.conns = []
        self.serial = 0

    def request(self, method, path, body=None):
        c = http.client.HTTPSConnection(
            "127.0.0.1", self.gw.port, timeout=TIMEOUT,
            context=self.gw.tls_context())
        try:
            c.request(method, path, body=body, headers={
                "Authorization": "Bearer " + self.gw.token,
                "Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            if r.status not in (200, 201):
                raise SystemExit("%s %s: %d %s" % (method, path, r.status,
                                                   data[:300]))
            return json.loads(data)
        finally:
            c.close()

    def open(self):
        rss0 = proc_kib(self.pid, "VmRSS")
        rv = self.request("GET", self.prefix)["metadata"]["resourceVersion"]
        path = self.prefix + "?watch=1&resourceVersion=" + rv
        t0 = time.monotonic()
        left = WATCHES
        while left:
            self.conns.append(Conn(self.gw, path, min(STREAMS, left)))
            left -= self.conns[-1].n
        sel = selectors.DefaultSelector()
        for c in self.conns:
            sel.register(c.tls, selectors.EVENT_READ, c)
        deadline = time.monotonic() + TIMEOUT
        while sum(c.heads for c in self.conns) < WATCHES:
            if time.monotonic() > deadline:
                raise SystemExit("%s: watches not open after %.0fs" % (
                    self.label, TIMEOUT))
            for key, _ in sel.select(1.0):
                c = key.data
                if c.heads < c.n:
                    c.read_heads()
        sel.close()
        self.open_s = time.monotonic() - t0
        self.rss_kib = proc_kib(self.pid, "VmRSS") - rss0
        for c in self.conns:
            c.tls.setblocking(False)

    def round(self):
        self.serial += 1
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "fan-%d" % self.serial},
                           "data": {"round": str(self.serial)}})
        sel = selectors.DefaultSelector()
        for c in self.conns:
            sel.register(c.tls, selectors.EVENT_READ, c)
        want = self.serial * WATCHES
        marks = {0.5: None, 0.99: None, 1.0: None}
        cpu0 = cpu_seconds([self.pid])
        t0 = time.monotonic()
        self.request("POST", self.prefix, body)
        got = sum(c.got for c in self.conns)
        base = want - WATCHES
        while got < want:
            if time.monotonic() - t0 > TIMEOUT:
                raise SystemExit("%s: %d of %d events after %.0fs" % (
                    self.label, got - base, WATCHES, TIMEOUT))
            for key, _ in sel.select(1.0):
                got += key.data.count()
                # ssl may hold decrypted bytes the selector does not see
                while key.data.tls.pending():
                    got += key.data.count()
            now = time.monotonic() - t0
            for frac in marks:
                if marks[frac] is None and got - base >= frac * WATCHES:
                    marks[frac] = now
        took = time.monotonic() - t0
        sel.close()
        if got != want:
            raise SystemExit("%s: %d events, expected %d" % (
                self.label, got - base, WATCHES))
        # fedgate's CPU for the fan-out: it has finished when all arrived
        self.rounds.append((marks[0.5], marks[0.99], took,
                            cpu_seconds([self.pid]) - cpu0))

    def stop(self):
        for c in self.conns:
            c.close()
        try:
            code = self.gw.stop()
        finally:
            self.gw.cleanup()
        return code


def main():
    harness.START_TIMEOUT = 120.0
    tmp = tempfile.mkdtemp(prefix="fedgate-watch-")
    seed = os.path.join(tmp, "seed.json")
    with open(seed, "w") as f:
        json.dump({"objects": [{"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": NS}}]}, f)
    sides, codes = [], []
    try:
        if BASELINE:
            sides.append(Side("before", BASELINE, seed))
        sides.append(Side("after" if BASELINE else "fedgate",
                          harness.FEDGATE, seed))
        for s in sides:
            s.open()
        for _ in range(ROUNDS):
            for s in sides:
                s.round()
        print("%d watches (%d h2 streams per TLS connection, %d connections) "
              "on one mock member through fedgate (1 worker); %d rounds of "
              "one ConfigMap created, each watch receiving its ADDED event"
              % (WATCHES, STREAMS, len(sides[-1].conns), ROUNDS))
        print("%-8s %9s %10s %10s %10s %10s %12s %11s" % (
            "build", "open", "RSS/watch", "50%", "99%", "all",
            "fedgate CPU", "CPU/watch"))
        for s in sides:
            med = [statistics.median(r[i] for r in s.rounds)
                   for i in range(4)]
            print("%-8s %8.2fs %9.0fB %9.1fms %9.1fms %9.1fms %10.0fms "
                  "%9.1fus" % (
                      s.label, s.open_s, s.rss_kib * 1024.0 / WATCHES,
                      med[0] * 1e3, med[1] * 1e3, med[2] * 1e3, med[3] * 1e3,
                      med[3] * 1e6 / WATCHES))
        print("(times from sending the create until that share of the "
              "watches had the event, medians of the rounds; RSS/watch is "
              "fedgate's growth while the watches opened; CPU in 10 ms "
              "ticks)")
    finally:
        for s in sides:
            codes.append(s.stop())
        os.unlink(seed)
        os.rmdir(tmp)
    if any(c != 0 for c in codes):
        raise SystemExit("fedgate exited %s" % codes)


if __name__ == "__main__":
    main()
