"""An idle HTTP/2 connection: after a second without a stream the gateway
gives its frame buffer's pages back; the connection goes on serving
requests and control frames as before, and still ends with GOAWAY
NO_ERROR once idle_timeout has passed since its last stream."""
import json
import struct
import time
import unittest

from harness import GatewayTest
from test_h2_limits import (ACK, END_HEADERS, END_STREAM, GOAWAY, HEADERS,
                            PING, H2Conn, frame, hpack_get)

API = "/clusters/demo/api"


class H2IdleTest(GatewayTest):
    extra_gateway = "idle_timeout = 4s\n"

    def get(self, c, stream):
        c.send(frame(HEADERS, END_STREAM | END_HEADERS, stream,
                     hpack_get(API, self.gw.token)))
        return json.loads(c.body(stream))

    def test_served_across_the_release_then_closed_at_idle_timeout(self):
        c = H2Conn(self.gw)
        self.addCleanup(c.close)
        first = self.get(c, 1)
        self.assertEqual(first["kind"], "APIVersions")
        time.sleep(1.5)  # past the release
        self.assertEqual(self.get(c, 3), first)
        time.sleep(1.5)  # released again after that stream
        c.send(frame(PING, 0, 0, b"fedgate!"))
        started = time.monotonic()
        seen = []
        for kind, flags, _, payload in c.frames(timeout=10):
            if kind == PING and flags & ACK:
                seen.append(("pong", payload))
            elif kind == GOAWAY:
                seen.append(("goaway", struct.unpack(">I", payload[4:8])[0]))
                break
        self.assertEqual(seen, [("pong", b"fedgate!"), ("goaway", 0)])
        # idle_timeout counts from the last stream's end, about 3 s before
        self.assertLess(time.monotonic() - started, 3)

if __name__ == "__main__":
    unittest.main()
