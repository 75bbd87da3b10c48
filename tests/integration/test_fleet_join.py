"""fedgatectl join and unjoin: a direct member (a member-role fedgate)
joined in one command, checked against the member first: a wrong CA, a
wrong token, an unreachable server, a taken name or a bad label is
refused with the reason and nothing is written; a joined member is Ready
with its version on kubectl get clusters; unjoin removes it again, also
once its cluster is gone, and refuses a member conf.d declares itself."""
import json
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import FEDGATE, Gateway, mock_member, wait_for

FEDGATECTL = os.path.join(os.path.dirname(FEDGATE), "fedgatectl")


class Join(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.member = Gateway(members=[mock_member("edge", "demo.json")],
                             role="member").start()
        cls.host = Gateway(extra_gateway="health_interval = 300ms\n")
        try:
            cls.host.start()
        except Exception:
            cls.member.stop()
            cls.member.cleanup()
            raise
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-join-")
        cls.token = os.path.join(cls.member.state, "admin.token")
        cls.wrong = os.path.join(cls.tmp, "wrong.token")
        with open(cls.wrong, "w") as f:
            f.write("0" * 64 + "\n")

    @classmethod
    def tearDownClass(cls):
        codes = [cls.host.stop(), cls.member.stop()]
        logs = cls.host.logs()
        cls.host.cleanup()
        cls.member.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if codes[0] != 0:
            raise AssertionError("fedgate exited %s:\n%s" % (codes, logs))

    def ctl(self, *args):
        return subprocess.run([FEDGATECTL, *args, "-c", self.host.conf],
                              capture_output=True, text=True, timeout=90)

    def join(self, name, *extra, server=None, ca=None, token=None):
        return self.ctl("join", name, "--direct", "--server",
                        server or "https://127.0.0.1:%d" % self.member.port,
                        "--ca-file", ca or self.member.ca, "--token-file",
                        token or self.token, *extra)

    def written(self):
        d = os.path.join(self.host.conf, "members")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def clusters(self):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
             "fedgate.fleet", "get", "clusters", "-o", "json"],
            capture_output=True, text=True, timeout=60, check=True)
        return {c["metadata"]["name"]: c
                for c in json.loads(out.stdout)["items"]}

    def test_1_refusals_leave_nothing(self):
        cases = [
            (self.join("edge2", ca=self.host.ca), "TLS with 127.0.0.1"),
            (self.join("edge2", token=self.wrong),
             "answered /version with 401"),
            (self.join("edge2", server="https://127.0.0.1:1"),
             "cannot connect"),
            (self.join("demo"), "already declares member \"demo\""),
        ]
        for out, why in cases:
            self.assertEqual(out.returncode, 1, out.stderr)
            self.assertIn("refused", out.stderr)
            self.assertIn(why, out.stderr)
            self.assertEqual(self.written(), [])
        for bad in (["--label", "-x=y"], ["--label", "a=b,c=d"],
                    ["--provider", "no way"]):
            out = self.join("edge2", *bad)
            self.assertEqual(out.returncode, 2, (bad, out.stderr))
            self.assertEqual(self.written(), [])
        for args in (["join", "Bad_Name", "--direct"], ["join", "x"],
                     ["join", "x", "--direct", "--server", "http://a",
                      "--ca-file", "f", "--token-file", "t"],
                     ["unjoin"]):
            self.assertEqual(self.ctl(*args).returncode, 2, args)
        self.assertNotIn("edge2", self.clusters())

    def test_2_join_and_unjoin(self):
        out = self.join("edge2", "--label", "env=lab", "--provider", "kind")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('joined "edge2"', out.stderr)
        members = os.path.join(self.host.conf, "members")
        self.assertEqual(self.written(), ["edge2", "edge2.ini"])
        for name in ("ca.crt", "token"):
            mode = os.stat(os.path.join(members, "edge2", name)).st_mode
            self.assertEqual(stat.S_IMODE(mode), 0o600, name)
        wait_for(lambda: self.clusters()["edge2"]["status"].get(
            "kubernetesVersion", "").startswith("v1.") and
            any(c["type"] == "Ready" and c["status"] == "True"
                for c in self.clusters()["edge2"]["status"]["conditions"]),
            30, "edge2 Ready with its version")
        c = self.clusters()["edge2"]
        self.assertEqual(c["spec"]["connection"]["type"], "direct")
        self.assertEqual(c["metadata"]["labels"], {"env": "lab"})
        self.assertEqual(c["spec"]["provider"], "kind")
        pods = subprocess.run(
            ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
             "edge2", "get", "pods", "-A"], capture_output=True, text=True,
            timeout=60)
        self.assertEqual(pods.returncode, 0, pods.stderr)
        self.assertEqual(self.join("edge2").returncode, 1)  # taken now
        out = self.ctl("unjoin", "demo")
        self.assertEqual(out.returncode, 1)
        self.assertIn("not by a join", out.stderr)
        out = self.ctl("unjoin", "edge2")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.written(), [])
        self.assertNotIn("edge2", self.clusters())
        self.assertEqual(self.ctl("unjoin", "edge2").returncode, 1)

    def test_3_unjoin_a_gone_cluster(self):
        other = Gateway(members=[mock_member("gone", "demo.json")],
                        role="member").start()
        try:
            out = self.join("gone", server="https://127.0.0.1:%d" %
                            other.port, ca=other.ca,
                            token=os.path.join(other.state, "admin.token"))
            self.assertEqual(out.returncode, 0, out.stderr)
        finally:
            other.stop()
            other.cleanup()
        out = self.ctl("unjoin", "gone")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn("gone", self.clusters())


if __name__ == "__main__":
    unittest.main()
