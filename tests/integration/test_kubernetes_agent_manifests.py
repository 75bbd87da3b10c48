"""packaging/kubernetes/agent: `kubectl kustomize` renders what the issue
asks of the member side (a restricted pod with requests 10m/16Mi, a
service account whose role grants impersonate and nothing else, the token
and host CA from a Secret, host and member name from a ConfigMap); kubectl
applies the namespaced objects through a real gateway to a mock member
(the mock serves no RBAC kinds); and the container's command line, as
rendered, joins a host."""
import os
import re
import shutil
import tempfile
import unittest

import yaml

from agent_harness import AGENT, Agent, AgentCase
from harness import SOURCE_DIR, Gateway, mock_member, wait_for
from test_kubernetes_manifests import assert_restricted, rendered, run

MANIFESTS = os.path.join(SOURCE_DIR, "packaging", "kubernetes", "agent")
KINDS = {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
         "ConfigMap", "Secret", "Deployment"}
CLUSTER_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def container(objs):
    return objs["Deployment"]["spec"]["template"]["spec"]["containers"][0]


class KustomizeAgentTest(unittest.TestCase):

    def setUp(self):
        self.objs = rendered(MANIFESTS)

    def test_objects_and_namespace(self):
        self.assertEqual(set(self.objs), KINDS)
        for kind, o in self.objs.items():
            if kind not in CLUSTER_KINDS:
                self.assertEqual(o["metadata"]["namespace"], "fedgate-agent",
                                 kind)
        self.assertEqual(self.objs["Namespace"]["metadata"]["labels"]
                         ["pod-security.kubernetes.io/enforce"], "restricted")

    def test_role_grants_impersonate_only(self):
        rules = self.objs["ClusterRole"]["rules"]
        self.assertTrue(rules)
        for rule in rules:
            self.assertEqual(rule["verbs"], ["impersonate"], rule)
        binding = self.objs["ClusterRoleBinding"]
        self.assertEqual(binding["roleRef"]["name"],
                         self.objs["ClusterRole"]["metadata"]["name"])
        sa = self.objs["ServiceAccount"]["metadata"]
        self.assertEqual(binding["subjects"], [{
            "kind": "ServiceAccount", "name": sa["name"],
            "namespace": sa["namespace"]}])

    def test_deployment(self):
        pod = assert_restricted(self, self.objs)
        self.assertTrue(pod["automountServiceAccountToken"])
        agent = container(self.objs)
        self.assertEqual(agent["resources"]["requests"],
                         {"cpu": "10m", "memory": "16Mi"})
        self.assertNotIn("ports", agent)  # it dials; it never listens
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in agent["volumeMounts"]}
        self.assertEqual(
            volumes[mounts["/etc/fedgate-agent/secret"]]["secret"]
            ["secretName"], self.objs["Secret"]["metadata"]["name"])
        self.assertIn("emptyDir", volumes[mounts["/var/lib/fedgate-agent"]])
        cm = self.objs["ConfigMap"]
        for env in agent["env"]:
            ref = env["valueFrom"]["configMapKeyRef"]
            self.assertEqual(ref["name"], cm["metadata"]["name"])
            self.assertIn(ref["key"], cm["data"])


class ApplyAgentTest(unittest.TestCase):

    def test_dry_run_apply_unchanged(self):
        gw = Gateway(members=[mock_member("demo", "demo.json")]).start()
        self.addCleanup(gw.cleanup)
        objs = rendered(MANIFESTS)
        namespaced = yaml.safe_dump_all(
            [o for k, o in objs.items() if k not in CLUSTER_KINDS])

        def kubectl(*args, stdin=namespaced):
            return run(["kubectl", "--kubeconfig", gw.kubeconfig,
                        "--context", "demo", *args, "-f", "-"], input=stdin)
        try:
            kubectl("apply", stdin=yaml.safe_dump(objs["Namespace"]))
            out = kubectl("apply", "--dry-run=server")
            self.assertEqual(out.stdout.count("(server dry run)"), 4,
                             out.stdout)
            out = kubectl("apply")
            self.assertIn("deployment.apps/fedgate-agent created", out.stdout)
            out = kubectl("apply")
            self.assertEqual(out.stdout.count(" unchanged"), 4, out.stdout)
        finally:
            self.assertEqual(gw.stop(), 0)


class RenderedCommandJoinsTest(AgentCase):
    """The container's command line from the Deployment, its env from the
    ConfigMap (the host's address swapped for this test's), its paths
    under a temporary root: it joins as member "edge"."""

    def test_rendered_command_line_joins(self):
        objs = rendered(MANIFESTS)
        data = dict(objs["ConfigMap"]["data"])
        self.assertEqual(data["member"], "edge")
        data["host"] = "https://127.0.0.1:%d" % self.host.tunnel
        agent = container(objs)
        env = {e["name"]: data[e["valueFrom"]["configMapKeyRef"]["key"]]
               for e in agent["env"]}
        root = tempfile.mkdtemp(prefix="fedgate-agent-pod-")
        self.addCleanup(shutil.rmtree, root, True)
        secret = os.path.join(root, "etc/fedgate-agent/secret")
        os.makedirs(secret)
        os.makedirs(os.path.join(root, "var/lib/fedgate-agent"))
        shutil.copy(self.token_file, os.path.join(secret, "token"))
        shutil.copy(self.host.ca, os.path.join(secret, "host-ca.crt"))
        argv = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a)
                .replace("=/", "=" + root + "/")
                for a in agent["command"] + agent["args"]]
        self.assertEqual(os.path.basename(argv[0]), os.path.basename(AGENT))
        a = Agent(self.host, self.member, "edge", self.token_file)
        self.agents.append(a)  # stopped by tearDownClass
        a.args = [AGENT] + argv[1:] + ["--serviceaccount-dir", a.sa]
        a.start()
        wait_for(lambda: "joined (2 live" in self.host.logs(), 30,
                 "the rendered command line to join")


if __name__ == "__main__":
    unittest.main()
