"""Request bodies that stall or trickle, to a mock member, over HTTP/1.1 and
HTTP/2: the core answers 408 (a Kubernetes Status) after body_idle_timeout
without a byte, or body_timeout for the whole body, cancels the driver's
stream, and closes the h1 connection or resets the h2 stream."""
import json
import os
import struct
import time
import unittest

from harness import GatewayTest
from test_h2_limits import (DATA, END_HEADERS, END_STREAM, HEADERS,
                            RST_STREAM, H2Conn, frame, hpack_request)
from test_dos_slots import tls_conn

PATH = "/clusters/demo/api/v1/namespaces/default/configmaps"


class BodyTimeoutTest(GatewayTest):
    extra_gateway = "body_idle_timeout = 1s\nbody_timeout = 3s\n"

    def post_head(self, length):
        return ("POST %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                "%s\r\nContent-Type: application/json\r\nContent-Length: %d"
                "\r\n\r\n" % (PATH, self.gw.token, length)).encode()

    def read_until_close(self, t, timeout):
        t.settimeout(timeout)
        out = b""
        try:
            while True:
                chunk = t.recv(4096)
                if not chunk:
                    return out, True
                out += chunk
        except OSError:
            return out, False

    def assert_408(self, answer, message):
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 408 "), answer)
        self.assertIn(b"connection: close", head.lower())
        status = json.loads(body)
        self.assertEqual((status["kind"], status["code"], status["reason"]),
                         ("Status", 408, "Timeout"))
        self.assertIn(message, status["message"])

    def test_h1_stalled_body(self):
        t = tls_conn(self.gw)
        self.addCleanup(t.close)
        started = time.monotonic()
        t.sendall(self.post_head(200) + b'{"kind":')
        answer, closed = self.read_until_close(t, 10)
        self.assertTrue(closed, answer)
        self.assertLess(time.monotonic() - started, 5)
        self.assert_408(answer, "no request body was received for 1000 ms")

    def test_h1_trickled_body(self):
        t = tls_conn(self.gw)
        self.addCleanup(t.close)
        t.sendall(self.post_head(1000))
        started, answer = time.monotonic(), b""
        t.settimeout(0.3)
        while time.monotonic() - started < 10 and not answer:
            try:
                t.sendall(b" ")  # a byte every 0.3 s: never idle for 1 s
                answer = t.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
        rest, closed = self.read_until_close(t, 10)
        self.assertTrue(closed)
        self.assertGreater(time.monotonic() - started, 2.5)
        self.assert_408(answer + rest, "was not received within 3000 ms")

    def test_h2_stalled_body(self):
        c = H2Conn(self.gw)
        self.addCleanup(c.close)
        block = hpack_request("POST", PATH, self.gw.token,
                              [("content-type", "application/json")])
        c.send(frame(HEADERS, END_HEADERS, 1, block) +
               frame(DATA, 0, 1, b'{"kind":'))
        started, body, reset = time.monotonic(), b"", None
        for kind, flags, stream, payload in c.frames(timeout=10):
            if stream != 1:
                continue
            if kind == DATA:
                body += payload
                self.assertLess(time.monotonic() - started, 5)
            if kind == RST_STREAM:
                reset = struct.unpack(">I", payload)[0]
                break
        status = json.loads(body)
        self.assertEqual((status["code"], status["reason"]), (408, "Timeout"))
        self.assertEqual(reset, 0)  # NO_ERROR: stop sending, no fault
        # the connection serves the next stream
        c.send(frame(HEADERS, END_STREAM | END_HEADERS, 3,
                     hpack_request("GET", "/clusters/demo/api",
                                   self.gw.token)))
        self.assertIn(b'"kind":"APIVersions"', c.body(3))

    def test_the_member_counts_408(self):
        self.test_h1_stalled_body()
        _, _, metrics = self.curl("/metrics")
        self.assertRegex(metrics, r'fedgate_requests_total\{member="demo",'
                                  r'verb="POST",code="408"[^}]*\} [1-9]')

    def test_a_steady_body_is_not_cut(self):
        path = os.path.join(self.gw.tmp, "steady.json")
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "steady"},
                       "data": {"a": "x" * 500000}}, f)
        for http in ("--http1.1", "--http2"):
            code, _, body = self.curl(
                PATH, "-X", "POST", "-H", "Content-Type: application/json",
                "--data-binary", "@" + path, http=http)
            self.assertIn(code, (201, 409), body)


if __name__ == "__main__":
    unittest.main()
