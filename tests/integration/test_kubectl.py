"""kubectl against the host gateway's two mock members, as the README's
demo shows it: kubectl speaks HTTP/2 by default, with aggregated discovery,
Table output and the kubeconfig the gateway wrote."""
import json
import os
import unittest

from harness import GatewayTest, load_seed


def seed_objects(seed, kind, namespace=None):
    return [o for o in load_seed(seed)["objects"] if o["kind"] == kind and
            (namespace is None or o["metadata"].get("namespace") == namespace)]


class KubectlTest(GatewayTest):

    def test_kubeconfig_has_a_context_per_member(self):
        out = self.kubectl("config", "get-contexts", "-o", "name")
        # _all lists across members; fedgate.fleet is the host's own API
        self.assertEqual(sorted(out.stdout.split()),
                         ["_all", "demo", "fedgate.fleet", "host"])
        self.assertEqual(os.stat(self.gw.kubeconfig).st_mode & 0o777, 0o600)

    def test_get_pods_all_namespaces(self):
        out = self.kubectl("get", "pods", "-A")
        header = out.stdout.splitlines()[0].split()
        self.assertEqual(header[:5], ["NAMESPACE", "NAME", "READY", "STATUS",
                                      "RESTARTS"])
        rows = out.stdout.splitlines()[1:]
        self.assertEqual(len(rows), len(seed_objects("demo.json", "Pod")))
        self.assertTrue(any("CrashLoopBackOff" in r for r in rows), out.stdout)

    def test_get_nodes_on_host(self):
        out = self.kubectl("get", "nodes", context="host")
        names = [line.split()[0] for line in out.stdout.splitlines()[1:]]
        want = [o["metadata"]["name"] for o in seed_objects("host.json", "Node")]
        self.assertEqual(sorted(names), sorted(want))
        self.assertIn("Ready", out.stdout)

    def test_get_deployments_json_matches_the_seed(self):
        out = self.kubectl("get", "deploy", "-n", "shop", "-o", "json")
        got = {d["metadata"]["name"]: d for d in json.loads(out.stdout)["items"]}
        want = {d["metadata"]["name"]: d
                for d in seed_objects("demo.json", "Deployment", "shop")}
        self.assertEqual(sorted(got), sorted(want))
        for name, d in want.items():
            self.assertEqual(got[name]["spec"], d["spec"], name)
            self.assertEqual(got[name]["kind"], "Deployment")

    def test_get_single_object_and_not_found(self):
        out = self.kubectl("get", "namespace", "payments", "-o", "name")
        self.assertEqual(out.stdout.strip(), "namespace/payments")
        out = self.kubectl("get", "pod", "nope", "-n", "shop", check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('pods "nope" not found', out.stderr)

    def test_raw_unknown_member(self):
        # --raw drops the kubeconfig's /clusters/NAME: the path is absolute.
        out = self.kubectl("get", "--raw", "/clusters/nope/api", check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('clusters "nope" not found', out.stderr)
        out = self.kubectl("get", "--raw", "/clusters/host/api/v1/nodes")
        self.assertEqual(json.loads(out.stdout)["kind"], "NodeList")

    def test_api_resources_and_version(self):
        out = self.kubectl("api-resources", "--no-headers")
        for kind in ("Pod", "Deployment", "StatefulSet", "ConfigMap"):
            self.assertIn(kind, out.stdout)
        out = self.kubectl("version", "-o", "json")
        self.assertIn("serverVersion", json.loads(out.stdout))

    def test_python_client(self):
        import kubernetes
        client = kubernetes.config.new_client_from_config(
            config_file=self.gw.kubeconfig, context="host")
        v1 = kubernetes.client.CoreV1Api(client)
        pods = v1.list_namespaced_pod("kube-system")
        self.assertTrue(any(p.metadata.name.startswith("coredns")
                            for p in pods.items))
        client.close()


if __name__ == "__main__":
    unittest.main()
