"""HTTP/2 misbehaviour that nghttp2 1.52 does not limit by itself: floods
of control frames and rapid resets end the connection with GOAWAY
ENHANCE_YOUR_CALM, and the gateway keeps serving everyone else. Frames are
written by hand so the test controls every byte."""
import json
import socket
import struct
import time
import unittest

from harness import GatewayTest

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
WINDOW_UPDATE = 8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
ENHANCE_YOUR_CALM = 11


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def hpack_get(path, token):
    """GET PATH with literal fields (no Huffman, no indexing)."""
    return hpack_request("GET", path, token)


def hpack_request(method, path, token, headers=()):
    """METHOD PATH (https) with HEADERS, all literal fields."""
    def literal(name, value):
        return (b"\x00" + bytes([len(name)]) + name +
                encode_len(len(value)) + value)

    def encode_len(n):  # 7-bit prefix integer, H bit clear
        if n < 127:
            return bytes([n])
        out, n = [127], n - 127
        while n >= 128:
            out.append((n & 0x7f) | 0x80)
            n >>= 7
        return bytes(out + [n])
    fields = [(":path", path), (":authority", "localhost")]
    if token:
        fields.append(("authorization", "Bearer " + token))
    return (literal(b":method", method.encode()) + b"\x87" +
            b"".join(literal(n.encode(), v.encode())
                     for n, v in fields + list(headers)))


class H2Conn:
    def __init__(self, gw, window=None):
        sock = socket.create_connection(("127.0.0.1", gw.port), 10)
        self.tls = gw.tls_context(alpn=("h2",)).wrap_socket(
            sock, server_hostname="localhost")
        assert self.tls.selected_alpn_protocol() == "h2"
        settings = b""
        if window is not None:  # SETTINGS_INITIAL_WINDOW_SIZE
            settings = struct.pack(">HI", 4, window)
        self.tls.sendall(PREFACE + frame(SETTINGS, 0, 0, settings))
        self.buf = b""

    def send(self, data):
        try:
            self.tls.sendall(data)
        except (ConnectionError, OSError):
            pass  # the gateway may close while we still write

    def frames(self, timeout=10.0):
        """Yields (type, flags, stream, payload) until the peer closes."""
        self.tls.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while len(self.buf) >= 9:
                n = struct.unpack(">I", b"\0" + self.buf[:3])[0]
                if len(self.buf) < 9 + n:
                    break
                kind, flags = self.buf[3], self.buf[4]
                stream = struct.unpack(">I", self.buf[5:9])[0] & 0x7fffffff
                payload = self.buf[9:9 + n]
                self.buf = self.buf[9 + n:]
                yield kind, flags, stream, payload
            try:
                chunk = self.tls.recv(65536)
            except (socket.timeout, ConnectionError, OSError):
                return
            if not chunk:
                return
            self.buf += chunk

    def body(self, stream):
        """The DATA of STREAM up to its END_STREAM (SETTINGS acknowledged)."""
        got = b""
        for kind, flags, sid, payload in self.frames():
            if kind == SETTINGS and not flags & ACK:
                self.send(frame(SETTINGS, ACK, 0))
            if kind == DATA and sid == stream:
                got += payload
                if flags & END_STREAM:
                    break
        return got

    def goaway_code(self):
        for kind, _, _, payload in self.frames():
            if kind == GOAWAY:
                return struct.unpack(">I", payload[4:8])[0]
        return None

    def close(self):
        self.tls.close()


class H2LimitsTest(GatewayTest):
    extra_gateway = "h2_max_control_frames = 200\n"

    def conn(self):
        c = H2Conn(self.gw)
        self.addCleanup(c.close)
        return c

    def test_ping_flood(self):
        c = self.conn()
        c.send(b"".join(frame(PING, 0, 0, b"12345678") for _ in range(1000)))
        self.assertEqual(c.goaway_code(), ENHANCE_YOUR_CALM)

    def test_settings_flood(self):
        c = self.conn()
        c.send(b"".join(frame(SETTINGS, 0, 0) for _ in range(1000)))
        self.assertIn(c.goaway_code(), (ENHANCE_YOUR_CALM,))

    def test_rapid_reset(self):
        c = self.conn()
        block = hpack_get("/clusters/demo/api", self.gw.token)
        burst = b""
        for i in range(600):
            sid = 2 * i + 1
            burst += frame(HEADERS, END_STREAM | END_HEADERS, sid, block)
            burst += frame(RST_STREAM, 0, sid, struct.pack(">I", 8))
        c.send(burst)
        self.assertEqual(c.goaway_code(), ENHANCE_YOUR_CALM)

    def test_empty_data_flood(self):
        c = self.conn()
        block = hpack_get("/clusters/demo/api", self.gw.token)
        c.send(frame(HEADERS, END_HEADERS, 1, block) +
               b"".join(frame(DATA, 0, 1) for _ in range(1000)))
        self.assertEqual(c.goaway_code(), ENHANCE_YOUR_CALM)

    def test_window_update_flood(self):
        c = self.conn()
        c.send(b"".join(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1))
                        for _ in range(1000)))
        self.assertEqual(c.goaway_code(), ENHANCE_YOUR_CALM)

    def test_small_windows_read_a_large_answer(self):
        # A client with a 512-byte window returns credit after every DATA
        # frame: hundreds of WINDOW_UPDATEs, all earned, none a flood.
        c = H2Conn(self.gw, window=512)
        self.addCleanup(c.close)
        c.send(frame(HEADERS, END_STREAM | END_HEADERS, 1,
                     hpack_get("/clusters/demo/api/v1/pods", self.gw.token)))
        got, updates = b"", 0
        for kind, flags, stream, payload in c.frames():
            self.assertNotEqual(kind, GOAWAY, payload)
            if kind == DATA and stream == 1:
                got += payload
                if payload:
                    inc = struct.pack(">I", len(payload))
                    c.send(frame(WINDOW_UPDATE, 0, 0, inc) +
                           frame(WINDOW_UPDATE, 0, 1, inc))
                    updates += 2
                if flags & END_STREAM:
                    break
        self.assertGreater(updates, 200)
        self.assertEqual(json.loads(got)["kind"], "PodList")

    def test_a_well_behaved_stream_works(self):
        c = self.conn()
        c.send(frame(HEADERS, END_STREAM | END_HEADERS, 1,
                     hpack_get("/clusters/demo/api", self.gw.token)))
        self.assertIn(b'"kind":"APIVersions"', c.body(1))

    def test_others_are_served_during_a_flood(self):
        c = self.conn()
        c.send(b"".join(frame(PING, 0, 0, b"12345678") for _ in range(1000)))
        code, version, _ = self.curl("/clusters/demo/api", http="--http2")
        self.assertEqual((code, version), (200, "2"))
        self.assertEqual(c.goaway_code(), ENHANCE_YOUR_CALM)


class WorkersTest(GatewayTest):
    """Two workers share the port (SO_REUSEPORT); both answer, /metrics
    sums nothing away, and SIGTERM stops both (exit 0 checked at teardown)."""
    extra_gateway = "workers = 2\n"

    def test_many_connections_are_served(self):
        for _ in range(20):
            code, _, _ = self.curl("/clusters/demo/api/v1/pods")
            self.assertEqual(code, 200)
        code, _, body = self.curl("/metrics")
        total = sum(int(line.rsplit(" ", 1)[1]) for line in body.splitlines()
                    if line.startswith('fedgate_requests_total{member="demo"'))
        self.assertEqual(total, 20)


if __name__ == "__main__":
    unittest.main()
