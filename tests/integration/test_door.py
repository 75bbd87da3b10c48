"""Invariants at the door (DESIGN.md): requests that must not reach a member.

Each class drives a host gateway with raw TLS sockets (and python3-h2 for
HTTP/2 frames) against recording upstreams (direct_upstream.py), and
asserts from the upstream's own record that nothing reached a member:
malformed chunked bodies and what they smuggle, paths that leave
/clusters/NAME/, upgrades on paths Kubernetes does not upgrade, and a
never-authenticated connection after its 401. Every process is stopped by
its pid; every socket wait is bounded."""
import json
import os
import socket
import ssl
import tempfile
import time
import unittest

import h2.config
import h2.connection
import h2.events

from harness import GatewayTest, mock_member, wait_for
from test_direct import Base, Upstream, direct_member, make_cert

IO_TIMEOUT = 10.0


def exchange(gw, data, alpn="http/1.1"):
    """Sends DATA on a fresh TLS connection; returns (answer, closed): every
    byte until the gateway closed (closed=True) or went quiet."""
    with socket.create_connection(("127.0.0.1", gw.port), IO_TIMEOUT) as s:
        with gw.tls_context((alpn,)).wrap_socket(
                s, server_hostname="localhost") as t:
            t.sendall(data)
            out = b""
            deadline = time.monotonic() + IO_TIMEOUT
            t.settimeout(3.0)
            while time.monotonic() < deadline:
                try:
                    chunk = t.recv(65536)
                except socket.timeout:
                    return out, False
                except (ssl.SSLError, ConnectionError):
                    return out, True
                if not chunk:
                    return out, True
                out += chunk
            return out, False


class Upstreams(Base):
    """A host with recording upstreams: up2 (HTTP/2) and up1 (HTTP/1.1) on
    upstream A, other on upstream B."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-door-")
        crt, key = make_cert(cls.tmp, "up")
        cls.a = Upstream(cls.tmp, crt, key).start()
        cls.b = Upstream(cls.tmp, crt, key).start()
        tok = os.path.join(cls.tmp, "token")
        with open(tok, "w") as f:
            f.write("upstream-token\n")
        cls.start_host([cls.a, cls.b], [
            direct_member("up2", cls.a.port, crt, tok),
            direct_member("up1", cls.a.port, crt, tok, "http2 = false\n"),
            direct_member("other", cls.b.port, crt, tok),
            direct_member("other1", cls.b.port, crt, tok,
                          "http2 = false\n")])

    @classmethod
    def tearDownClass(cls):
        cls.stop_host()

    def auth(self):
        return "Authorization: Bearer %s\r\n" % self.host.token

    def seen(self, upstream, marker):
        return [r for r in upstream.records() if marker in r.get("path", "")]


class ChunkedFraming(Upstreams):
    """RFC 9112 7.1: every malformed chunk is a 400 with the connection
    closed, and neither the request nor what it smuggles reaches a member,
    not even as an aborted head (over HTTP/2 and HTTP/1.1 upstreams)."""

    BAD = [
        b"5\r\nhelloXX0\r\n\r\n",
        b"5\r\nhello0\r\n\r\n",
        b"5\r\nhello\n0\r\n\r\n",
        b"5\r\nhelloX\r\n0\r\n\r\n",
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b" 5\r\nhello\r\n0\r\n\r\n",
        b"00000000000000005\r\nhello\r\n0\r\n\r\n",
        b"5;" + b"e" * 400 + b"\r\nhello\r\n0\r\n\r\n",
        b"5;a=\"x\r\nhello\r\n0\r\n\r\n",
        b"5 \r\nhello\r\n0\r\n\r\n",
        b"5\r\nhello\r\n0\r\nX : 1\r\n\r\n",
        b"5\r\nhello\r\n0\r\nX: 1\r\n folded\r\n\r\n",
        b"5\r\nhello\r\n\r\n",
    ]

    def post(self, member, marker, body):
        return (("POST /clusters/%s/api/v1/namespaces/d/configmaps?door=%s "
                 "HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n" %
                 (member, marker, self.auth())).encode() + body)

    def smuggled(self, member, marker):
        return ("GET /clusters/%s/smuggled?door=%s HTTP/1.1\r\nHost: x\r\n"
                "%s\r\n" % (member, marker, self.auth())).encode()

    def test_malformed_chunks_reach_nobody(self):
        for member in ("up2", "up1"):
            for i, body in enumerate(self.BAD):
                marker = "bad-%s-%d" % (member, i)
                out, closed = exchange(self.host, self.post(member, marker, body)
                                       + self.smuggled(member, marker))
                self.assertTrue(out.startswith(b"HTTP/1.1 400 "),
                                (marker, out[:300]))
                self.assertEqual(out.count(b"HTTP/1.1 "), 1, (marker, out))
                self.assertIn(b"connection: close", out.lower(), marker)
                self.assertIn(b'"kind":"Status"', out, marker)
                self.assertTrue(closed, marker)
        # a valid body does reach it: the record is there to be trusted
        ok = "good-up2"
        out, _ = exchange(self.host, self.post("up2", ok,
                                               b"2\r\n{}\r\n0\r\n\r\n"))
        self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:300])
        wait_for(lambda: self.seen(self.a, "door=good-"), 10, "the control")
        self.assertEqual(self.seen(self.a, "door=bad-"), [])
        self.assertEqual(self.seen(self.a, "smuggled"), [])

    def test_late_malformed_chunk_is_cut(self):
        # the body's error arrives after the head went on: the request ends
        # there and what follows it is never read as a request
        for member in ("up2", "up1"):
            marker = "late-%s" % member
            with socket.create_connection(("127.0.0.1", self.host.port),
                                          IO_TIMEOUT) as s:
                with self.host.tls_context().wrap_socket(
                        s, server_hostname="localhost") as t:
                    t.sendall(self.post(member, marker, b"5\r\nhel"))
                    wait_for(lambda: self.seen(self.a, "door=" + marker), 10,
                             "the head at the member")
                    t.sendall(b"loXX0\r\n\r\n" + self.smuggled(member, marker))
                    t.settimeout(IO_TIMEOUT)
                    out = b""
                    while True:
                        try:
                            chunk = t.recv(65536)
                        except (ssl.SSLError, ConnectionError):
                            break
                        if not chunk:
                            break
                        out += chunk
            # the member may have answered before the bad chunk came: one
            # answer either way, then the close
            self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)
        self.assertEqual(self.seen(self.a, "smuggled"), [])


class MemberRouting(Upstreams):
    """The member is /clusters/NAME/ as sent: no path built from another
    member's prefix reaches upstream B, whatever its dots and encodings."""

    ESCAPES = [
        "/clusters/up2/../other/api/v1/pods",
        "/clusters/up2/%2e%2e/other/api/v1/pods",
        "/clusters/up2/%2E%2e/other/api/v1/pods",
        "/clusters/up2/.%2e/other/api/v1/pods",
        "/clusters/up2/%2e./other/api/v1/pods",
        "/clusters/up2/api/../../other/api",
        "/clusters/up2/api/%2e%2e/%2E%2E/other/api",
        "/clusters/up2/./../other/api",
        "/clusters/up2//../other/api",
        "/clusters/up2/../../clusters/other/api",
        "/clusters/../other/api",
        "/clusters/./other/api",
        "/clusters//other/api",
        "/clusters/%6fther/api",
        "/clusters/%6Fther/api",
        "/clusters/OTHER/api",
        "/clusters/other%2F../api",
        "/%63lusters/other/api",
        "//clusters/other/api",
        "/./clusters/other/api",
        "/x/../clusters/other/api",
        "/x/%2e%2e/clusters/other/api",
    ]

    def test_nothing_reaches_the_other_member(self):
        n = 0
        for path in self.ESCAPES:
            for member in ("up2", "up1"):
                p = path.replace("up2", member)
                for http in ("--http1.1", "--http2"):
                    n += 1
                    code, text, out = self.curl(
                        self.host, "%s?door=esc-%d" % (p, n), "--path-as-is",
                        http=http)
                    self.assertIn(code, (400, 404), (p, http, text))
                    body = text[text.index("{"):]
                    self.assertEqual(json.loads(body)["kind"], "Status", p)
        # inside a member, normalisation still applies
        code, text, _ = self.curl(self.host,
                                  "/clusters/up2/api/x/../v1?door=inside",
                                  "--path-as-is")
        self.assertEqual(code, 200, text)
        wait_for(lambda: self.seen(self.a, "door=inside"), 10, "the control")
        self.assertEqual(self.seen(self.a, "door=inside")[0]["path"],
                         "/api/v1?door=inside")
        self.assertEqual(self.seen(self.b, "door="), [])


class Upgrades(Upstreams):
    """Upgrade only where Kubernetes upgrades, never h2c: elsewhere the
    request is served as plain HTTP and the member sees no Upgrade."""

    def upgrade_request(self, path, proto="websocket"):
        return ("GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: Upgrade\r\n"
                "Upgrade: %s\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n" %
                (path, self.auth(), proto)).encode()

    def test_upgrade_on_a_list_is_a_plain_request(self):
        for member in ("up2", "up1"):
            for proto in ("websocket", "SPDY/3.1", "h2c"):
                marker = "list-%s-%s" % (member, proto.replace("/", ""))
                path = ("/clusters/%s/api/v1/namespaces/shop/pods?door=%s" %
                        (member, marker))
                follow = ("GET /clusters/%s/api?door=%s-next HTTP/1.1\r\n"
                          "Host: x\r\n%s\r\n" % (member, marker, self.auth()))
                out, _ = exchange(self.host, self.upgrade_request(path, proto)
                                  + follow.encode())
                self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:300])
                self.assertNotIn(b" 101 ", out)
                # served as plain HTTP: the connection goes on
                self.assertEqual(out.count(b"HTTP/1.1 200 "), 2, out)
                wait_for(lambda: self.seen(self.a, "door=%s-next" % marker),
                         10, "the second request")
                rec = [r for r in self.a.records()
                       if r.get("path", "").endswith("door=" + marker)]
                self.assertEqual(len(rec), 1, marker)
                names = [n for n, _ in rec[0]["headers"]]
                self.assertNotIn("upgrade", names, marker)
                self.assertNotIn("connection", names, marker)

    def test_h2c_is_never_an_upgrade(self):
        marker = "h2c-exec"
        path = ("/clusters/up1/api/v1/namespaces/shop/pods/p/exec?door=%s" %
                marker)
        out, _ = exchange(self.host, self.upgrade_request(path, "h2c"))
        self.assertNotIn(b" 101 ", out)
        wait_for(lambda: self.seen(self.a, "door=" + marker), 10, "the request")
        names = [n for n, _ in self.seen(self.a, "door=" + marker)[0]["headers"]]
        self.assertNotIn("upgrade", names)


class MockHost(GatewayTest):
    """A host gateway with one mock member, on default limits."""

    members = [mock_member("demo", "demo.json")]

    def get(self, path, token):
        auth = "Authorization: Bearer %s\r\n" % token if token else ""
        return ("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, auth)).encode()


class Defaults(MockHost):
    """kube-apiserver's limits: 3 MiB bodies, 100 headers (431 beyond), and
    a Content-Length that does not fit in 63 bits is malformed (400)."""

    def post(self, extra_headers, length):
        return ("POST /clusters/demo/api/v1/namespaces/shop/configmaps "
                "HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s"
                "Content-Type: application/json\r\nContent-Length: %s\r\n"
                "\r\n" % (self.gw.token, extra_headers, length)).encode()

    def status(self, data):
        out, _ = exchange(self.gw, data)
        return int(out.split(b" ", 2)[1]) if out else 0

    def test_limits(self):
        # Host, Authorization, Content-Type, Content-Length and N more
        extra = lambda n: "".join("X-H%d: v\r\n" % i for i in range(n))
        self.assertEqual(self.status(self.post(extra(96), 3145729)), 413)
        self.assertEqual(self.status(self.post(extra(97), 3145729)), 431)
        get = ("GET /clusters/demo/api HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Bearer %s\r\n%s\r\n")
        self.assertEqual(self.status(
            (get % (self.gw.token, extra(98))).encode()), 200)
        self.assertEqual(self.status(
            (get % (self.gw.token, extra(99))).encode()), 431)
        self.assertEqual(self.status(self.post("", "9" * 20)), 400)
        self.assertEqual(self.status(self.post("", "9223372036854775808")),
                         400)
        self.assertEqual(self.status(self.post("", 3 * 1024 * 1024 + 1)), 413)


class MockUpgrade(MockHost):
    """A WebSocket upgrade on a pods list, against a member that serves
    both: the list, as plain HTTP, never 101; exec still switches."""

    def test_list_is_listed(self):
        req = ("GET /clusters/demo/api/v1/namespaces/shop/pods HTTP/1.1\r\n"
               "Host: x\r\nAuthorization: Bearer %s\r\n"
               "Connection: Upgrade\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n" %
               self.gw.token)
        out, _ = exchange(self.gw, req.encode() +
                          self.get("/healthz", None).replace(
                              b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:300])
        self.assertNotIn(b" 101 ", out)
        self.assertIn(b'"kind":"PodList"', out)
        self.assertTrue(out.endswith(b"ok"), out[-200:])
        exec_req = req.replace(
            "/pods HTTP", "/pods/%s/exec?command=echo&command=hi&stdout=true "
            "HTTP" % self.pod())
        out, _ = exchange(self.gw, exec_req.encode())
        self.assertTrue(out.startswith(b"HTTP/1.1 101 "), out[:300])

    def pod(self):
        # HTTP/1.0: the body is not chunked, the close ends it
        out, _ = exchange(self.gw, (
            "GET /clusters/demo/api/v1/namespaces/shop/pods HTTP/1.0\r\n"
            "Authorization: Bearer %s\r\n\r\n" % self.gw.token).encode())
        body = out.split(b"\r\n\r\n", 1)[1]
        return json.loads(body)["items"][0]["metadata"]["name"]


class AfterUnauthorized(MockHost):
    """A connection that never authenticated is done after its 401: h1
    closes, h2 sends GOAWAY (NO_ERROR, last stream = the 401's) and closes.
    One that did authenticate keeps going."""

    def test_h1_closes_after_401(self):
        out, closed = exchange(self.gw, self.get("/clusters/demo/api", None) +
                               self.get("/clusters/demo/api", None))
        self.assertTrue(out.startswith(b"HTTP/1.1 401 "), out[:200])
        self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)
        self.assertIn(b"connection: close", out.lower())
        self.assertTrue(closed)
        # authenticated first: a later 401 does not end the connection
        out, _ = exchange(self.gw, self.get("/clusters/demo/api",
                                            self.gw.token) +
                          self.get("/clusters/demo/api", "0" * 64) +
                          self.get("/healthz", None))
        self.assertEqual(out.count(b"HTTP/1.1 "), 3, out)
        self.assertIn(b"HTTP/1.1 401 ", out)

    def h2_session(self):
        s = socket.create_connection(("127.0.0.1", self.gw.port), IO_TIMEOUT)
        t = self.gw.tls_context(("h2",)).wrap_socket(
            s, server_hostname="localhost")
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
            client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        t.sendall(conn.data_to_send())
        return t, conn

    def h2_request(self, conn, path, token):
        sid = conn.get_next_available_stream_id()
        headers = [(":method", "GET"), (":scheme", "https"),
                   (":authority", "localhost"), (":path", path)]
        if token:
            headers.append(("authorization", "Bearer " + token))
        conn.send_headers(sid, headers, end_stream=True)
        return sid

    def h2_run(self, t, conn):
        """Reads until the gateway closes; returns (statuses, goaway,
        closed)."""
        statuses, goaway = {}, None
        t.settimeout(3.0)
        deadline = time.monotonic() + IO_TIMEOUT
        while time.monotonic() < deadline:
            out = conn.data_to_send()
            if out:
                t.sendall(out)
            try:
                data = t.recv(65536)
            except socket.timeout:
                return statuses, goaway, False
            except (ssl.SSLError, ConnectionError):
                return statuses, goaway, True
            if not data:
                return statuses, goaway, True
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    statuses[ev.stream_id] = dict(ev.headers)[":status"]
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    goaway = (int(ev.error_code), ev.last_stream_id)
        return statuses, goaway, False

    def test_h2_goaway_after_401(self):
        t, conn = self.h2_session()
        with t:
            sid = self.h2_request(conn, "/clusters/demo/api", None)
            t.sendall(conn.data_to_send())
            statuses, goaway, closed = self.h2_run(t, conn)
        self.assertEqual(statuses.get(sid), "401")
        self.assertEqual(goaway, (0, sid))
        self.assertTrue(closed)
        # authenticated first: a 401 later on the connection ends nothing
        t, conn = self.h2_session()
        with t:
            a = self.h2_request(conn, "/clusters/demo/api", self.gw.token)
            t.sendall(conn.data_to_send())
            statuses = {}
            deadline = time.monotonic() + IO_TIMEOUT
            t.settimeout(IO_TIMEOUT)
            while a not in statuses and time.monotonic() < deadline:
                for ev in conn.receive_data(t.recv(65536)):
                    if isinstance(ev, h2.events.ResponseReceived):
                        statuses[ev.stream_id] = dict(ev.headers)[":status"]
                out = conn.data_to_send()
                if out:
                    t.sendall(out)
            b = self.h2_request(conn, "/clusters/demo/api", "0" * 64)
            c = self.h2_request(conn, "/healthz", None)
            t.sendall(conn.data_to_send())
            got, goaway, closed = self.h2_run(t, conn)
            statuses.update(got)
        self.assertEqual((statuses.get(a), statuses.get(b), statuses.get(c)),
                         ("200", "401", "200"))
        self.assertIsNone(goaway)
        self.assertFalse(closed)


if __name__ == "__main__":
    unittest.main()
