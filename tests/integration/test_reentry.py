"""driver.h's re-entry promise, checked by a driver: the core never calls a
driver op from inside a callback the driver is running. The reentry_probe
test driver counts every op the core calls while one of its callbacks
runs; its answers push the core through backpressure (a 4 MiB answer to a
slow reader, over HTTP/1.1 and HTTP/2), an answer ended inside stream_open,
an error inside stream_write and clients that leave mid-answer. With one
worker the exchange calls the driver itself; with two, half the requests
come through the cross-loop proxy (the probe has one instance)."""
import json
import os
import subprocess
import unittest

from harness import Gateway, plugin_dir

MEMBER = '[member "probe"]\ndriver = reentry_probe\n'


class ReentryTest(unittest.TestCase):
    workers = 1

    @classmethod
    def setUpClass(cls):
        cls.plugins = plugin_dir("reentry_probe.so")
        cls.gw = Gateway(members=[MEMBER], plugin_dir=cls.plugins,
                         extra_gateway="workers = %d\n" % cls.workers)
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        code = cls.gw.stop()
        logs = cls.gw.logs()
        cls.gw.cleanup()
        for name in os.listdir(cls.plugins):
            os.unlink(os.path.join(cls.plugins, name))
        os.rmdir(cls.plugins)
        if code != 0:
            raise AssertionError("fedgate exited %s:\n%s" % (code, logs))

    def curl(self, path, *args, http="--http1.1", timeout="20", data=None):
        cmd = ["curl", "-sS", http, "--max-time", timeout, "--cacert",
               self.gw.ca, "-H", "Authorization: Bearer " + self.gw.token,
               "-o", "-", "-w", "\n%{http_code}", *args,
               self.gw.base + "/clusters/probe" + path]
        return subprocess.run(cmd, capture_output=True, timeout=60,
                              input=data)

    def test_reentry(self):
        for http in ("--http1.1", "--http2"):
            out = self.curl("/flood", "--limit-rate", "4M", http=http)
            self.assertEqual(out.returncode, 0, out.stderr)
            body, _, code = out.stdout.rpartition(b"\n")
            self.assertEqual(code, b"200")
            self.assertEqual(len(body), 4 * 1024 * 1024)
            out = self.curl("/open-end", http=http)
            self.assertEqual(out.stdout, b"{}\n200")
            out = self.curl("/write-error", "-X", "POST", "-H",
                            "Content-Type: application/json",
                            "--data-binary", "@-", http=http,
                            data=b"x" * (1024 * 1024))
            self.assertEqual(out.stdout.rpartition(b"\n")[2], b"400")
            # the client leaves while the answer drips
            out = self.curl("/drip", http=http, timeout="0.3")
            self.assertEqual(out.returncode, 28, out.stderr)
            # and while a large answer is held back by its slowness
            out = self.curl("/flood", "--limit-rate", "100k", http=http,
                            timeout="0.5")
            self.assertEqual(out.returncode, 28, out.stderr)
        # several at once, the last ones cut short
        procs = [subprocess.Popen(
            ["curl", "-sS", "--http2" if i % 2 else "--http1.1",
             "--max-time", "0.4" if i > 3 else "20", "--limit-rate", "8M",
             "--cacert", self.gw.ca, "-H",
             "Authorization: Bearer " + self.gw.token, "-o", os.devnull,
             self.gw.base + "/clusters/probe/flood"],
            stderr=subprocess.DEVNULL) for i in range(8)]
        for p in procs:
            p.wait(timeout=60)
        out = self.curl("/violations")
        body, _, code = out.stdout.rpartition(b"\n")
        self.assertEqual(code, b"200", out.stderr)
        seen = json.loads(body)
        self.assertGreater(seen["ops"], 40)  # the probe did run
        self.assertEqual(seen["violations"], 0, seen)


class ReentryTwoWorkersTest(ReentryTest):
    workers = 2


if __name__ == "__main__":
    unittest.main()
