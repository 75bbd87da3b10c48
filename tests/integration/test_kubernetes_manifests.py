"""packaging/kubernetes/host: `kubectl kustomize` renders what the issue
asks of a host Deployment (restricted pod, probes, resources, conf.d from a
ConfigMap, state from a Secret); the ConfigMap's configuration serves a host
with no members; and kubectl applies the manifests through a real gateway to
a mock member: a server-side dry run stores nothing, a plain apply creates
every object, a second apply changes nothing.

packaging/kubernetes/member: the member-side RBAC renders to a
ServiceAccount with a token whose only rights are to impersonate; loaded
into a member-role gateway's rbac plugin (Kubernetes RBAC semantics), the
token alone may do nothing but discovery, and through a host that reaches
the member directly with it, each request runs as the impersonated user,
whom the member's own rules then judge."""
import os
import subprocess
import unittest

import yaml

from harness import Gateway, SOURCE_DIR, mock_member
from test_direct import direct_member

MANIFESTS = os.path.join(SOURCE_DIR, "packaging", "kubernetes", "host")
MEMBER = os.path.join(SOURCE_DIR, "packaging", "kubernetes", "member")
KINDS = {"Namespace", "ServiceAccount", "ConfigMap", "Secret", "Deployment",
         "Service"}


def run(cmd, ok=True, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    if ok and out.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (
            " ".join(cmd), out.returncode, out.stdout, out.stderr))
    return out


def rendered(path=MANIFESTS):
    """The objects `kubectl kustomize PATH` renders, by kind."""
    docs = list(yaml.safe_load_all(run(["kubectl", "kustomize",
                                        path]).stdout))
    return {d["kind"]: d for d in docs}


def assert_restricted(tc, objs):
    """The Deployment in OBJS runs as its ServiceAccount at the restricted
    Pod Security level, every container with limits; returns its pod."""
    pod = objs["Deployment"]["spec"]["template"]["spec"]
    tc.assertTrue(pod["securityContext"]["runAsNonRoot"])
    tc.assertEqual(pod["securityContext"]["seccompProfile"]["type"],
                   "RuntimeDefault")
    tc.assertEqual(pod["serviceAccountName"],
                   objs["ServiceAccount"]["metadata"]["name"])
    for c in pod["initContainers"] + pod["containers"]:
        sc = c["securityContext"]
        tc.assertTrue(sc["readOnlyRootFilesystem"], c["name"])
        tc.assertFalse(sc["allowPrivilegeEscalation"], c["name"])
        tc.assertEqual(sc["capabilities"]["drop"], ["ALL"], c["name"])
        tc.assertIn("limits", c["resources"], c["name"])
    return pod


class KustomizeTest(unittest.TestCase):

    def setUp(self):
        self.objs = rendered()

    def test_objects_and_namespace(self):
        self.assertEqual(set(self.objs), KINDS)
        for kind, o in self.objs.items():
            if kind != "Namespace":
                self.assertEqual(o["metadata"]["namespace"], "fedgate", kind)
        self.assertEqual(self.objs["Namespace"]["metadata"]["labels"]
                         ["pod-security.kubernetes.io/enforce"], "restricted")

    def test_deployment(self):
        pod = assert_restricted(self, self.objs)
        gw = pod["containers"][0]
        self.assertEqual(gw["resources"]["requests"],
                         {"cpu": "100m", "memory": "64Mi"})
        self.assertEqual(gw["ports"][0]["containerPort"], 9443)
        for probe, path in (("livenessProbe", "/livez"),
                            ("readinessProbe", "/readyz")):
            get = gw[probe]["httpGet"]
            self.assertEqual((get["path"], get["scheme"]), (path, "HTTPS"))
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in gw["volumeMounts"]}
        conf = volumes[mounts["/etc/fedgate/conf.d"]]
        self.assertEqual(conf["configMap"]["name"],
                         self.objs["ConfigMap"]["metadata"]["name"])
        self.assertIn("emptyDir", volumes[mounts["/var/lib/fedgate"]])
        secret = [v for v in volumes.values() if "secret" in v][0]
        self.assertEqual(secret["secret"]["secretName"],
                         self.objs["Secret"]["metadata"]["name"])
        svc = self.objs["Service"]["spec"]
        self.assertEqual(svc["selector"], pod_labels(self.objs))
        self.assertEqual(svc["ports"][0]["targetPort"], "https")

    def test_configmap_serves_a_host_without_members(self):
        ini = self.objs["ConfigMap"]["data"]["10-gateway.ini"]
        self.assertIn("listen = 0.0.0.0:9443", ini)
        self.assertNotIn("[member", ini)
        gw = Gateway(members=[])
        self.addCleanup(gw.cleanup)
        gw.write("10-gateway.ini", ini)
        run([os.environ.get("FEDGATE_BIN", "fedgate"), "-c", gw.conf,
             "--check", "--state-dir", gw.state])
        # The pod's own paths and port are not this machine's.
        gw.start(args=["--listen", "127.0.0.1:%d" % gw.port,
                       "--state-dir", gw.state])
        self.addCleanup(gw.stop)
        out = run(["curl", "-sS", "--max-time", "5", "--cacert", gw.ca,
                   gw.base + "/readyz"])
        self.assertEqual(out.stdout, "ok")
        self.assertIn("serving 0 member(s) as host", gw.logs())
        self.assertEqual(gw.stop(), 0)


def pod_labels(objs):
    return objs["Deployment"]["spec"]["template"]["metadata"]["labels"]


class ApplyTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(members=[mock_member("demo", "demo.json")]).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.gw.stop()
        cls.gw.cleanup()
        assert code == 0, "fedgate exited with %s" % code

    def kubectl(self, *args, ok=True, stdin=None):
        return run(["kubectl", "--kubeconfig", self.gw.kubeconfig,
                    "--context", "demo", *args], ok=ok, input=stdin)

    def ours(self):
        out = self.kubectl("get", "deploy,svc,cm,secret,sa", "-n", "fedgate",
                           "-o", "name")
        return sorted(out.stdout.split())

    def test_dry_run_then_apply(self):
        # As on a real cluster, a dry run cannot create in a namespace that
        # does not exist yet.
        out = self.kubectl("apply", "--dry-run=server", "-k", MANIFESTS,
                           ok=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('namespaces "fedgate" not found', out.stderr)

        ns = yaml.safe_dump(rendered()["Namespace"])
        self.kubectl("apply", "-f", "-", stdin=ns)
        out = self.kubectl("apply", "--dry-run=server", "-k", MANIFESTS)
        self.assertEqual(out.stdout.count("(server dry run)"), len(KINDS),
                         out.stdout)
        self.assertEqual(self.ours(), [])

        out = self.kubectl("apply", "-k", MANIFESTS)
        self.assertIn("deployment.apps/fedgate created", out.stdout)
        self.assertEqual(self.ours(), [
            "configmap/fedgate-conf", "deployment.apps/fedgate",
            "secret/fedgate-state", "service/fedgate",
            "serviceaccount/fedgate"])
        out = self.kubectl("get", "deploy", "fedgate", "-n", "fedgate",
                           "-o", "jsonpath={.spec.template.spec.containers[0]"
                           ".resources.requests}")
        self.assertEqual(yaml.safe_load(out.stdout),
                         {"cpu": "100m", "memory": "64Mi"})
        out = self.kubectl("get", "sa", "-n", "fedgate")
        self.assertRegex(out.stdout, r"(?m)^NAME\s+SECRETS\s+AGE\n"
                                     r"fedgate\s+0\s+")

        out = self.kubectl("apply", "-k", MANIFESTS)
        self.assertEqual(out.stdout.count(" unchanged"), len(KINDS),
                         out.stdout)


SA_TOKEN = "member-sa-token-0123456789abcdef"
# The member's own rules beside the manifest's: Kubernetes' defaults
# (cluster-admin for system:masters, discovery for everyone) and vic, who
# may read pods in shop.
VIC_RULES = """
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: vic, namespace: shop}
roleRef: {kind: ClusterRole, name: pod-reader}
subjects: [{kind: User, name: vic}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
"""


def on_every_cluster(text):
    """Kubernetes RBAC YAML with each binding applying on every cluster,
    as fedgate's rbac reads a member's own rules."""
    docs = [d for d in yaml.safe_load_all(text) if d]
    for d in docs:
        if d["kind"].endswith("Binding"):
            d["metadata"].setdefault("annotations", {})[
                "fedgate.io/clusters"] = "*"
    return yaml.safe_dump_all(docs)


class MemberRbacTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.objs = rendered(MEMBER)
        sa = cls.objs["ServiceAccount"]["metadata"]
        cls.sa_user = "system:serviceaccount:%s:%s" % (sa["namespace"],
                                                       sa["name"])
        rules = {"rbac/manifest.yaml": on_every_cluster(yaml.safe_dump_all(
            [cls.objs["ClusterRole"], cls.objs["ClusterRoleBinding"]])),
                 "rbac/vic.yaml": on_every_cluster(VIC_RULES)}
        for name in ("00-cluster-admin.yaml", "05-discovery.yaml"):
            with open(os.path.join(SOURCE_DIR, "conf.d", "rbac", name)) as f:
                rules["rbac/" + name] = f.read()
        rules["tokens.csv"] = '%s,%s,77,"system:serviceaccounts,%s"\n' % (
            SA_TOKEN, cls.sa_user, "system:serviceaccounts:" + sa["namespace"])
        rules["sa.token"] = SA_TOKEN + "\n"
        cls.member = Gateway(
            members=[mock_member("edge", "demo.json")], role="member",
            extra_files=rules, policy=(
                '\n[policy]\nchain = tokens, rbac\n[plugin "tokens"]\n'
                'plugin = authn_token\ntoken_file = tokens.csv\n'
                '[plugin "rbac"]\nplugin = rbac\nrules = rbac\n')).start()
        os.chmod(os.path.join(cls.member.conf, "sa.token"), 0o600)
        cls.host = Gateway(members=[direct_member(
            "edge", cls.member.port, cls.member.ca,
            os.path.join(cls.member.conf, "sa.token"))])
        try:
            cls.host.start()
        except Exception:
            cls.member.stop()
            cls.member.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        codes = [cls.host.stop(), cls.member.stop()]
        cls.host.cleanup()
        cls.member.cleanup()
        assert codes == [0, 0], "fedgate exited with %s" % codes

    def test_rendered(self):
        self.assertEqual(set(self.objs), {
            "Namespace", "ServiceAccount", "Secret", "ClusterRole",
            "ClusterRoleBinding"})
        for rule in self.objs["ClusterRole"]["rules"]:
            self.assertEqual(rule["verbs"], ["impersonate"], rule)
        sa = self.objs["ServiceAccount"]["metadata"]
        self.assertEqual(self.objs["ClusterRoleBinding"]["subjects"], [{
            "kind": "ServiceAccount", "name": sa["name"],
            "namespace": sa["namespace"]}])
        self.assertEqual(self.objs["ClusterRoleBinding"]["roleRef"]["name"],
                         self.objs["ClusterRole"]["metadata"]["name"])
        secret = self.objs["Secret"]
        self.assertEqual(secret["type"], "kubernetes.io/service-account-token")
        self.assertEqual(secret["metadata"]["annotations"]
                         ["kubernetes.io/service-account.name"], sa["name"])

    def on_member(self, *args):
        return run(["kubectl", "--kubeconfig", self.member.kubeconfig,
                    "--context", "edge", "--token", SA_TOKEN,
                    "--request-timeout=20s", *args], ok=False)

    def through_host(self, *args):
        return run(["kubectl", "--kubeconfig", self.host.kubeconfig,
                    "--context", "edge", "--request-timeout=20s", *args],
                   ok=False)

    def test_the_token_alone_may_only_impersonate(self):
        for args in (("get", "pods", "-n", "shop"), ("get", "nodes"),
                     ("get", "secrets", "-A"),
                     ("create", "configmap", "x", "-n", "shop")):
            out = self.on_member(*args)
            self.assertNotEqual(out.returncode, 0, args)
            self.assertIn('User "%s" cannot' % self.sa_user, out.stderr)
        out = self.on_member("auth", "can-i", "--list")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = {line.split()[0]: line.split()[-1]
                for line in out.stdout.splitlines()[1:]
                if not line.lstrip().startswith("[")}
        self.assertEqual(rows, {
            "selfsubjectaccessreviews.authorization.k8s.io": "[create]",
            "selfsubjectrulesreviews.authorization.k8s.io": "[create]",
            "selfsubjectreviews.authentication.k8s.io": "[create]",
            "users": "[impersonate]", "groups": "[impersonate]",
            "serviceaccounts": "[impersonate]",
            "*.authentication.k8s.io": "[impersonate]"},
            out.stdout)

    def test_requests_through_the_host_run_as_the_user(self):
        # the host's admin is system:masters on the member too
        out = self.through_host("get", "secrets", "-n", "shop")
        self.assertEqual(out.returncode, 0, out.stderr)
        out = self.through_host("--as", "vic", "get", "pods", "-n", "shop")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("frontend-", out.stdout)
        # the member's own 403, unchanged
        out = self.through_host("--as", "vic", "get", "pods", "-n",
                                "payments")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('pods is forbidden: User "vic" cannot list resource '
                      '"pods" in API group "" in the namespace "payments"',
                      out.stderr)
        # a service account, a group and a uid are impersonated too: the
        # member's refusal names the account, not an impersonation
        out = self.through_host("--as", "system:serviceaccount:shop:robot",
                                "--as-group", "g", "--as-uid", "9", "get",
                                "pods", "-n", "shop")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('User "system:serviceaccount:shop:robot" cannot list '
                      'resource "pods"', out.stderr)
        # extra attributes (kubectl has no flag for them): allowed too
        out = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                   "--cacert", self.host.ca, "-H",
                   "Authorization: Bearer " + self.host.token, "-H",
                   "Impersonate-User: vic", "-H", "Impersonate-Extra-Scopes: a",
                   self.host.base + "/clusters/edge/api/v1/namespaces/shop/pods"],
                  ok=False)
        self.assertEqual(out.stdout, "200", out.stderr)


if __name__ == "__main__":
    unittest.main()
