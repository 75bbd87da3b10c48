"""The SDK as a plugin author uses it: install fedgate to a prefix, build
sdk/examples/echo-driver out of tree with `pkg-config fedgate-sdk`, load it
into a running gateway, and check what a member would receive: never the
client's credentials, impersonation or hop-by-hop headers."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Gateway, SOURCE_DIR, mock_member

BINARY_DIR = os.environ.get("FG_BINARY_DIR", "")


def run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if out.returncode != 0:
        raise AssertionError("%s failed:\n%s%s" % (" ".join(cmd), out.stdout,
                                                    out.stderr))
    return out


class SdkExampleTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-sdk-")
        prefix = os.path.join(cls.tmp, "prefix")
        run(["cmake", "--install", BINARY_DIR, "--prefix", prefix])
        pcs = glob.glob(os.path.join(prefix, "**", "fedgate-sdk.pc"),
                        recursive=True)
        assert pcs, "fedgate-sdk.pc was not installed"
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
        build = os.path.join(cls.tmp, "echo-build")
        run(["cmake", "-S", os.path.join(SOURCE_DIR, "sdk", "examples",
                                         "echo-driver"), "-B", build], env=env)
        run(["cmake", "--build", build], env=env)
        # The installed daemon finds its own plugins; echo goes beside them.
        plugins = glob.glob(os.path.join(prefix, "**", "fedgate", "plugins"),
                            recursive=True)[0]
        shutil.copy(os.path.join(build, "echo.so"), plugins)
        harness.FEDGATE = os.path.join(prefix, "bin", "fedgate")
        cls.gw = Gateway(members=[
            '[member "echo"]\ndriver = echo\ngreeting = hi\n',
            mock_member("demo", "demo.json")]).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.gw.stop()
        logs = cls.gw.logs()
        cls.gw.cleanup()
        harness.FEDGATE = os.environ.get("FEDGATE_BIN", "fedgate")
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if code != 0:
            raise AssertionError("fedgate exited %s:\n%s" % (code, logs))

    def echo(self, http, *headers):
        cmd = ["curl", "-sS", http, "--max-time", "20", "--cacert",
               self.gw.ca, "-H", "Authorization: Bearer " + self.gw.token]
        for h in headers:
            cmd += ["-H", h]
        cmd.append(self.gw.base + "/clusters/echo/some/./path?x=1&y=%2F")
        return json.loads(run(cmd).stdout)

    def test_member_sees_only_what_it_should(self):
        for http in ("--http1.1", "--http2"):
            seen = self.echo(http, "Impersonate-User: mallory",
                             "impersonate-group: system:masters",
                             "IMPERSONATE-UID: 0",
                             "Impersonate-Extra-scopes: all",
                             "X-Remote-User: mallory",
                             "Connection: X-Secret",
                             "X-Secret: do-not-forward",
                             "Proxy-Authorization: Basic eDp5",
                             "X-Keep: yes")
            names = [name for name, _ in seen["headers"]]
            self.assertEqual(seen["greeting"], "hi")
            self.assertEqual(seen["path"], "/some/path")
            self.assertEqual(seen["query"], "x=1&y=%2F")
            # The chain has no authorizer, so the admin may impersonate:
            # the driver gets the identity the gateway built from the
            # Impersonate-* headers (kube-apiserver's groups: the one asked
            # and system:authenticated), never the headers themselves.
            self.assertEqual(seen["user"], "mallory")
            self.assertEqual(seen["groups"],
                             ["system:masters", "system:authenticated"])
            self.assertIn("x-keep", names, http)
            if http == "--http1.1":
                # HTTP/2 has no Connection header to name others with.
                self.assertNotIn("x-secret", names)
            for bad in names:
                self.assertFalse(
                    bad.startswith("impersonate-") or bad.startswith("x-remote-")
                    or bad in ("authorization", "proxy-authorization",
                               "connection", "host", "te",
                               "transfer-encoding", "upgrade", "keep-alive"),
                    "%s reached the member over %s" % (bad, http))

    def test_body_is_streamed_to_the_driver(self):
        cmd = ["curl", "-sS", "--http1.1", "--max-time", "20", "--cacert",
               self.gw.ca, "-H", "Authorization: Bearer " + self.gw.token,
               "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
               self.gw.base + "/clusters/echo/upload"]
        out = run(cmd, input="x" * 300000)
        self.assertEqual(json.loads(out.stdout)["body_bytes"], 300000)

    def test_mock_loads_beside_it(self):
        out = run(["curl", "-sS", "--cacert", self.gw.ca, "-H",
                   "Authorization: Bearer " + self.gw.token,
                   self.gw.base + "/clusters/demo/api/v1/namespaces"])
        self.assertEqual(json.loads(out.stdout)["kind"], "NamespaceList")


if __name__ == "__main__":
    unittest.main()
