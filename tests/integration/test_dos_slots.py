"""Connection slots an unauthenticated client cannot take from everyone
else: a cap per source address, eviction of the oldest idle
unauthenticated connection when max_connections is reached, and a short
keep-alive for connections no request on which was authenticated."""
import socket
import ssl
import time
import unittest

from harness import GatewayTest, wait_for
from test_h2_limits import GOAWAY, H2Conn


def tls_conn(gw, source="127.0.0.1", alpn=("http/1.1",)):
    """A handshaken TLS connection from SOURCE (any 127/8 address)."""
    raw = socket.create_connection(("127.0.0.1", gw.port), 10,
                                   source_address=(source, 0))
    return gw.tls_context(alpn).wrap_socket(raw, server_hostname="localhost")


def refused(gw, source="127.0.0.1"):
    """Whether a new connection from SOURCE is closed before it is served:
    the handshake fails, or the first request gets no answer."""
    try:
        t = tls_conn(gw, source)
    except (ssl.SSLError, OSError):
        return True
    try:
        t.settimeout(5)
        t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        return not t.recv(100)
    except (ssl.SSLError, OSError):
        return True
    finally:
        t.close()


def closed_within(sock, seconds):
    """Whether the gateway closes SOCK within SECONDS."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except socket.timeout:
        return False
    except (ssl.SSLError, OSError):
        return True


def get(sock, path, token):
    """One keep-alive GET on SOCK; returns the status code."""
    sock.settimeout(10)
    sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
                  "Bearer %s\r\n\r\n" % (path, token)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
              if line.lower().startswith(b"content-length:")][0]
    while len(body) < length:
        body += sock.recv(4096)
    return int(head.split()[1])


def metric(test, name):
    _, _, body = test.curl("/metrics")
    for line in body.splitlines():
        if line.startswith(name + " "):
            return int(line.rsplit(" ", 1)[1])
    raise AssertionError("no %s in /metrics" % name)


class PerSourceCapTest(GatewayTest):
    extra_gateway = "max_connections_per_source = 4\n"

    def test_one_source_cannot_take_every_slot(self):
        held = [tls_conn(self.gw) for _ in range(4)]
        try:
            self.assertTrue(refused(self.gw))
            # another address is another source
            self.assertFalse(refused(self.gw, "127.0.0.2"))
            held.pop().close()
            wait_for(lambda: not refused(self.gw), 10,
                     "a slot of 127.0.0.1 to be free again")
        finally:
            for t in held:
                t.close()
        wait_for(lambda: not refused(self.gw), 10, "the slots to be free")
        self.assertGreaterEqual(
            metric(self, 'fedgate_connections_rejected_total'
                         '{reason="per_source"}'), 1)


class EvictionTest(GatewayTest):
    extra_gateway = ("max_connections = 6\nmax_connections_per_source = 0\n"
                     "header_timeout = 60s\n")

    def setUp(self):
        # the last test's connections are gone (this scrape is the one left)
        wait_for(lambda: metric(self, "fedgate_connections_open") == 1, 10,
                 "the connections of the last test to close")

    def test_idle_unauthenticated_connections_make_room(self):
        authed = tls_conn(self.gw)
        self.addCleanup(authed.close)
        self.assertEqual(get(authed, "/clusters/demo/api", self.gw.token), 200)
        idle = []
        for _ in range(5):  # every slot taken, none with a request
            idle.append(tls_conn(self.gw))
            self.addCleanup(idle[-1].close)
        # An authenticated client still gets through, whatever it takes.
        self.kubectl("get", "namespaces")
        code, _, _ = self.curl("/clusters/demo/api/v1/namespaces")
        self.assertEqual(code, 200)
        # The oldest idle ones made room; the authenticated one stays.
        self.assertTrue(closed_within(idle[0], 5))
        self.assertEqual(get(authed, "/clusters/demo/api", self.gw.token), 200)
        self.assertGreaterEqual(
            metric(self, "fedgate_connections_evicted_total"), 1)

    def test_authenticated_connections_are_not_evicted(self):
        authed = []
        for _ in range(6):
            authed.append(tls_conn(self.gw))
            self.addCleanup(authed[-1].close)
            self.assertEqual(get(authed[-1], "/clusters/demo/api",
                                 self.gw.token), 200)
        self.assertTrue(refused(self.gw))
        for t in authed:
            self.assertEqual(get(t, "/clusters/demo/api", self.gw.token), 200)
        authed.pop().close()
        wait_for(lambda: not refused(self.gw), 10, "a free slot")


class UnauthenticatedIdleTest(GatewayTest):
    extra_gateway = "unauthenticated_idle_timeout = 1s\n"

    def test_h1_after_a_401_is_closed_soon(self):
        t = tls_conn(self.gw)
        self.addCleanup(t.close)
        self.assertEqual(get(t, "/clusters/demo/api", "wrong"), 401)
        started = time.monotonic()
        self.assertTrue(closed_within(t, 10))
        self.assertLess(time.monotonic() - started, 5)

    def test_h1_authenticated_keeps_idle_timeout(self):
        t = tls_conn(self.gw)
        self.addCleanup(t.close)
        self.assertEqual(get(t, "/clusters/demo/api", self.gw.token), 200)
        self.assertFalse(closed_within(t, 3))
        self.assertEqual(get(t, "/clusters/demo/api", self.gw.token), 200)

    def test_h2_without_a_request_is_closed_soon(self):
        c = H2Conn(self.gw)
        self.addCleanup(c.close)
        started = time.monotonic()
        kinds = [kind for kind, _, _, _ in c.frames(timeout=10)]
        self.assertIn(GOAWAY, kinds)
        self.assertLess(time.monotonic() - started, 5)


if __name__ == "__main__":
    unittest.main()
