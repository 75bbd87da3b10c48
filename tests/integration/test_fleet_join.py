"""fedgatectl join and unjoin, and kubectl apply / delete of a Cluster: a
direct member (a member-role fedgate) joined in one command, checked
against the member first: a wrong CA, a wrong token, an unreachable
server, a taken name or a bad label is refused with the reason and nothing
is written; a joined member is Ready with its version on kubectl get
clusters; unjoin (or kubectl delete cluster) removes it again, also once
its cluster is gone, and refuses a member conf.d declares itself. Through
the API: 422 Invalid with field causes, dryRun=All writes nothing, a GET
never shows the credentials, the Python client creates and deletes."""
import base64
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
        cls.host = Gateway(extra_gateway="health_interval = 300ms\n"
                           "host_cluster = host\n")
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

    # ---- the same through the host's API -------------------------------

    def kubeconfig_b64(self, server=None, ca=None, token=None, extra=""):
        with open(ca or self.member.ca, "rb") as f:
            ca_data = base64.b64encode(f.read()).decode()
        with open(token or self.token) as f:
            tok = f.read().strip()
        text = ("apiVersion: v1\nkind: Config\ncurrent-context: m\n"
                "clusters:\n- name: m\n  cluster:\n    server: %s\n"
                "    certificate-authority-data: %s\n%s"
                "users:\n- name: u\n  user:\n    token: %s\n"
                "contexts:\n- name: m\n  context: {cluster: m, user: u}\n"
                % (server or "https://127.0.0.1:%d" % self.member.port,
                   ca_data, extra, tok))
        return base64.b64encode(text.encode()).decode()

    def cluster(self, name, labels=None, conn=None, **kc):
        return {"apiVersion": "cluster.kubesphere.io/v1alpha1",
                "kind": "Cluster",
                "metadata": {"name": name, "labels": labels or {}},
                "spec": {"provider": "kind", "connection": conn or {
                    "type": "direct", "kubeconfig": self.kubeconfig_b64(**kc)}}}

    def kubectl(self, *args, input=None):
        return subprocess.run(
            ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
             "fedgate.fleet", *args], capture_output=True, text=True,
            timeout=90, input=input)

    def test_4_kubectl_apply_and_delete(self):
        obj = self.cluster("edge3", {"env": "demo"})
        out = self.kubectl("apply", "-f", "-", input=json.dumps(obj))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("created", out.stdout)
        self.assertEqual(self.written(), ["edge3", "edge3.ini"])
        c = self.clusters()["edge3"]
        self.assertEqual(c["metadata"]["labels"], {"env": "demo"})
        self.assertEqual(c["spec"]["provider"], "kind")
        shown = self.kubectl("get", "cluster", "edge3", "-o", "yaml").stdout
        with open(self.token) as f:
            self.assertNotIn(f.read().strip(), shown)
        self.assertNotIn("kubeconfig", shown)
        self.assertNotIn("last-applied", shown)
        obj["metadata"]["labels"] = {"env": "prod", "tier": "1"}
        out = self.kubectl("apply", "-f", "-", input=json.dumps(obj))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.clusters()["edge3"]["metadata"]["labels"],
                         {"env": "prod", "tier": "1"})
        out = self.kubectl("label", "cluster", "edge3", "tier-")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.clusters()["edge3"]["metadata"]["labels"],
                         {"env": "prod"})
        wait_for(lambda: any(
            k["type"] == "Ready" and k["status"] == "True"
            for k in self.clusters()["edge3"]["status"]["conditions"]),
            30, "edge3 Ready")
        out = self.kubectl("delete", "cluster", "edge3", "--dry-run=server")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.written(), ["edge3", "edge3.ini"])
        out = self.kubectl("delete", "cluster", "edge3")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("deleted", out.stdout)
        self.assertEqual(self.written(), [])
        self.assertNotIn("edge3", self.clusters())
        obj["metadata"]["name"] = "edge4"
        out = self.kubectl("apply", "--server-side", "-f", "-",
                           input=json.dumps(obj))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("edge4", self.clusters())
        self.assertEqual(self.kubectl("delete", "cluster", "edge4").returncode,
                         0)
        self.assertEqual(self.written(), [])

    def test_5_api_refusals_write_nothing(self):
        bad_path = ("apiVersion: v1\nkind: Config\ncurrent-context: m\n"
                    "clusters:\n- name: m\n  cluster:\n    server: "
                    "https://127.0.0.1:1\n    certificate-authority: /etc/"
                    "passwd\nusers:\n- name: u\n  user: {token: x}\n"
                    "contexts:\n- name: m\n  context: {cluster: m, user: "
                    "u}\n")
        cases = [
            (self.cluster("Bad_Name"), "metadata.name: Invalid value"),
            (self.cluster("edge5", {"-x": "y"}), "metadata.labels[-x]"),
            (self.cluster("edge5", {"cluster-role.kubesphere.io/host": ""}),
             "Forbidden"),
            (self.cluster("edge5", conn={"type": "direct"}),
             "spec.connection.kubeconfig: Required value"),
            (self.cluster("edge5", conn={"type": "ftp"}),
             'Unsupported value: "ftp"'),
            (self.cluster("edge5", conn={"type": "direct", "kubeconfig":
                                         "not base64!"}),
             "illegal base64"),
            (self.cluster("edge5", conn={"type": "direct", "kubeconfig":
                                         base64.b64encode(
                                             bad_path.encode()).decode()}),
             "inline"),
            (self.cluster("edge5", token=self.wrong),
             "answered /version with 401"),
            (self.cluster("edge5", ca=self.host.ca), "TLS with 127.0.0.1"),
            (self.cluster("edge5", server="https://127.0.0.1:1"),
             "cannot connect"),
            (self.cluster("edge5", server="https://127.0.0.1:1/\n[x]"),
             "spec.connection.kubeconfig: Invalid value"),
        ]
        for obj, why in cases:
            out = self.kubectl("create", "-f", "-", input=json.dumps(obj))
            self.assertNotEqual(out.returncode, 0, why)
            self.assertIn(why, out.stderr)
            self.assertEqual(self.written(), [])
        out = self.kubectl("create", "-f", "-", input=json.dumps(
            self.cluster("demo")))
        self.assertIn("AlreadyExists", out.stderr)
        for name, why in (("demo", "not by a join"), ("host", "host's own"),
                          ("nope", "NotFound")):
            out = self.kubectl("delete", "cluster", name)
            self.assertNotEqual(out.returncode, 0, name)
            self.assertIn(why, out.stderr)
        out = self.kubectl("apply", "--dry-run=server", "-f", "-",
                           input=json.dumps(self.cluster("edge5")))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("server dry run", out.stdout)
        out = self.kubectl("create", "--dry-run=server", "-f", "-",
                           input=json.dumps(self.cluster("edge5",
                                                         token=self.wrong)))
        self.assertIn("answered /version with 401", out.stderr)
        self.assertEqual(self.written(), [])
        self.assertNotIn("edge5", self.clusters())

    def test_6_python_client(self):
        from kubernetes import client, config
        api = client.CustomObjectsApi(config.new_client_from_config(
            self.host.kubeconfig, context="fedgate.fleet"))
        args = ("cluster.kubesphere.io", "v1alpha1", "clusters")
        made = api.create_cluster_custom_object(
            *args, self.cluster("edge6", {"env": "py"}))
        self.assertEqual(made["metadata"]["name"], "edge6")
        self.assertNotIn("kubeconfig", made["spec"]["connection"])
        self.assertEqual(self.written(), ["edge6", "edge6.ini"])
        api.patch_cluster_custom_object(
            *args, "edge6", {"metadata": {"labels": {"env": "py2"}}})
        self.assertEqual(self.clusters()["edge6"]["metadata"]["labels"],
                         {"env": "py2"})
        with self.assertRaises(client.ApiException) as e:
            api.create_cluster_custom_object(*args, self.cluster("Bad"))
        self.assertEqual(e.exception.status, 422)
        self.assertEqual(json.loads(e.exception.body)["details"]["causes"][0]
                         ["field"], "metadata.name")
        api.delete_cluster_custom_object(*args, "edge6")
        self.assertEqual(self.written(), [])


if __name__ == "__main__":
    unittest.main()
