"""What the authenticate plugins' integration tests share: a gateway with
the policy_probe authorizer (allow; it writes down who each request ran
as), a scratch directory, curl on a member's namespaces, and a check that
the gateway exits 0."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import plugin_dir

NAMESPACES = "/clusters/demo/api/v1/namespaces"


def probe_section(log):
    return ('[plugin "probe"]\nplugin = policy_probe\nlog_file = %s\n'
            'authorize = allow\n' % log)


class AuthnTest(unittest.TestCase):
    gw = None

    @classmethod
    def setUpClass(cls):
        cls.plugins = plugin_dir("policy_probe.so")
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-authn-")
        cls.log = os.path.join(cls.tmp, "probe.log")

    @classmethod
    def tearDownClass(cls):
        code = cls.gw.stop() if cls.gw else 0
        logs = cls.gw.logs() if cls.gw else ""
        if cls.gw:
            cls.gw.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        shutil.rmtree(cls.plugins, ignore_errors=True)
        if code != 0:
            raise AssertionError("fedgate exited %s:\n%s" % (code, logs))

    def curl(self, *args):
        """GET NAMESPACES with curl's ARGS: (HTTP status, body)."""
        out = subprocess.run(
            ["curl", "-sS", "--http1.1", "--max-time", "20", "--cacert",
             self.gw.ca, *args, "-w", "\n%{http_code}",
             self.gw.base + NAMESPACES],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), body

    def authorized(self):
        """The user=... and groups=... of each request the probe saw."""
        try:
            with open(self.log) as f:
                return [" ".join(w for w in line.split()
                                 if w.startswith(("user=", "groups=")))
                        for line in f if line.startswith("authorize")]
        except FileNotFoundError:
            return []
