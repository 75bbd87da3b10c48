"""A direct member's HTTP/2 connections: their flow-control window and how
many the gateway opens.

Each member has its own direct_upstream.py, which records every TLS
connection (with an id), every request with the connection it came on and
that connection's send window when it arrived:

* wide (max_streams 100, the default) and narrow (max_streams = 4): the
  connection window the gateway grants is max_streams x its 256 KiB
  stream window (26,214,400 and 1,048,576 bytes), not a fixed size;
* limited: the upstream advertises MAX_CONCURRENT_STREAMS = 2; ten slow
  requests at once are served on more than one connection (at most
  max_connections = 4), never more than two streams on one, all answered,
  and once idle (connection_idle_timeout = 1s) every connection closes.
Every process is stopped by its pid."""
import os
import tempfile
import threading
import unittest

from harness import wait_for
from test_direct import Base, Upstream, direct_member, make_cert

STREAM_WINDOW = 256 * 1024


def first_requests(up):
    """The first request record of each connection."""
    seen, out = set(), []
    for r in up.records():
        cid = r.get("conn_id")
        if "path" in r and cid is not None and cid not in seen:
            seen.add(cid)
            out.append(r)
    return out


class Connections(Base):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-direct-conns-")
        crt, key = make_cert(cls.tmp, "up")
        tok = os.path.join(cls.tmp, "token")
        with open(tok, "w") as f:
            f.write("member-token\n")
        cls.ups = {"wide": Upstream(cls.tmp, crt, key).start(),
                   "narrow": Upstream(cls.tmp, crt, key).start(),
                   "limited": Upstream(cls.tmp, crt, key,
                                       "--max-streams", "2").start()}
        keys = {"wide": "",
                "narrow": "max_streams = 4\n",
                "limited": "connection_idle_timeout = 1s\n"}
        cls.start_host(list(cls.ups.values()), [
            direct_member(n, cls.ups[n].port, crt, tok, keys[n])
            for n in cls.ups])

    @classmethod
    def tearDownClass(cls):
        cls.stop_host()

    def get(self, member, path):
        code, text, out = self.curl(self.host,
                                    "/clusters/%s%s" % (member, path))
        self.assertEqual(code, 200, (text, out.stderr))
        return text

    def test_connection_window_follows_max_streams(self):
        for name, streams in (("wide", 100), ("narrow", 4)):
            up = self.ups[name]
            self.get(name, "/version")
            firsts = first_requests(up)
            self.assertTrue(firsts, up.records())
            for r in firsts:
                self.assertEqual(r["conn_window"], streams * STREAM_WINDOW,
                                 (name, r))

    def test_more_connections_at_the_stream_limit(self):
        up = self.ups["limited"]
        results = []

        def fetch():
            code, text, out = self.curl(self.host,
                                        "/clusters/limited/drip?count=2")
            results.append((code, text.rpartition("\n\n")[2]))

        threads = [threading.Thread(target=fetch) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(results, [(200, "..")] * 10)
        drips = [r for r in up.records()
                 if r.get("path", "").startswith("/drip")]
        self.assertEqual(len(drips), 10, drips)
        used = {r["conn_id"] for r in drips}
        self.assertGreater(len(used), 1, drips)
        # at most max_connections at once (the upstream refuses a third
        # stream on a connection: all were answered)
        peak, live = 0, set()
        for r in up.records():
            if r.get("conn") == "open":
                live.add(r["id"])
                peak = max(peak, len(live))
            elif r.get("conn") == "closed":
                live.discard(r["id"])
        self.assertLessEqual(peak, 4 + 1, up.records())  # + a probe's
        for r in up.records():
            if r.get("end", "").startswith("/drip"):
                self.assertEqual(r["how"], "complete", r)
        # idle: every connection goes (connection_idle_timeout = 1s)
        wait_for(lambda: all(
            any(r.get("conn") == "closed" and r["id"] == cid
                for r in up.records()) for cid in used), 20,
            "the idle connections closed")


if __name__ == "__main__":
    unittest.main()
