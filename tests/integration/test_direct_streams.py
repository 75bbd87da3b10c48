"""Streaming through the direct driver: backpressure, cancellation, 504.

One host gateway and one direct_upstream.py (HTTP/2 and HTTP/1.1 by ALPN)
serve every case; members reach it over HTTP/2 (names ending in 2) or
HTTP/1.1 (`http2 = false`, names ending in 1). Clients speak HTTP/1.1 over
a raw TLS socket or HTTP/2 with python3-h2, so they can read slowly, close
or reset a stream exactly when a test wants. What the member saw (bytes
written, how each stream ended) comes from the upstream's record file.
Every process is stopped by its pid."""
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest

import h2.config
import h2.connection
import h2.events
import h2.settings

from harness import FEDGATE, Gateway, wait_for
from test_direct import Base, Upstream, direct_member, make_cert

MIB = 1 << 20
BLOCK = 65536
BASE = bytes((i * 7 + (i >> 8) * 13) & 0xFF for i in range(BLOCK))
BIG = 256 * MIB
CANCEL = 8  # the HTTP/2 error code CANCEL
SLOW_SECONDS = 5.0
SLOW_STEP = 65536  # bytes a slow client reads ...
SLOW_PAUSE = 0.1  # ... before each pause
FAST_BYTES = 24 * MIB


def pattern_block(k):
    """Mirrors direct_upstream.pattern_block: the /big body, block K."""
    return k.to_bytes(8, "big") + BASE[8:]


def sanitized():
    """Whether the gateway is an ASan build: its quarantine keeps freed
    memory resident, so RSS then counts allocations, not what is held."""
    path = shutil.which(FEDGATE) or FEDGATE
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(value.split()[0]) * 1024
    return out


class Verifier:
    """Checks a /big body against the pattern as it arrives."""

    def __init__(self):
        self.offset = 0
        self.bad_at = None
        self.k = -1
        self.block = b""

    def feed(self, data):
        view = memoryview(data)
        pos = 0
        while pos < len(view):
            k, r = divmod(self.offset, BLOCK)
            if k != self.k:
                self.k, self.block = k, pattern_block(k)
            n = min(BLOCK - r, len(view) - pos)
            if self.bad_at is None and view[pos:pos + n] != self.block[r:r + n]:
                self.bad_at = self.offset
            pos += n
            self.offset += n


class H1Client:
    """One HTTP/1.1 request on a raw TLS socket; the body is read raw."""

    def __init__(self, gw, path, rcvbuf=None):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(10)
        raw.connect(("127.0.0.1", gw.port))
        self.sock = gw.tls_context().wrap_socket(raw,
                                                 server_hostname="localhost")
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n"
                           "Authorization: Bearer %s\r\n\r\n" %
                           (path, gw.token)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError("no answer head: %r" % buf)
            buf += data
        head, _, self.pending = buf.partition(b"\r\n\r\n")
        self.status = int(head.split()[1])

    def read(self, n):
        """Up to N body bytes (fewer at the end); b"" once closed."""
        out = bytearray(self.pending)
        self.pending = b""
        while len(out) < n:
            data = self.sock.recv(min(65536, n - len(out)))
            if not data:
                break
            out += data
        return bytes(out)

    def close(self):
        self.sock.close()


class H2Client:
    """An HTTP/2 client connection on which a test drives every frame."""

    def __init__(self, gw, rcvbuf=None, window=MIB):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(10)
        raw.connect(("127.0.0.1", gw.port))
        self.sock = gw.tls_context(alpn=("h2",)).wrap_socket(
            raw, server_hostname="localhost")
        if self.sock.selected_alpn_protocol() != "h2":
            raise AssertionError("the gateway did not choose h2")
        self.gw = gw
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True,
                                             header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.conn.update_settings(
            {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.conn.increment_flow_control_window(32 * MIB)
        self.sock.sendall(self.conn.data_to_send())
        self.streams = {}
        self.closed = False

    def request(self, path, verify=False):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [
            (":method", "GET"), (":scheme", "https"),
            (":authority", "127.0.0.1:%d" % self.gw.port), (":path", path),
            ("authorization", "Bearer " + self.gw.token)], end_stream=True)
        self.sock.sendall(self.conn.data_to_send())
        self.streams[sid] = {"status": None, "data": bytearray(),
                             "verifier": Verifier() if verify else None,
                             "bytes": 0, "ended": False, "reset": None}
        return sid

    def pump(self):
        """Reads once from the socket; returns the DATA bytes it carried."""
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            return 0
        got = 0
        for ev in self.conn.receive_data(data):
            st = self.streams.get(getattr(ev, "stream_id", None))
            if isinstance(ev, h2.events.ResponseReceived) and st:
                st["status"] = int(dict(ev.headers)[":status"])
            elif isinstance(ev, h2.events.DataReceived):
                self.conn.acknowledge_received_data(
                    ev.flow_controlled_length, ev.stream_id)
                if st:
                    got += len(ev.data)
                    st["bytes"] += len(ev.data)
                    if st["verifier"]:
                        st["verifier"].feed(ev.data)
                    else:
                        st["data"] += ev.data
            elif isinstance(ev, h2.events.StreamEnded) and st:
                st["ended"] = True
            elif isinstance(ev, h2.events.StreamReset) and st:
                st["reset"] = ev.error_code
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.closed = True
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)
        return got

    def reset(self, sid):
        self.conn.reset_stream(sid, CANCEL)
        self.sock.sendall(self.conn.data_to_send())

    def close(self):
        self.sock.close()


class BigReader:
    """A /big body read through one client protocol."""

    def __init__(self, gw, path, http):
        self.http = http
        if http == "h1":
            self.c = H1Client(gw, path, rcvbuf=256 * 1024)
            self.verifier = Verifier()
            self.status = self.c.status
        else:
            self.c = H2Client(gw, rcvbuf=256 * 1024)
            self.sid = self.c.request(path, verify=True)
            while self.c.streams[self.sid]["status"] is None:
                self.c.pump()
            self.verifier = self.c.streams[self.sid]["verifier"]
            self.status = self.c.streams[self.sid]["status"]

    @property
    def got(self):
        return self.verifier.offset

    def read(self, n):
        """Reads at least N more bytes (unless the body ends first)."""
        goal = self.got + n
        while self.got < goal:
            if self.http == "h1":
                data = self.c.read(min(65536, goal - self.got))
                if not data:
                    return
                self.verifier.feed(data)
            else:
                self.c.pump()
                st = self.c.streams[self.sid]
                if self.c.closed or st["ended"] or st["reset"] is not None:
                    return

    def close(self):
        self.c.close()


class Streams(Base):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-streams-")
        crt, key = make_cert(cls.tmp, "up")
        cls.up = Upstream(cls.tmp, crt, key).start()
        tok = os.path.join(cls.tmp, "token")
        with open(tok, "w") as f:
            f.write("t\n")
        timeouts = "request_timeout = 1s\nidle_timeout = 3s\n"
        cls.host = Gateway(members=[
            direct_member("m2", cls.up.port, crt, tok),
            direct_member("m1", cls.up.port, crt, tok, "http2 = false\n"),
            direct_member("t2", cls.up.port, crt, tok, timeouts),
            direct_member("t1", cls.up.port, crt, tok,
                          "http2 = false\n" + timeouts)])
        try:
            cls.host.start()
        except Exception:
            cls.up.kill()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stop_checked(cls.host)
        finally:
            cls.up.kill()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- what the upstream recorded ----

    def sent(self, path):
        """Bytes the upstream wrote for PATH (recorded per MiB)."""
        return max([r["sent"] for r in self.up.records()
                    if r.get("progress") == path or r.get("end") == path] +
                   [0])

    def ended(self, path):
        ends = [r for r in self.up.records() if r.get("end") == path]
        return ends[0] if ends else None

    def assert_cancelled(self, path, member, since, within=2.0):
        """The member request for PATH stopped within WITHIN s of SINCE."""
        wait_for(lambda: self.ended(path) is not None, within + 3,
                 "the upstream to see %s end" % path)
        end = self.ended(path)
        # the record is written the moment the upstream noticed
        took = time.monotonic() - since
        self.assertNotEqual(end["how"], "complete", end)
        if member.endswith("2"):
            self.assertEqual((end["how"], end.get("code")), ("rst", CANCEL),
                             end)
        else:
            self.assertIn(end["how"], ("eof", "write"), end)
        self.assertLess(took, within + 0.5, "%s: cancelled after %.1fs" %
                        (path, took))
        return end

    # ---- 1. a slow client pauses the member stream ----

    def test_slow_client_backpressure(self):
        pid = self.host.proc.pid
        combos = [(m, http) for m in ("m2", "m1") for http in ("h1", "h2")]
        paths = {c: "/big?size=%d&t=slow-%s-%s" % ((BIG,) + c) for c in combos}
        # warm up: connections made, TLS contexts loaded
        for m in ("m2", "m1"):
            code, text, _ = self.curl(self.host, "/clusters/%s/api" % m)
            self.assertEqual(code, 200, text)
        before = proc_status(pid)
        readers = {}
        try:
            for c in combos:
                readers[c] = BigReader(self.host, "/clusters/%s%s" %
                                       (c[0], paths[c]), c[1])
            for c, r in readers.items():
                self.assertEqual(r.status, 200, c)
            errors = []
            stop = time.monotonic() + SLOW_SECONDS

            def slow(r):
                try:
                    while time.monotonic() < stop:
                        r.read(SLOW_STEP)
                        time.sleep(SLOW_PAUSE)  # deliberate: a slow reader
                except Exception as e:  # reported below
                    errors.append("%s: %r" % (r.http, e))
            threads = [threading.Thread(target=slow, args=(r,))
                       for r in readers.values()]
            for t in threads:
                t.start()
            peak = before["VmRSS"]
            while any(t.is_alive() for t in threads):
                peak = max(peak, proc_status(pid)["VmRSS"])
                time.sleep(0.05)
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            after = proc_status(pid)
            growth = peak - before["VmRSS"]
            if after["VmHWM"] > before["VmHWM"]:
                growth = max(growth, after["VmHWM"] - before["VmRSS"])
            report = []
            for c, r in readers.items():
                sent = self.sent(paths[c])
                report.append("%s/%s read %.1f MiB, upstream wrote %.1f MiB" %
                              (c[0], c[1], r.got / MIB, sent / MIB))
                self.assertIsNone(r.verifier.bad_at, c)
                self.assertLess(r.got, 16 * MIB, c)  # the client was slow
                self.assertLess(sent, r.got + 64 * MIB,
                                "%s: the member was not paused: %s" %
                                (c, report[-1]))
                self.assertIsNone(self.ended(paths[c]), c)
            # four streams that could each have pushed BIG: memory bounded
            # (the member's progress above bounds what is held in any build)
            if not sanitized():
                self.assertLess(growth, 32 * MIB, "gateway grew %.1f MiB; %s"
                                % (growth / MIB, "; ".join(report)))

            # the stream resumes: fast reads move on, bytes intact
            t0 = time.monotonic()
            for c, r in readers.items():
                start = r.got
                r.read(FAST_BYTES)
                self.assertGreaterEqual(r.got - start, FAST_BYTES, c)
                self.assertIsNone(r.verifier.bad_at, c)
                self.assertGreater(self.sent(paths[c]), start, c)
            print("\nslow phase: gateway grew %.1f MiB; %s; fast phase "
                  "%.1f MiB/s" % (growth / MIB, "; ".join(report),
                                  len(readers) * FAST_BYTES / MIB /
                                  (time.monotonic() - t0)), file=sys.stderr)
            # and a client that goes away mid-body cancels the member's
            for c, r in readers.items():
                r.close()
                self.assert_cancelled(paths[c], c[0], time.monotonic())
        finally:
            for r in readers.values():
                r.close()

    # ---- 2. a client that goes away cancels the member request ----

    def test_client_gone_cancels_watch(self):
        for m in ("m2", "m1"):
            for http in ("h1", "h2"):
                path = "/stream?watch=1&t=gone-%s-%s" % (m, http)
                full = "/clusters/%s%s" % (m, path)
                c = (H1Client(self.host, full) if http == "h1" else
                     H2Client(self.host))
                try:
                    if http == "h1":
                        self.assertEqual(c.status, 200)
                        self.assertIn(b'"n"', c.read(64))
                    else:
                        sid = c.request(full)
                        while b'"n"' not in c.streams[sid]["data"]:
                            c.pump()
                            self.assertFalse(c.closed)
                        self.assertEqual(c.streams[sid]["status"], 200)
                finally:
                    since = time.monotonic()
                    c.close()
                self.assert_cancelled(path, m, since)

    def test_h2_client_reset_cancels_only_that_stream(self):
        lines = b"".join(b'{"n":%d}\n' % i for i in range(20))
        for m in ("m2", "m1"):
            c = H2Client(self.host)
            try:
                paths = {"a": "/stream?watch=1&t=rst-a-" + m,
                         "b": "/stream?count=20&t=rst-b-" + m,
                         "c": "/big?size=%d&t=rst-c-%s" % (4 * MIB, m)}
                sids = {k: c.request("/clusters/%s%s" % (m, p),
                                     verify=(k == "c"))
                        for k, p in paths.items()}
                a = c.streams[sids["a"]]
                while not a["bytes"]:
                    c.pump()
                    self.assertFalse(c.closed)
                since = time.monotonic()
                c.reset(sids["a"])
                deadline = time.monotonic() + 15
                while not all(c.streams[sids[k]]["ended"] for k in "bc"):
                    self.assertLess(time.monotonic(), deadline)
                    self.assertFalse(c.closed)
                    c.pump()
                self.assert_cancelled(paths["a"], m, since)
                b, big = c.streams[sids["b"]], c.streams[sids["c"]]
                self.assertEqual((b["status"], bytes(b["data"])), (200, lines))
                self.assertEqual(big["status"], 200)
                self.assertEqual(big["verifier"].offset, 4 * MIB)
                self.assertIsNone(big["verifier"].bad_at)
                for k in "bc":
                    # The client may finish reading before the upstream
                    # has written its record of the end.
                    wait_for(lambda: self.ended(paths[k]) is not None, 5,
                             "the upstream to record %s" % paths[k])
                    self.assertEqual(self.ended(paths[k])["how"], "complete")
                # the connection still serves new streams
                sid = c.request("/clusters/%s/api" % m)
                while not c.streams[sid]["ended"]:
                    self.assertFalse(c.closed)
                    c.pump()
                self.assertEqual(c.streams[sid]["status"], 200)
            finally:
                c.close()

    # ---- 3. request_timeout -> 504; watches use the idle limit ----

    def curl_timed(self, member, path, http):
        t0 = time.monotonic()
        code, text, out = self.curl(self.host, "/clusters/%s%s" % (member,
                                                                 path),
                                    http=http)
        return code, text, out, time.monotonic() - t0

    def test_request_timeout_is_504(self):
        for m in ("t2", "t1"):
            for http in ("--http1.1", "--http2"):
                path = "/hang?t=%s%s" % (m, http)
                code, text, out, took = self.curl_timed(m, path, http)
                since = time.monotonic()
                self.assertEqual(code, 504, text + out.stderr)
                self.assertTrue(0.9 <= took < 3.0, took)
                st = json.loads(text[text.index("{"):])
                self.assertEqual((st["kind"], st["reason"], st["code"]),
                                 ("Status", "Timeout", 504), st)
                self.assertIn("did not answer within 1000ms", st["message"])
                self.assertIn('"%s"' % m, st["message"])
                self.assert_cancelled(path, m, since)

    def test_watch_is_exempt_and_uses_idle_limit(self):
        results = {}

        def run(key, member, path, http):
            results[key] = self.curl_timed(member, path, http)
        jobs = []
        for m in ("t2", "t1"):
            for http in ("--http1.1", "--http2"):
                # a byte every 0.5 s for 4 s: past request_timeout and
                # past idle_timeout in total, never idle that long
                jobs.append((("drip", m, http), m,
                             "/drip?watch=1&count=8&t=%s%s" % (m, http), http))
            # a watch that sends nothing ends at the idle limit
            jobs.append((("idle", m), m, "/hang?watch=1&t=idle-" + m,
                         "--http1.1"))
        threads = [threading.Thread(target=run, args=j) for j in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for key, (code, text, out, took) in results.items():
            if key[0] == "drip":
                self.assertEqual(code, 200, "%s: %s%s" % (key, text,
                                                          out.stderr))
                self.assertEqual(out.returncode, 0, out.stderr)
                # text mode: the head's CRLFs read as "\n"
                self.assertTrue(text.endswith("\n\n" + "." * 8), text)
                self.assertGreater(took, 3.5, key)
            else:
                self.assertEqual(code, 504, text)
                st = json.loads(text[text.index("{"):])
                self.assertEqual(st["reason"], "Timeout")
                self.assertIn("sent nothing for 3000ms", st["message"])
                self.assertTrue(2.9 <= took < 5.0, (key, took))
        self.assertEqual(len(results), len(jobs))


if __name__ == "__main__":
    unittest.main()
