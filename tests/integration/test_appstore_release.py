"""ApplicationRelease end to end on a real host gateway with two mock
members (m1, m2) and the shipped chain (tokens, rbac): a plain-manifest
chart (ConfigMap + Deployment + Service) pushed, reviewed to active and
installed into both members with kubectl as a user who may; its objects on
each member, Helm's release Secret decoded (base64, base64, gzip, JSON) to
deployed v1; an upgrade to v2 that supersedes v1 and removes the object the
new version dropped; kubectl delete removes everything from the member; a
user without rights in the target namespace gets state failed with the
member's Forbidden; admission refuses what cannot be installed. A Helm
chart (templates with actions) is installed by a Job in the member: the
Job (image, Helm's arguments with the creator's identity, a locked-down
pod), its Secret, ServiceAccount and impersonate-only ClusterRole exist;
a release Secret written as Helm would turns the release active, a Job
marked failed turns it failed with the Job's message and its pod's log,
and a delete runs an
uninstall Job and ends when the release Secrets are gone."""
import base64
import gzip
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from harness import GatewayTest, free_port, mock_member
from test_appstore_helm import chart_yaml, tgz
from test_rbac import POLICY as RBAC_POLICY, bind_group, shipped_rules

TOKENS = {
    "dev": ("dev-token-0123456789abcdef", "app-developers"),
    "rev": ("rev-token-0123456789abcdef", "app-reviewers"),
    "ops": ("ops-token-0123456789abcdef", "app-operators"),
    "nob": ("nob-token-0123456789abcdef", "app-users"),
}
RULES = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: app-developer
rules:
- apiGroups: ["application.kubesphere.io"]
  resources: ["repos"]
  resourceNames: ["main"]
  verbs: ["get", "create", "delete"]
- apiGroups: ["application.kubesphere.io"]
  resources: ["applicationversions/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["application.kubesphere.io"]
  resources: ["*"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: app-user
rules:
- apiGroups: ["application.kubesphere.io"]
  resources: ["applicationreleases", "applicationversions", "applications"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: web-installer
rules:
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get", "create"]
- apiGroups: ["", "apps"]
  resources: ["configmaps", "services", "secrets", "deployments"]
  verbs: ["*"]
- apiGroups: ["", "batch", "rbac.authorization.k8s.io"]
  resources: ["serviceaccounts", "jobs", "clusterroles",
              "clusterrolebindings", "pods", "pods/log"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: app-operators-members
  annotations:
    fedgate.io/clusters: "m1,m2,gone,m3"
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: web-installer
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: app-operators
"""
RULES += "".join("---\n" + bind_group(role, group) for role, group in (
    ("app-developer", "app-developers"),
    ("app-developer", "app-reviewers"),
    ("app-user", "app-operators"),
    ("app-user", "app-users"),
))
POLICY = RBAC_POLICY + '[plugin "appstore"]\nhelm_poll_interval = 200ms\n'
CTX = "fedgate.fleet"
GROUP = "application.kubesphere.io"

CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  greeting: "%s"
"""
DEPLOY = """# the web server
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
"""


def web_chart(version, greeting, service=True):
    deploy = DEPLOY if service else DEPLOY.split("---")[0]
    return tgz([("web/Chart.yaml", chart_yaml("web", version)),
                ("web/templates/config.yaml", (CM % greeting).encode()),
                ("web/templates/web.yaml", deploy.encode()),
                ("web/templates/NOTES.txt", b"{{ .Release.Name }} is up\n")])


# a Helm chart: its template has actions, so Helm installs it
SHOP_CM = b"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  replicas: "{{ .Values.replicas }}"
"""


def shop_chart(version):
    return tgz([("shop/Chart.yaml", chart_yaml("shop", version)),
                ("shop/values.yaml", b"replicas: 1\n"),
                ("shop/templates/cm.yaml", SHOP_CM)])


def release(name, cluster, version, values=None, app="web"):
    spec = {"appID": "main-" + app,
            "appVersionID": "main-%s-%s" % (app, version)}
    if values:
        spec["values"] = values
    return json.dumps({
        "apiVersion": "application.kubesphere.io/v2",
        "kind": "ApplicationRelease",
        "metadata": {"name": name, "labels": {
            "kubesphere.io/cluster": cluster,
            "kubesphere.io/namespace": "web"}},
        "spec": spec})


def read_helm_record(text):
    """The labels and decoded release (base64, base64, gzip, JSON) of
    Helm's release Secret TEXT (JSON)."""
    secret = json.loads(text)
    assert secret["type"] == "helm.sh/release.v1", secret["type"]
    data = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    return secret["metadata"]["labels"], json.loads(gzip.decompress(data))


# a direct member that nothing answers for: every call is a 503
GONE = ('[member "gone"]\ndriver = direct\nserver = https://127.0.0.1:%d\n'
        'ca_file = /etc/ssl/certs/ca-certificates.crt\n'
        'token_file = gone.token\nconnect_timeout = 1s\n')


class AppstoreReleaseTest(GatewayTest):
    policy = POLICY
    members = [mock_member("m1", "demo.json"), mock_member("m2", "demo.json"),
               GONE % free_port(), mock_member("m3", "demo.json")]
    M3_INI = "23-member.ini"  # the fourth member's file (harness)
    extra_files = dict(shipped_rules(), **{
        "rbac/50-apps.yaml": RULES,
        "gone.token": "gone-token\n",
        "tokens.csv": "".join('%s,%s,%d,"%s"\n' % (t, u, 3000 + i, g)
                              for i, (u, (t, g)) in enumerate(TOKENS.items()))
    })

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for version, chart in (
                ("web-0.1.0", web_chart("0.1.0", "hello", True)),
                ("web-0.2.0", web_chart("0.2.0", "hi", False)),
                ("shop-1.0.0", shop_chart("1.0.0")),
                ("shop-1.1.0", shop_chart("1.1.0"))):
            cls.push(chart)
            for step in ("submitted", "passed", "active"):
                out = cls.kube("rev", "patch", "appver",
                               "main-" + version, "--subresource",
                               "status", "--type", "merge", "-p",
                               json.dumps({"status": {"state": step}}))
                assert out.returncode == 0, out.stderr

    @classmethod
    def push(cls, data):
        with tempfile.NamedTemporaryFile(suffix=".tgz") as f:
            f.write(data)
            f.flush()
            out = subprocess.run(
                ["curl", "-sS", "--cacert", cls.gw.ca, "-u",
                 "dev:" + TOKENS["dev"][0], "--data-binary", "@" + f.name,
                 "-o", os.devnull, "-w", "%{http_code}",
                 cls.gw.base + "/helm/api/main/charts"],
                capture_output=True, text=True, timeout=30)
        assert out.stdout == "201", out.stdout + out.stderr

    @classmethod
    def kube(cls, user, *args, stdin=None, context=CTX):
        cmd = ["kubectl", "--kubeconfig", cls.gw.kubeconfig, "--context",
               context, "--request-timeout=20s"]
        if user:
            cmd += ["--token", TOKENS[user][0]]
        return subprocess.run(cmd + list(args), input=stdin,
                              capture_output=True, text=True, timeout=60)

    def ok(self, user, *args, stdin=None, context=CTX):
        out = self.kube(user, *args, stdin=stdin, context=context)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def member(self, cluster, *args):
        """kubectl on CLUSTER as the admin (the test's own view)."""
        return self.kube(None, *args, context=cluster)

    def wait_state(self, name, states, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            rel = json.loads(self.ok("nob", "get", "apprls", name, "-o",
                                     "json"))
            status = rel.get("status", {})
            if status.get("state") in states and \
                    status.get("observedGeneration") == \
                    rel["metadata"]["generation"]:
                return rel
            if time.monotonic() > deadline:
                self.fail("%s: %s, not %s" % (name, status, states))
            time.sleep(0.2)

    def record(self, cluster, name, version):
        out = self.member(cluster, "get", "secret", "-n", "web",
                          "sh.helm.release.v1.%s.v%d" % (name, version),
                          "-o", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return read_helm_record(out.stdout)

    def test_install_upgrade_delete_in_two_members(self):
        for cluster in ("m1", "m2"):
            name = "web-" + cluster
            self.assertIn("created", self.ok(
                "ops", "create", "-f", "-",
                stdin=release(name, cluster, "0.1.0")))
            rel = self.wait_state(name, ("active",))
            creator = json.loads(rel["metadata"]["annotations"][
                "app.fedgate.io/creator"])
            self.assertEqual(creator["user"], "ops")
            self.assertIn("app-operators", creator["groups"])
            self.assertEqual(rel["spec"]["appType"], "yaml")
            for kind, obj in (("configmap", "web-config"),
                              ("deployment", "web"), ("service", "web")):
                out = self.member(cluster, "get", kind, obj, "-n", "web")
                self.assertEqual(out.returncode, 0, out.stderr)
            labels, rec = self.record(cluster, name, 1)
            self.assertEqual(labels, {"name": name, "owner": "helm",
                                      "status": "deployed", "version": "1"})
            self.assertEqual((rec["name"], rec["namespace"], rec["version"],
                              rec["info"]["status"]),
                             (name, "web", 1, "deployed"))
            self.assertEqual(rec["chart"]["metadata"]["version"], "0.1.0")
            self.assertIn("# Source: web/templates/web.yaml", rec["manifest"])
            self.assertNotIn("NOTES", rec["manifest"])
        table = self.ok("ops", "get", "apprls")
        self.assertEqual(table.splitlines()[0].split(),
                         ["NAME", "CLUSTER", "NAMESPACE", "APPVERSION",
                          "STATUS", "AGE"])
        self.assertEqual([row.split()[:5] for row in table.splitlines()
                          if row.startswith("web-m1")][0],
                         ["web-m1", "m1", "web", "main-web-0.1.0", "active"])
        # upgrade m1: v2 deployed, v1 superseded, the Service gone
        self.ok("ops", "patch", "apprls", "web-m1", "--type", "merge", "-p",
                '{"spec":{"appVersionID":"main-web-0.2.0"}}')
        rel = self.wait_state("web-m1", ("active",))
        self.assertEqual(rel["status"]["version"], 2)
        labels, rec = self.record("m1", "web-m1", 2)
        self.assertEqual((labels["status"], rec["info"]["status"],
                          rec["chart"]["metadata"]["version"]),
                         ("deployed", "deployed", "0.2.0"))
        labels, rec = self.record("m1", "web-m1", 1)
        self.assertEqual((labels["status"], rec["info"]["status"]),
                         ("superseded", "superseded"))
        out = self.member("m1", "get", "service", "web", "-n", "web")
        self.assertIn("NotFound", out.stderr)
        self.assertEqual(self.member(
            "m1", "get", "configmap", "web-config", "-n", "web", "-o",
            "jsonpath={.data.greeting}").stdout, "hi")
        # m2 was not touched
        self.assertEqual(self.member("m2", "get", "service", "web", "-n",
                                     "web").returncode, 0)
        # delete: the finalizer holds the release until every object of the
        # last revision and every record are gone (kubectl waits for it)
        for cluster in ("m1", "m2"):
            rel = json.loads(self.ok("ops", "get", "apprls", "web-" + cluster,
                                     "-o", "json"))
            self.assertEqual(rel["metadata"]["finalizers"],
                             ["app.fedgate.io/uninstall"])
            self.ok("ops", "delete", "apprls", "web-" + cluster,
                    "--timeout=30s")
            left = self.member(cluster, "get", "configmap,deployment,service,"
                               "secret", "-n", "web", "-o", "name").stdout
            self.assertEqual([o for o in left.split() if "web" in o], [])
            out = self.kube("ops", "get", "apprls", "web-" + cluster)
            self.assertIn("NotFound", out.stderr)

    def member_json(self, cluster, *args, timeout=30):
        """An object on CLUSTER as JSON, waited for while it is not there."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.member(cluster, "get", *args, "-o", "json")
            if out.returncode == 0:
                return json.loads(out.stdout)
            self.assertIn("NotFound", out.stderr)
            self.assertLess(time.monotonic(), deadline, args)
            time.sleep(0.2)

    def gone(self, cluster, *args, timeout=30):
        """Waits until the object ARGS is not found on CLUSTER."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.member(cluster, "get", *args)
            if "NotFound" in out.stderr:
                return
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertLess(time.monotonic(), deadline, args)
            time.sleep(0.2)

    def helm_record(self, cluster, name, version, status):
        """Helm's release Secret, written as Helm does when it is done."""
        rec = {"name": name, "namespace": "web", "version": version,
               "info": {"status": status, "description": "Install complete"},
               "chart": {"metadata": {"name": "shop", "version": "1.0.0"}}}
        data = base64.b64encode(gzip.compress(json.dumps(rec).encode()))
        self.assertEqual(self.kube(None, "apply", "-f", "-", context=cluster,
                                   stdin=json.dumps({
            "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": "sh.helm.release.v1.%s.v%d" % (name, version),
                         "namespace": "web",
                         "labels": {"name": name, "owner": "helm",
                                    "status": status,
                                    "version": str(version)}},
            "data": {"release": base64.b64encode(data).decode()}}))
            .returncode, 0)

    def test_a_helm_chart_is_installed_by_a_job(self):
        self.ok("ops", "create", "-f", "-", stdin=release(
            "shop-m1", "m1", "1.0.0", values="replicas: 2\n", app="shop"))
        job = self.member_json("m1", "job", "-n", "fedgate-system",
                               "fedgate-helm-shop-m1-v1")
        self.assertEqual(job["metadata"]["labels"]["app.fedgate.io/release"],
                         "shop-m1")
        self.assertEqual((job["spec"]["backoffLimit"],
                          job["spec"]["activeDeadlineSeconds"]), (0, 600))
        self.assertIn("ttlSecondsAfterFinished", job["spec"])
        pod = job["spec"]["template"]["spec"]
        self.assertEqual(pod["serviceAccountName"], "fedgate-helm-shop-m1")
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        (c,) = pod["containers"]
        self.assertEqual(c["image"], "docker.io/alpine/helm:3.14.4")
        args = c["args"]
        self.assertEqual(args[:9], [
            "upgrade", "--install", "shop-m1", "/chart/shop.tgz", "-n", "web",
            "--create-namespace", "-f", "/values/values.yaml"])
        self.assertEqual(args[9:11], ["--kube-as-user", "ops"])
        self.assertIn("app-operators",
                      args[12::2])  # every group after --kube-as-group
        self.assertEqual(set(args[11::2]), {"--kube-as-group"})
        sc = c["securityContext"]
        self.assertEqual((sc["runAsNonRoot"], sc["readOnlyRootFilesystem"],
                          sc["allowPrivilegeEscalation"],
                          sc["capabilities"]["drop"],
                          sc["seccompProfile"]["type"]),
                         (True, True, False, ["ALL"], "RuntimeDefault"))
        self.assertNotIn("kubeconfig", json.dumps(job).lower())
        # the chart as pushed and the values, in the Job's Secret
        secret = self.member_json("m1", "secret", "-n", "fedgate-system",
                                  "fedgate-helm-shop-m1-v1")
        self.assertEqual(base64.b64decode(secret["data"]["chart.tgz"]),
                         shop_chart("1.0.0"))
        self.assertEqual(base64.b64decode(secret["data"]["values.yaml"]),
                         b"replicas: 2\n")
        # a service account that may only impersonate the creator
        self.member_json("m1", "serviceaccount", "-n", "fedgate-system",
                         "fedgate-helm-shop-m1")
        role = self.member_json("m1", "clusterrole", "fedgate-helm-shop-m1")
        self.assertEqual({r["verbs"][0] for r in role["rules"]},
                         {"impersonate"})
        self.assertEqual(role["rules"][0]["resourceNames"], ["ops"])
        self.assertIn("app-operators", role["rules"][1]["resourceNames"])
        binding = self.member_json("m1", "clusterrolebinding",
                                   "fedgate-helm-shop-m1")
        self.assertEqual(binding["subjects"], [{
            "kind": "ServiceAccount", "name": "fedgate-helm-shop-m1",
            "namespace": "fedgate-system"}])
        rel = json.loads(self.ok("ops", "get", "apprls", "shop-m1", "-o",
                                 "json"))
        self.assertEqual(rel["spec"]["appType"], "helm")
        self.assertEqual(rel["status"]["state"], "creating")
        # Helm records the release: active
        self.helm_record("m1", "shop-m1", 1, "deployed")
        rel = self.wait_state("shop-m1", ("active",))
        self.assertEqual(rel["status"]["version"], 1)
        # the chart's Secret went with the Job's end; the Job stays (its log)
        self.gone("m1", "secret", "-n", "fedgate-system",
                  "fedgate-helm-shop-m1-v1")
        self.member_json("m1", "job", "-n", "fedgate-system",
                         "fedgate-helm-shop-m1-v1")
        # an upgrade: a Job for revision 2, which fails
        self.ok("ops", "patch", "apprls", "shop-m1", "--type", "merge", "-p",
                '{"spec":{"appVersionID":"main-shop-1.1.0"}}')
        self.member_json("m1", "job", "-n", "fedgate-system",
                         "fedgate-helm-shop-m1-v2")
        # its pod, as the Job controller would make it, with Helm's log
        self.assertEqual(self.kube(None, "create", "-f", "-", context="m1",
                                   stdin=json.dumps({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "fedgate-helm-shop-m1-v2-x7k2p",
                         "namespace": "fedgate-system",
                         "labels": {"job-name": "fedgate-helm-shop-m1-v2"},
                         "annotations": {"mock.fedgate.io/log":
                                         "upgrading shop-m1\nError: UPGRADE "
                                         "FAILED: configmaps is forbidden\n"}},
            "spec": {"nodeName": "demo-worker-1",
                     "containers": [{"name": "helm",
                                     "image": "docker.io/alpine/helm:3.14.4"}]}
        })).returncode, 0)
        self.assertEqual(self.member(
            "m1", "patch", "job", "-n", "fedgate-system",
            "fedgate-helm-shop-m1-v2", "--subresource", "status", "--type",
            "merge", "-p", json.dumps({"status": {"conditions": [{
                "type": "Failed", "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit"}]}})
        ).returncode, 0)
        rel = self.wait_state("shop-m1", ("failed",))
        self.assertIn("BackoffLimitExceeded: Job has reached the specified "
                      "backoff limit", rel["status"]["message"])
        self.assertIn("fedgate-helm-shop-m1-v2", rel["status"]["message"])
        self.assertTrue(rel["status"]["message"].endswith(
            "its log ends:\nupgrading shop-m1\nError: UPGRADE FAILED: "
            "configmaps is forbidden"), rel["status"]["message"])
        self.gone("m1", "secret", "-n", "fedgate-system",
                  "fedgate-helm-shop-m1-v2")
        # delete: an uninstall Job for the revision Helm has; the release
        # goes once Helm's records are gone
        self.ok("ops", "delete", "apprls", "shop-m1", "--wait=false")
        job = self.member_json("m1", "job", "-n", "fedgate-system",
                               "fedgate-helm-shop-m1-rm-v1")
        self.assertEqual(job["spec"]["template"]["spec"]["containers"][0][
            "args"][:6], ["uninstall", "shop-m1", "-n", "web",
                          "--kube-as-user", "ops"])
        self.assertEqual(json.loads(self.ok(
            "ops", "get", "apprls", "shop-m1", "-o", "json"))["status"][
                "state"], "deleting")
        self.assertEqual(self.member(
            "m1", "delete", "secret", "-n", "web",
            "sh.helm.release.v1.shop-m1.v1").returncode, 0)
        deadline = time.monotonic() + 30
        while "NotFound" not in self.kube("ops", "get", "apprls",
                                          "shop-m1").stderr:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        # nothing of the release is left in fedgate-system: its Jobs (the
        # uninstall's too), Secrets, ServiceAccount, ClusterRole and binding
        out = self.member("m1", "get", "jobs,secrets,serviceaccounts", "-n",
                          "fedgate-system", "-o", "name")
        self.assertEqual(out.returncode, 0, out.stderr)
        out2 = self.member("m1", "get", "clusterroles,clusterrolebindings",
                           "-o", "name")
        self.assertEqual(out2.returncode, 0, out2.stderr)
        self.assertEqual([o for o in (out.stdout + out2.stdout).split()
                          if "/fedgate-helm-shop-m1" in o], [])

    def kapis(self, user, path):
        """GET PATH as USER with curl: (HTTP status, JSON body)."""
        out = subprocess.run(
            ["curl", "-sS", "--cacert", self.gw.ca, "-H",
             "Authorization: Bearer " + TOKENS[user][0], "-w",
             "\n%{http_code}", self.gw.base + path],
            capture_output=True, text=True, timeout=30)
        body, code = out.stdout.rsplit("\n", 1)
        return int(code), json.loads(body)

    def test_live_objects_are_read_as_the_caller(self):
        self.ok("ops", "create", "-f", "-",
                stdin=release("web-live", "m2", "0.1.0"))
        self.wait_state("web-live", ("active",))
        # a change on the member shows at once: read, not cached
        self.assertEqual(self.member(
            "m2", "patch", "configmap", "web-config", "-n", "web", "--type",
            "merge", "-p", '{"data":{"greeting":"live"}}').returncode, 0)
        paths = ("/kapis/" + GROUP + "/v2/applicationreleases/web-live",
                 "/kapis/" + GROUP + "/v2/namespaces/web/applications/"
                 "web-live")  # as KubeSphere's console asks
        for path in paths:
            code, rel = self.kapis("ops", path)
            self.assertEqual(code, 200, rel)
            self.assertEqual(rel["metadata"]["name"], "web-live")
            self.assertEqual(rel["status"]["state"], "active")
            objs = rel["status"]["realTimeResources"]
            self.assertEqual(sorted((o["kind"], o["metadata"]["name"],
                                     o["metadata"]["namespace"])
                                    for o in objs),
                             [("ConfigMap", "web-config", "web"),
                              ("Deployment", "web", "web"),
                              ("Service", "web", "web")])
            cm = [o for o in objs if o["kind"] == "ConfigMap"][0]
            self.assertEqual(cm["data"]["greeting"], "live")
            self.assertIn("uid", cm["metadata"])
            self.assertNotIn("managedFields", cm["metadata"])
        # nob may read the release but nothing in m2's web namespace: the
        # member's Forbidden for each object, none of their contents
        code, rel = self.kapis("nob", paths[0])
        self.assertEqual(code, 200, rel)
        objs = rel["status"]["realTimeResources"]
        self.assertEqual(len(objs), 3, objs)
        for o in objs:
            self.assertIn("forbidden", o["status"]["state"])
            self.assertIn('"nob"', o["status"]["state"])
            self.assertNotIn("data", o)
            self.assertNotIn("spec", o)
        # a namespace the release is not in: not this release
        code, _ = self.kapis("ops", "/kapis/" + GROUP + "/v2/namespaces/"
                             "other/applications/web-live")
        self.assertEqual(code, 404)
        self.ok("ops", "delete", "apprls", "web-live", "--timeout=30s")

    def test_without_rights_in_the_namespace_it_fails(self):
        self.assertIn("created", self.ok(
            "nob", "create", "-f", "-",
            stdin=release("web-nob", "m1", "0.1.0")))
        rel = self.wait_state("web-nob", ("failed",))
        self.assertIn("forbidden", rel["status"]["message"])
        self.assertIn('"nob"', rel["status"]["message"])
        self.ok("nob", "delete", "apprls", "web-nob")

    def test_an_unreachable_member_is_waited_for(self):
        self.ok("ops", "create", "-f", "-",
                stdin=release("web-gone", "gone", "0.1.0"))
        deadline = time.monotonic() + 30
        seen = set()
        while len(seen) < 2:  # it keeps trying, each try a new updatedAt
            status = json.loads(self.ok("ops", "get", "apprls", "web-gone",
                                        "-o", "json")).get("status", {})
            if status.get("reason") == "waiting for the member cluster":
                self.assertEqual(status["state"], "creating")
                self.assertNotIn("observedGeneration", status)
                seen.add(status["updatedAt"])
            self.assertLess(time.monotonic(), deadline, status)
            time.sleep(0.3)
        # the uninstall waits as well; a user may drop the finalizer
        self.ok("ops", "delete", "apprls", "web-gone", "--wait=false")
        deadline = time.monotonic() + 30
        while True:
            status = json.loads(self.ok("ops", "get", "apprls", "web-gone",
                                        "-o", "json"))["status"]
            if status["state"] == "deleting" and status.get("reason"):
                break
            self.assertLess(time.monotonic(), deadline, status)
            time.sleep(0.3)
        self.ok("ops", "patch", "apprls", "web-gone", "--type", "merge",
                "-p", '{"metadata":{"finalizers":null}}')
        out = self.kube("ops", "get", "apprls", "web-gone")
        self.assertIn("NotFound", out.stderr)

    def test_a_member_that_leaves_and_joins_again(self):
        for name in ("web-m3", "web-m3b"):
            self.ok("ops", "create", "-f", "-",
                    stdin=release(name, "m3", "0.1.0"))
            self.wait_state(name, ("active",))
        # m3 leaves the fleet (SIGHUP): both releases say so
        ini = os.path.join(self.gw.conf, self.M3_INI)
        with open(ini) as f:
            m3 = f.read()
        os.remove(ini)
        self.gw.signal(signal.SIGHUP)
        for name in ("web-m3", "web-m3b"):
            rel = self.wait_state(name, ("clusterDeleted",))
            self.assertIn('the member cluster "m3" is not in the fleet',
                          rel["status"]["message"])
            self.assertEqual(rel["metadata"]["finalizers"],
                             ["app.fedgate.io/uninstall"])
        # nothing to uninstall: a delete goes at once
        started = time.monotonic()
        self.ok("ops", "delete", "apprls", "web-m3b", "--timeout=10s")
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("NotFound",
                      self.kube("ops", "get", "apprls", "web-m3b").stderr)
        # a member of that name joins again (a new mock, empty): the
        # release is installed into it again
        self.gw.write(self.M3_INI, m3)
        self.gw.signal(signal.SIGHUP)
        rel = self.wait_state("web-m3", ("active",))
        self.assertNotIn("message", rel["status"])
        labels, rec = self.record("m3", "web-m3", rel["status"]["version"])
        self.assertEqual((labels["status"], rec["info"]["status"]),
                         ("deployed", "deployed"))
        self.assertEqual(self.member(
            "m3", "get", "configmap", "web-config", "-n", "web", "-o",
            "jsonpath={.data.greeting}").stdout, "hello")
        self.ok("ops", "delete", "apprls", "web-m3", "--timeout=30s")
        self.assertEqual(self.member("m3", "get", "configmap", "web-config",
                                     "-n", "web").returncode, 1)

    def test_admission(self):
        cases = (
            ("values for a plain package",
             release("web-a", "m1", "0.1.0", values="replicas: 2\n"),
             "plain-manifest package"),
            ("no such version", release("web-b", "m1", "9.9.9"),
             "Not found"),
            ("no cluster label",
             release("web-c", "m1", "0.1.0").replace(
                 '"kubesphere.io/cluster": "m1", ', ""),
             "kubesphere.io/cluster"),
            ("a namespace that is no DNS label",
             release("web-d", "m1", "0.1.0").replace('"web"}', '"Web_1"}'),
             "kubesphere.io/namespace"),
            ("a Helm chart's name too long for its Job",
             release("s" * 42, "m1", "1.0.0", app="shop"),
             "at most 41 characters"),
            ("a creator set by the client",
             release("web-e", "m1", "0.1.0").replace(
                 '"labels"', '"annotations": {"app.fedgate.io/creator": '
                 '"{\\"user\\":\\"admin\\"}"}, "labels"'),
             "set by the server"),
        )
        for what, body, message in cases:
            out = self.kube("ops", "create", "-f", "-", stdin=body)
            self.assertNotEqual(out.returncode, 0, what)
            self.assertIn(message, out.stderr, what)
        # a version that is not active
        self.push(web_chart("0.3.0", "hey"))
        out = self.kube("ops", "create", "-f", "-",
                        stdin=release("web-f", "m1", "0.3.0"))
        self.assertIn("only an active version", out.stderr)
        # the creator cannot be changed afterwards
        self.ok("nob", "create", "-f", "-",
                stdin=release("web-g", "m2", "0.1.0"))
        out = self.kube("nob", "annotate", "apprls", "web-g", "--overwrite",
                        'app.fedgate.io/creator={"user":"admin"}')
        self.assertIn("immutable", out.stderr)
        out = self.kube("nob", "label", "apprls", "web-g", "--overwrite",
                        "kubesphere.io/cluster=m1")
        self.assertIn("immutable", out.stderr)
        self.wait_state("web-g", ("failed",))
        self.ok("nob", "delete", "apprls", "web-g")


if __name__ == "__main__":
    unittest.main()
