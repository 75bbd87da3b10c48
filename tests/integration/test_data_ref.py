"""data_ref without a copy: a driver's buffers are written to the client
as they are, and each is given back exactly once, whether its bytes were
written, dropped (HEAD), or still queued when the client went away, over
HTTP/1.1 (content-length and chunked) and HTTP/2. The driver is
tests/plugins/ref_driver, which overwrites a buffer it handed over if the
core has not given it back yet: the client reading the overwritten bytes
proves the core wrote from the driver's buffer, not from a copy. A piece
of at most 4 KiB (FG_BODY_COPY_MAX) is copied on purpose: a reference is a
TLS record and a write() of its own."""
import json
import shutil
import subprocess
import unittest

from harness import GatewayTest, plugin_dir, wait_for

BIG = 64 * 1024 * 1024  # far more than the gateway buffers for one stream
PIECE = 16384  # ref_driver's pieces
COPY_MAX = 4096  # core/http/body_ref.h


def expected(n):
    """The body of N bytes: pieces written from the driver's buffers ('r'),
    a last piece small enough to be copied ('c')."""
    tail = n % PIECE
    if 0 < tail <= COPY_MAX:
        return "r" * (n - tail) + "c" * tail
    return "r" * n


class DataRefTest(GatewayTest):

    members = ['[member "ref"]\ndriver = ref_driver\n']

    @classmethod
    def setUpClass(cls):
        cls.plugin_dir = plugin_dir("ref_driver.so")
        try:
            super().setUpClass()
        except Exception:
            shutil.rmtree(cls.plugin_dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.plugin_dir, ignore_errors=True)

    def counts(self):
        code, _, body = self.curl("/clusters/ref/counts")
        self.assertEqual(code, 200, body)
        return json.loads(body)

    def assert_all_given_back(self):
        """Every buffer handed over comes back once (the core frees the
        ones it dropped as the connection is torn down, on the loop)."""
        last = {}

        def settled():
            last.update(self.counts())
            return last["freed"] == last["handed"]
        wait_for(settled, 10, "every buffer to be given back: %s" % last)
        self.assertEqual(last["bad"], 0, last)
        return last

    def fetch(self, path, http):
        code, version, body = self.curl(path, http=http)
        self.assertEqual(code, 200, body[:200])
        return version, body

    def test_h1_body_with_length_is_the_drivers_buffers(self):
        before = self.counts()["handed"]
        version, body = self.fetch("/clusters/ref/bytes?n=1000000",
                                   "--http1.1")
        self.assertEqual(version, "1.1")
        self.assertEqual(len(body), 1000000)
        self.assertEqual(body, expected(1000000))
        after = self.assert_all_given_back()
        self.assertEqual(after["handed"] - before, (1000000 + 16383) // 16384)

    def test_h1_chunked_body_is_the_drivers_buffers(self):
        version, body = self.fetch("/clusters/ref/chunks?n=300000",
                                   "--http1.1")
        self.assertEqual(body, expected(300000))
        self.assert_all_given_back()

    def test_h2_body_is_the_drivers_buffers(self):
        version, body = self.fetch("/clusters/ref/bytes?n=1000000",
                                   "--http2")
        self.assertEqual(version, "2")
        self.assertEqual(body, expected(1000000))
        self.assert_all_given_back()

    def test_small_bodies_are_copied(self):
        for n, http in ((COPY_MAX, "--http1.1"), (COPY_MAX, "--http2"),
                        (COPY_MAX + 1, "--http1.1"), (COPY_MAX + 1, "--http2"),
                        (1, "--http2")):
            _, body = self.fetch("/clusters/ref/bytes?n=%d" % n, http)
            self.assertEqual(body, expected(n), (n, http))
        self.assert_all_given_back()

    def test_head_drops_the_buffers_and_gives_them_back(self):
        for http in ("--http1.1", "--http2"):
            code, _, body = self.curl("/clusters/ref/bytes?n=100000", "-I",
                                      http=http)
            self.assertEqual(code, 200)
            self.assertIn("content-length: 100000", body.lower())
        self.assert_all_given_back()

    def gone_mid_answer(self, http):
        """A client that reads slowly and gives up: the driver was paused
        (FG_PAUSE past stream_buffer_bytes) and what was still queued for
        the client is given back when the gateway lets go of it."""
        before = self.counts()
        cmd = ["curl", "-sS", http, "--max-time", "1", "--limit-rate", "64K",
               "--cacert", self.gw.ca, "-o", "/dev/null",
               "-H", "Authorization: Bearer " + self.gw.token,
               self.gw.base + "/clusters/ref/bytes?n=%d" % BIG]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 28, out.stderr)  # timed out
        after = self.assert_all_given_back()
        self.assertGreater(after["paused"], before["paused"])
        self.assertLess(after["handed"] - before["handed"], BIG // 16384)

    def test_h1_client_gone_mid_answer(self):
        self.gone_mid_answer("--http1.1")

    def test_h2_client_gone_mid_answer(self):
        self.gone_mid_answer("--http2")


if __name__ == "__main__":
    unittest.main()
