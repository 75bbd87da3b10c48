"""kubectl cp both ways with the demo mock member's pods: into the pod
(`tar xmf - -C DIR` over exec, after `test -d`) and back out (`tar cf -
PATH`), a binary file and a directory round-tripping byte for byte,
then `cat` of the copied file; over WebSocket and over SPDY/3.1
(KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false), straight to the mock and
through a direct member. A missing path is tar's error (kubectl cp shows
only the exit code). Every process is
stopped by its pid."""
import filecmp
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import GatewayTest
from test_direct_tour import PairTest

POD = "redis-1"


class CpCases:
    """The cases, for a class whose target() names the gateway and the
    kubeconfig context."""

    def kubectl(self, *args, websockets=True, check=True):
        gw, context = self.target()
        env = dict(os.environ, KUBECTL_REMOTE_COMMAND_WEBSOCKETS=(
            "true" if websockets else "false"))
        out = subprocess.run(
            ["kubectl", "--kubeconfig", gw.kubeconfig, "--context", context,
             "--request-timeout=20s", "-n", "shop"] + list(args),
            capture_output=True, timeout=60, env=env)
        if check:
            self.assertEqual(out.returncode, 0, out.stderr)
        return out

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fedgate-cp-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def round_trip(self, websockets, tag):
        src = os.path.join(self.tmp, "blob-" + tag)
        data = os.urandom(300000)
        with open(src, "wb") as f:
            f.write(data)
        self.kubectl("cp", src, "%s:/tmp/blob-%s" % (POD, tag),
                     websockets=websockets)
        back = os.path.join(self.tmp, "back-" + tag)
        self.kubectl("cp", "%s:/tmp/blob-%s" % (POD, tag), back,
                     websockets=websockets)
        with open(back, "rb") as f:
            self.assertEqual(f.read(), data)
        # a directory, into an existing directory of the pod
        d = os.path.join(self.tmp, "dir-" + tag)
        os.makedirs(os.path.join(d, "sub"))
        for name, text in (("a.txt", "alpha\n"), ("sub/b.txt", "beta\n")):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        self.kubectl("cp", d, "%s:/data/dir-%s" % (POD, tag),
                     websockets=websockets)
        out = self.kubectl("exec", POD, "--", "cat",
                           "/data/dir-%s/sub/b.txt" % tag,
                           websockets=websockets)
        self.assertEqual(out.stdout, b"beta\n")
        back = os.path.join(self.tmp, "dir-back-" + tag)
        self.kubectl("cp", "%s:/data/dir-%s" % (POD, tag), back,
                     websockets=websockets)
        cmp = filecmp.dircmp(d, back)
        self.assertEqual(sorted(cmp.common), ["a.txt", "sub"])
        self.assertEqual(cmp.diff_files, [])
        with open(os.path.join(back, "sub", "b.txt")) as f:
            self.assertEqual(f.read(), "beta\n")

    def test_round_trip_over_websocket(self):
        self.round_trip(True, "ws")

    def test_round_trip_over_spdy(self):
        self.round_trip(False, "spdy")

    def test_missing_path(self):
        out = self.kubectl("cp", "%s:/tmp/nothing-here" % POD,
                           os.path.join(self.tmp, "x"), check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(b"command terminated with exit code 2", out.stderr)
        out = self.kubectl("exec", POD, "--", "tar", "cf", "-",
                           "/tmp/nothing-here", check=False)
        self.assertEqual(out.returncode, 2)
        self.assertIn(b"tar: tmp/nothing-here: Cannot stat: No such file or "
                      b"directory", out.stderr)
        self.assertEqual(out.stdout, b"")
        out = self.kubectl("exec", POD, "--", "cat", "/tmp/nothing-here",
                           check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn(b"No such file or directory", out.stderr)


class MockCpTest(CpCases, GatewayTest):
    """Through the host to its mock member "demo"."""

    def target(self):
        return self.gw, "demo"


class DirectCpTest(CpCases, PairTest):
    """Through the host's direct member "edge" to a member-role gateway
    serving the demo mock."""


if __name__ == "__main__":
    unittest.main()
