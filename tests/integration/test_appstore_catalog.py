"""The app store's catalog on a real host gateway (shipped chain: tokens and
rbac): Application and ApplicationVersion objects in KubeSphere v4's shapes
driven with kubectl on the host's own context, the review of a version
enforced step by step through the status subresource (a skipped step is a
409 and changes nothing), RBAC on each verb and on the status subresource,
KubeSphere's /kapis paths to the same objects, and a restart that keeps
them."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import GatewayTest
from test_appstore_helm import chart
from test_rbac import POLICY as RBAC_POLICY, bind_group, shipped_rules

TOKENS = {
    "dev": ("dev-token-0123456789abcdef", "app-developers"),
    "rev": ("rev-token-0123456789abcdef", "app-reviewers"),
    "nob": ("nob-token-0123456789abcdef", "nobody"),
}
RULES = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: app-developer
rules:
- apiGroups: ["application.kubesphere.io"]
  resources: ["applications", "applicationversions", "categories"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["application.kubesphere.io"]
  resources: ["repos"]
  resourceNames: ["main"]
  verbs: ["get", "create", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: app-reviewer
rules:
- apiGroups: ["application.kubesphere.io"]
  resources: ["applicationversions", "applications"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["application.kubesphere.io"]
  resources: ["applicationversions/status"]
  verbs: ["get", "patch", "update"]
"""
RULES += "".join("---\n" + bind_group(role, group) for role, group in (
    ("app-developer", "app-developers"),
    ("app-reviewer", "app-reviewers"),
))
POLICY = RBAC_POLICY + """[plugin "appstore"]
"""
APP = """apiVersion: application.kubesphere.io/v2
kind: Application
metadata:
  name: nginx
  labels: {application.kubesphere.io/repo-name: main}
spec: {appType: helm, appHome: "https://nginx.org"}
"""
VERSION = """apiVersion: application.kubesphere.io/v2
kind: ApplicationVersion
metadata:
  name: nginx-15.0.0
  labels: {application.kubesphere.io/app-id: nginx}
spec: {versionName: 15.0.0, appType: helm}
"""
CTX = "fedgate.fleet"


class AppstoreCatalogTest(GatewayTest):
    policy = POLICY
    extra_files = dict(shipped_rules(), **{
        "rbac/50-apps.yaml": RULES,
        "tokens.csv": "".join('%s,%s,%d,"%s"\n' % (t, u, 2000 + i, g)
                              for i, (u, (t, g)) in enumerate(TOKENS.items()))
    })

    def as_user(self, user, *args, stdin=None):
        cmd = ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context", CTX,
               "--token", TOKENS[user][0], "--request-timeout=20s"]
        return subprocess.run(cmd + list(args), input=stdin,
                              capture_output=True, text=True, timeout=60)

    def ok(self, user, *args, stdin=None):
        out = self.as_user(user, *args, stdin=stdin)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def review(self, user, state, name="nginx-15.0.0"):
        return self.as_user(user, "patch", "appver", name,
                            "--subresource", "status", "--type", "merge",
                            "-p", json.dumps({"status": {"state": state}}))

    def state(self):
        return self.ok("rev", "get", "appver", "nginx-15.0.0", "-o",
                       "jsonpath={.status.state}")

    def test_review_of_a_version(self):
        self.assertIn("created", self.ok("dev", "apply", "-f", "-", stdin=APP))
        self.assertIn("created",
                      self.ok("dev", "apply", "-f", "-", stdin=VERSION))
        self.assertEqual(self.state(), "draft")
        table = self.ok("rev", "get", "appver")
        self.assertEqual(table.splitlines()[0].split(),
                         ["NAME", "APP", "VERSION", "APPTYPE", "STATE", "AGE"])
        self.assertEqual(table.splitlines()[1].split()[:5],
                         ["nginx-15.0.0", "nginx", "15.0.0", "helm", "draft"])
        # nobody may read; only reviewers have the status subresource
        out = self.as_user("nob", "get", "--raw",
                           "/apis/application.kubesphere.io/v2/applications")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("Forbidden", out.stderr)
        out = self.review("dev", "submitted")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("forbidden", out.stderr)
        # a skipped step is refused and changes nothing
        out = self.review("rev", "active")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("draft -> active", out.stderr)
        self.assertEqual(self.state(), "draft")
        for step in ("submitted", "rejected", "draft", "submitted", "passed",
                     "active", "suspended", "active"):
            out = self.review("rev", step)
            self.assertEqual(out.returncode, 0, step + ": " + out.stderr)
            self.assertEqual(self.state(), step)
        wide = self.ok("rev", "get", "appver", "-o", "wide")
        self.assertIn("rev", wide.splitlines()[1].split())  # REVIEWER
        # an active version's spec is frozen
        out = self.as_user("dev", "patch", "appver", "nginx-15.0.0", "--type",
                           "merge", "-p", '{"spec":{"versionName":"16.0.0"}}')
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("only a draft or a rejected version", out.stderr)
        # KubeSphere's clients find the same objects under /kapis
        kapis = json.loads(self.ok(
            "rev", "get", "--raw",
            "/kapis/application.kubesphere.io/v2/applicationversions"))
        self.assertEqual([i["metadata"]["name"] for i in kapis["items"]],
                         ["nginx-15.0.0"])

    def push(self, data, query=""):
        with tempfile.NamedTemporaryFile(suffix=".tgz") as f:
            f.write(data)
            f.flush()
            out = subprocess.run(
                ["curl", "-sS", "--cacert", self.gw.ca, "-u",
                 "dev:" + TOKENS["dev"][0], "--data-binary", "@" + f.name,
                 "-o", os.devnull, "-w", "%{http_code}",
                 self.gw.base + "/helm/api/main/charts" + query],
                capture_output=True, text=True, timeout=30)
        return out.stdout

    def test_a_pushed_chart_is_in_the_store(self):
        self.assertEqual(self.push(chart("demo", "0.1.0")), "201")
        app = json.loads(self.ok("rev", "get", "app", "main-demo", "-o",
                                 "json"))
        self.assertEqual((app["spec"]["appType"], app["status"]["state"]),
                         ("helm", "draft"))
        ver = json.loads(self.ok("rev", "get", "appver", "main-demo-0.1.0",
                                 "-o", "json"))
        self.assertEqual(ver["metadata"]["labels"][
            "application.kubesphere.io/app-id"], "main-demo")
        self.assertEqual(ver["spec"]["pullUrl"],
                         "/helm/main/charts/demo-0.1.0.tgz")
        self.assertEqual(ver["status"]["state"], "draft")
        # its review is the catalog's; the same archive again keeps it
        self.assertEqual(
            self.review("rev", "submitted", "main-demo-0.1.0").returncode, 0)
        self.assertEqual(self.push(chart("demo", "0.1.0"), "?force"), "201")
        self.assertEqual(self.ok("rev", "get", "appver", "main-demo-0.1.0",
                                 "-o", "jsonpath={.status.state}"),
                         "submitted")
        # another archive under the same version starts the review again
        self.assertEqual(self.push(chart("demo", "0.1.0", app="2.0"),
                                   "?force"), "201")
        ver = json.loads(self.ok("rev", "get", "appver", "main-demo-0.1.0",
                                 "-o", "json"))
        self.assertEqual(ver["status"]["state"], "draft")
        self.assertIn("replaced", ver["status"]["message"])
        # deleted from the repository, gone from the store
        out = subprocess.run(
            ["curl", "-sS", "--cacert", self.gw.ca, "-u",
             "dev:" + TOKENS["dev"][0], "-X", "DELETE",
             self.gw.base + "/helm/api/main/charts/demo/0.1.0"],
            capture_output=True, text=True, timeout=30)
        self.assertIn("deleted", out.stdout)
        out = self.as_user("rev", "get", "appver", "main-demo-0.1.0")
        self.assertIn("not found", out.stderr)

    def test_versions_need_their_application(self):
        out = self.as_user("dev", "apply", "-f", "-",
                           stdin=VERSION.replace("app-id: nginx",
                                                 "app-id: ghost"))
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('applications.application.kubesphere.io "ghost"',
                      out.stderr)

    def test_zz_restart_keeps_the_catalog(self):
        self.ok("dev", "apply", "-f", "-", stdin=APP)
        before = self.ok("dev", "get", "app", "nginx", "-o", "json")
        self.assertEqual(self.gw.stop(), 0)
        self.gw.start()
        after = self.ok("dev", "get", "app", "nginx", "-o", "json")
        self.assertEqual(json.loads(before), json.loads(after))
        groups = self.ok("dev", "api-resources", "--api-group",
                         "application.kubesphere.io", "--no-headers")
        self.assertEqual(sorted(line.split()[0] for line in
                                groups.splitlines()),
                         ["applicationreleases", "applications",
                          "applicationversions", "categories", "repos"])


if __name__ == "__main__":
    unittest.main()
