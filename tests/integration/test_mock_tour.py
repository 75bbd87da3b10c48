"""The daily kubectl and Python-client tour against a mock member through
the gateway, as a user meets it in the demo: create, apply, get with
selectors, label, annotate, scale, edit, delete, watch, logs, exec,
server-side apply, field validation, discovery of subresources, cluster
IPs, graceful and finalized deletion."""
import json
import os
import subprocess
import tempfile
import time
import unittest

from harness import GatewayTest
from tours import (POD_SUBRESOURCES, discovery_tour, kubectl_follow_tour,
                   kubectl_lifecycle_tour, kubectl_ssa_tour,
                   kubectl_validation_tour, python_client_tour,
                   python_lifecycle_tour, python_ssa_tour,
                   python_validation_tour)

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: tour
  namespace: tour
  labels: {app: tour}
spec:
  replicas: 2
  selector:
    matchLabels: {app: tour}
  template:
    metadata:
      labels: {app: tour}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: tour
  namespace: tour
  labels: {app: tour}
spec:
  selector: {app: tour}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: tour
  namespace: tour
  labels: {app: tour}
data:
  greeting: hello
"""


class KubectlTourTest(GatewayTest):

    def apply(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        return self.kubectl("apply", "-f", f.name)

    def test_1_the_tour(self):
        self.kubectl("create", "namespace", "tour")
        out = self.apply(MANIFEST)
        self.assertIn("deployment.apps/tour created", out.stdout)
        self.assertIn("service/tour created", out.stdout)
        self.assertIn("configmap/tour created", out.stdout)
        out = self.apply(MANIFEST)
        self.assertIn("deployment.apps/tour unchanged", out.stdout)
        out = self.apply(MANIFEST.replace("nginx:1.27", "nginx:1.28"))
        self.assertIn("deployment.apps/tour configured", out.stdout)

        d = json.loads(self.kubectl("get", "deploy", "tour", "-n", "tour",
                                    "-o", "json").stdout)
        self.assertEqual(d["spec"]["template"]["spec"]["containers"][0]
                         ["image"], "nginx:1.28")
        self.assertEqual(d["apiVersion"], "apps/v1")

        out = self.kubectl("get", "all,cm", "-n", "tour", "-l", "app=tour",
                           "-o", "name")
        for name in ("deployment.apps/tour", "service/tour",
                     "configmap/tour"):
            self.assertIn(name, out.stdout)
        out = self.kubectl("get", "cm", "-n", "tour", "-l", "app!=tour",
                           "-o", "name")
        self.assertNotIn("configmap/tour", out.stdout)

        self.kubectl("label", "cm", "tour", "-n", "tour", "tier=front")
        self.kubectl("annotate", "cm", "tour", "-n", "tour", "note=hi")
        cm = json.loads(self.kubectl("get", "cm", "tour", "-n", "tour", "-o",
                                     "json").stdout)
        self.assertEqual(cm["metadata"]["labels"]["tier"], "front")
        self.assertEqual(cm["metadata"]["annotations"]["note"], "hi")
        self.assertEqual(cm["apiVersion"], "v1")

        self.kubectl("scale", "deploy/tour", "-n", "tour", "--replicas=5")
        out = self.kubectl("get", "deploy", "tour", "-n", "tour", "-o",
                           "jsonpath={.spec.replicas}")
        self.assertEqual(out.stdout, "5")

        editor = os.path.join(self.gw.tmp, "editor.sh")
        with open(editor, "w") as f:
            f.write("#!/bin/sh\nsed -i 's/greeting: hello/greeting: edited/' "
                    "\"$1\"\n")
        os.chmod(editor, 0o755)
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
             "demo", "edit", "cm", "tour", "-n", "tour"],
            capture_output=True, text=True, timeout=60,
            env=dict(os.environ, KUBE_EDITOR=editor))
        self.assertEqual(out.returncode, 0, out.stderr)
        out = self.kubectl("get", "cm", "tour", "-n", "tour", "-o",
                           "jsonpath={.data.greeting}")
        self.assertEqual(out.stdout, "edited")

        out = self.kubectl("delete", "cm", "tour", "-n", "tour")
        self.assertIn('configmap "tour" deleted', out.stdout)
        out = self.kubectl("get", "cm", "tour", "-n", "tour", check=False)
        self.assertIn('configmaps "tour" not found', out.stderr)
        self.kubectl("delete", "namespace", "tour")
        out = self.kubectl("get", "deploy", "-n", "tour", "-o", "name")
        self.assertEqual(out.stdout.strip(), "")

    def test_2_watch_sees_added_then_deleted(self):
        self.kubectl("create", "namespace", "watched")
        # An object that exists first: its ADDED line says the watch is open.
        self.kubectl("create", "configmap", "w0", "-n", "watched")
        cmd = ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
               "demo", "get", "configmaps", "-n", "watched", "-w",
               "--output-watch-events", "-o",
               "custom-columns=EVENT:.type,NAME:.object.metadata.name",
               "--request-timeout=0"]
        watch = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        lines = []
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                line = watch.stdout.readline()
                if not line:
                    break
                lines.append(line.split())
                if lines[-1] == ["ADDED", "w0"]:
                    self.kubectl("create", "configmap", "w1", "-n", "watched",
                                 "--from-literal=a=b")
                    self.kubectl("delete", "configmap", "w1", "-n", "watched")
                if ["DELETED", "w1"] in lines:
                    break
        finally:
            watch.terminate()
            watch.wait(10)
            watch.stdout.close()
            watch.stderr.close()
        self.assertIn(["ADDED", "w1"], lines)
        self.assertIn(["DELETED", "w1"], lines)
        self.assertLess(lines.index(["ADDED", "w1"]),
                        lines.index(["DELETED", "w1"]))

    def test_3_logs(self):
        pods = self.kubectl("get", "pods", "-n", "shop", "-o",
                            "jsonpath={.items[0].metadata.name}").stdout
        out = self.kubectl("logs", "-n", "shop", pods, "--tail=2")
        self.assertEqual(len(out.stdout.splitlines()), 2)
        kubectl_follow_tour(self, ["kubectl", "--kubeconfig", self.gw.kubeconfig,
                                   "--context", "demo"], pods)

    def test_4_exec(self):
        pods = self.kubectl("get", "pods", "-n", "shop", "-o",
                            "jsonpath={.items[0].metadata.name}").stdout
        out = self.kubectl("exec", "-n", "shop", pods, "--", "echo", "tour")
        self.assertEqual(out.stdout, "tour\n", out.stderr)

    def test_5_server_side_apply(self):
        kubectl_ssa_tour(self, self.kubectl, self.gw.tmp)

    def test_6_field_validation(self):
        kubectl_validation_tour(self, self.kubectl, self.gw.tmp)

    def test_7_discovery(self):
        discovery_tour(self, self.kubectl, self.gw.kubeconfig, "demo")

    def test_7_aggregated_discovery_with_curl(self):
        agg = ("application/json;g=apidiscovery.k8s.io;v=v2;"
               "as=APIGroupDiscoveryList")
        code, _, body = self.curl("/clusters/demo/apis", "-H",
                                  "Accept: %s,application/json" % agg)
        self.assertEqual(code, 200, body)
        groups = {g["metadata"]["name"]: g for g in json.loads(body)["items"]}
        deploy = [r for r in groups["apps"]["versions"][0]["resources"]
                  if r["resource"] == "deployments"][0]
        self.assertEqual(deploy["scope"], "Namespaced")
        self.assertEqual(deploy["responseKind"]["kind"], "Deployment")
        scale = [s for s in deploy["subresources"]
                 if s["subresource"] == "scale"][0]
        self.assertEqual(scale["responseKind"], {
            "group": "autoscaling", "version": "v1", "kind": "Scale"})
        # Asked for plain JSON first, /api stays the legacy APIVersions.
        code, _, body = self.curl("/clusters/demo/api", "-H",
                                  "Accept: application/json, %s" % agg)
        self.assertEqual(code, 200, body)
        self.assertEqual(json.loads(body)["kind"], "APIVersions")
        code, _, body = self.curl("/clusters/demo/api", "-H", "Accept: " + agg)
        pods = [r for r in json.loads(body)["items"][0]["versions"][0]
                ["resources"] if r["resource"] == "pods"][0]
        self.assertEqual({s["subresource"]: s["verbs"]
                          for s in pods["subresources"]},
                         {k.split("/")[1]: v
                          for k, v in POD_SUBRESOURCES.items()})

    def test_8_lifecycle(self):
        kubectl_lifecycle_tour(self, self.kubectl, self.gw.tmp)


class PythonClientTourTest(GatewayTest):

    def test_python_client(self):
        python_client_tour(self, self.gw.kubeconfig, "demo")

    def test_server_side_apply(self):
        python_ssa_tour(self, self.gw.kubeconfig, "demo")

    def test_field_validation(self):
        python_validation_tour(self, self.gw.kubeconfig, "demo")

    def test_lifecycle(self):
        python_lifecycle_tour(self, self.gw.kubeconfig, "demo")


if __name__ == "__main__":
    unittest.main()
