"""A direct member's connection lasts while requests use it.

Each member has its own direct_upstream.py, which records every TLS
connection it accepts and when it ends, so the test sees exactly what the
gateway holds open:

* quiet (HTTP/2, connection_idle_timeout = 60s): the health probe dials,
  probes, and lets the connection go at once (long before 60 s); a
  client's request dials again, and the next probe round then reuses that
  connection and keeps it (the member is in use);
* brief (HTTP/2) and brief1 (HTTP/1.1), connection_idle_timeout = 1s: a
  request's connection closes about a second after it, between two probe
  rounds (which are 7.5 s or more apart), and the next request dials a new
  one and is answered;
* all along, /metrics says each member is ready.
Every process is stopped by its pid."""
import os
import tempfile
import time
import unittest

from harness import wait_for
from test_direct import Base, Upstream, direct_member, make_cert


def opened(up):
    return sum(1 for r in up.records() if r.get("conn") == "open")


def closed(up):
    return sum(1 for r in up.records() if r.get("conn") == "closed")


def readyz(up):
    """Probe rounds the member was asked: each starts with /readyz."""
    return sum(1 for r in up.records() if r.get("path") == "/readyz")


def rounds(up):
    """Probe rounds the member answered: each ends with the node count."""
    return sum(1 for r in up.records() if r.get("path", "").startswith(
        "/api/v1/nodes"))


class IdleConnections(Base):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-direct-idle-")
        crt, key = make_cert(cls.tmp, "up")
        tok = os.path.join(cls.tmp, "token")
        with open(tok, "w") as f:
            f.write("member-token\n")
        cls.ups = {n: Upstream(cls.tmp, crt, key).start()
                   for n in ("quiet", "brief", "brief1")}
        keys = {"quiet": "connection_idle_timeout = 60s\n",
                "brief": "connection_idle_timeout = 1s\n",
                "brief1": "connection_idle_timeout = 1s\nhttp2 = false\n"}
        cls.start_host(list(cls.ups.values()), [
            direct_member(n, cls.ups[n].port, crt, tok, keys[n])
            for n in cls.ups])

    @classmethod
    def tearDownClass(cls):
        cls.stop_host()

    def all_ready(self):
        code, text, _ = self.curl(self.host, "/metrics")
        return code == 200 and all(
            'fedgate_member_ready{member="%s"} 1' % n in text
            for n in self.ups)

    def get_version(self, member):
        code, text, out = self.curl(self.host,
                                    "/clusters/%s/version" % member)
        self.assertEqual(code, 200, (text, out.stderr))

    def test_probe_lets_a_quiet_members_connection_go(self):
        up = self.ups["quiet"]
        wait_for(lambda: rounds(up) >= 1, 30, "the first probe round")
        # 60 s of connection_idle_timeout: only the probe closes it now
        wait_for(lambda: opened(up) >= 1 and closed(up) == opened(up), 20,
                 "the probe's connection closed")
        wait_for(self.all_ready, 30, "every member ready in /metrics")
        # right after a round (the next is 7.5 s or more away), so that no
        # probe's connection is open or about to be when the request comes
        done = rounds(up)
        wait_for(lambda: rounds(up) > done, 30, "a probe round")
        wait_for(lambda: closed(up) == opened(up), 10,
                 "the probe's connection closed")
        before = opened(up)
        self.get_version("quiet")
        self.assertEqual(opened(up), before + 1)
        # the member is in use now: the next round keeps its connection
        done = rounds(up)
        wait_for(lambda: rounds(up) > done, 30, "the next probe round")
        time.sleep(0.5)
        self.assertEqual(opened(up), before + 1, up.records())
        self.assertEqual(closed(up), opened(up) - 1, up.records())
        self.assertTrue(self.all_ready())

    def check_brief(self, name, alpn):
        up = self.ups[name]
        wait_for(lambda: rounds(up) >= 1, 30, "the first probe round")
        for _ in range(2):
            # right after a round: the next is 7.5 s or more away
            done = rounds(up)
            wait_for(lambda: rounds(up) > done, 30, "a probe round")
            wait_for(lambda: closed(up) == opened(up), 10,
                     "the probe's connection closed")
            before, asked = opened(up), readyz(up)
            self.get_version(name)
            self.assertEqual(opened(up), before + 1)
            wait_for(lambda: closed(up) == opened(up), 10,
                     "the idle connection closed")
            # no probe came in between: the idle limit closed it
            self.assertEqual(readyz(up), asked, up.records())
        alpns = [r["alpn"] for r in up.records() if r.get("conn") == "open"]
        self.assertEqual(set(alpns), {alpn})
        wait_for(self.all_ready, 30, "every member ready in /metrics")

    def test_h2_connection_closes_when_idle(self):
        self.check_brief("brief", "h2")

    def test_h1_pool_closes_when_idle(self):
        self.check_brief("brief1", "http/1.1")


if __name__ == "__main__":
    unittest.main()
