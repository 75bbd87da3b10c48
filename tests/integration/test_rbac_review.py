"""What kubectl's questions answer against what actually happens, on the
shipped chain (admin_token, the static token file, rbac with conf.d/rbac's
rules and test_rbac's three users) over three members: host and demo
(mock) and edge, a direct member (a member-role fedgate reached over
TLS). The test's own rule file binds shop-admins on edge too and the
service account shop/robot as a viewer of shop on demo.

For every subject (ada the platform admin, vic the viewer of demo, nia the
admin of shop, ada acting --as vic with and without vic's groups, ada
acting --as robot) and every
cluster, `kubectl auth can-i` over a table of verbs x resources x
namespaces says yes exactly where the same request, sent for real, is not
refused with 403; ada --as vic answers exactly as vic; `auth can-i --list`
shows each subject's rules there; `auth whoami` the user and groups; a
viewer's --as is 403 in kube-apiserver's words; the Python client's
SelfSubjectAccessReview agrees. `fedgatectl kubeconfig --server` gives
each team contexts for only the members it may do something in, in its
namespace when it has one."""
import json
import os
import signal
import subprocess
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import Gateway, mock_member, wait_for
import test_direct
from test_direct import direct_member
from test_rbac import (POLICY, TOKENS, shipped_rules, team_kubeconfig,
                       token_line, user_kubeconfigs)

stop_checked = test_direct.Base.stop_checked
ROBOT = "system:serviceaccount:shop:robot"
TEST_RULES = """
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: shop-admins-on-edge
  namespace: shop
  annotations: {fedgate.io/clusters: edge}
roleRef: {kind: ClusterRole, name: namespace-admin}
subjects: [{kind: Group, name: shop-admins}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: robot-views-shop
  namespace: shop
  annotations: {fedgate.io/clusters: demo}
roleRef: {kind: ClusterRole, name: cluster-viewer}
subjects: [{kind: ServiceAccount, name: robot, namespace: shop}]
"""

# Subjects: (whose token, --as user, --as-group groups). As in Kubernetes,
# acting as a user brings none of the groups the user's own credential
# carries: ada acting as vic names vic's groups to get vic's rights, and
# without them has only what is bound to the name vic (nothing).
SUBJECTS = {
    "ada": ("ada", None, ()),
    "vic": ("vic", None, ()),
    "nia": ("nia", None, ()),
    "ada-as-vic": ("ada", "vic", ("demo-viewers", "everyone")),
    "ada-as-vic-alone": ("ada", "vic", ()),
    "robot": ("ada", ROBOT, ()),
}
CLUSTERS = ("host", "demo", "edge")
CONFIGMAP = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "can-i-probe"}})


def namespaced(ns):
    """(can-i arguments, method, path, body) for namespace NS."""
    core = "/api/v1/namespaces/%s/" % ns
    return [
        (("get", "pods/x"), "GET", core + "pods/x", None),
        (("list", "pods"), "GET", core + "pods", None),
        (("delete", "pods/x"), "DELETE", core + "pods/x", None),
        (("get", "pods", "--subresource=log"), "GET", core + "pods/x/log",
         None),
        (("create", "pods", "--subresource=exec"), "POST",
         core + "pods/x/exec?command=true&stdout=true", None),
        (("list", "secrets"), "GET", core + "secrets", None),
        (("create", "configmaps"), "POST", core + "configmaps", CONFIGMAP),
        (("list", "deployments.apps"), "GET",
         "/apis/apps/v1/namespaces/%s/deployments" % ns, None),
        (("update", "deployments.apps", "--subresource=scale"), "PUT",
         "/apis/apps/v1/namespaces/%s/deployments/x/scale" % ns, "{}"),
        (("list", "services"), "GET", core + "services", None),
    ]


CASES = [(args + ("-n", ns), m, p, b) for ns in ("shop", "payments")
         for args, m, p, b in namespaced(ns)] + [
    (("list", "pods", "-A"), "GET", "/api/v1/pods", None),
    (("list", "nodes"), "GET", "/api/v1/nodes", None),
    (("delete", "namespaces/gone"), "DELETE", "/api/v1/namespaces/gone",
     None),
    (("list", "namespaces"), "GET", "/api/v1/namespaces", None),
    (("get", "/metrics"), "GET", "/metrics", None),
    (("get", "/version"), "GET", "/version", None),
]

# What each subject may do, by the rules: (cluster, case index) pairs that
# are allowed, written out per subject so that a wrong rule set and a
# wrong answer cannot agree by accident.
ALL = {(c, i) for c in CLUSTERS for i in range(len(CASES))}


def where(clusters, pred):
    return {(c, i) for c in clusters for i, case in enumerate(CASES)
            if pred(case[0])}


def ns_of(args):
    return args[args.index("-n") + 1] if "-n" in args else None


VIEWER_READS = {"pods", "pods/x", "deployments.apps", "services", "nodes",
                "namespaces"}


def viewer(args):
    return (args[0] in ("get", "list") and args[1] in VIEWER_READS
            and "--subresource=log" not in args or
            args[:3] == ("get", "pods", "--subresource=log"))


def shop_admin(args):
    return ns_of(args) == "shop" or args[1] == "/version"


DISCOVERY = where(CLUSTERS, lambda a: a[1] == "/version")
EXPECTED = {
    "ada": ALL,
    "vic": DISCOVERY | where(("demo",), viewer),
    "nia": DISCOVERY | where(("demo", "edge"), shop_admin),
    "robot": DISCOVERY | where(("demo",), lambda a: ns_of(a) == "shop" and
                               viewer(a)),
}
EXPECTED["ada-as-vic"] = EXPECTED["vic"]
EXPECTED["ada-as-vic-alone"] = DISCOVERY


class CanITest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        files = dict(shipped_rules(), **{
            "rbac/50-test.yaml": TEST_RULES,
            "tokens.csv": "".join(token_line(u, 1000 + i)
                                  for i, u in enumerate(TOKENS))})
        cls.member = Gateway(members=[mock_member("edge", "demo.json")],
                             role="member").start()
        cls.gw = Gateway(policy=POLICY, extra_files=files, members=[
            mock_member("host", "host.json"), mock_member("demo", "demo.json"),
            direct_member("edge", cls.member.port, cls.member.ca,
                          os.path.join(cls.member.state, "admin.token"))])
        try:
            cls.gw.start()
        except Exception:
            stop_checked(cls.member)
            raise
        cls.kubeconfigs = user_kubeconfigs(cls.gw)

    @classmethod
    def tearDownClass(cls):
        try:
            stop_checked(cls.gw)
        finally:
            stop_checked(cls.member)

    def kubectl(self, subject, cluster, *args):
        user, as_, groups = SUBJECTS[subject]
        cmd = ["kubectl", "--kubeconfig", self.kubeconfigs[user], "--context",
               cluster, "--request-timeout=20s"]
        if as_:
            cmd += ["--as", as_]
        for g in groups:
            cmd += ["--as-group", g]
        return subprocess.run(cmd + list(args), capture_output=True,
                              text=True, timeout=60)

    def request(self, subject, cluster, method, path, body):
        user, as_, groups = SUBJECTS[subject]
        cmd = ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca,
               "-X", method, "-o", "-", "-w", "\n%{http_code}",
               "-H", "Authorization: Bearer " + TOKENS[user][0]]
        if as_:
            cmd += ["-H", "Impersonate-User: " + as_]
        for g in groups:
            cmd += ["-H", "Impersonate-Group: " + g]
        if body is not None:
            cmd += ["-H", "Content-Type: application/json", "-d", body]
        out = subprocess.run(cmd + [self.gw.base + "/clusters/" + cluster +
                                    path],
                             capture_output=True, text=True, timeout=30)
        body, _, code = out.stdout.rpartition("\n")
        return int(code or 0), body

    # ---- can-i against what happens ----------------------------------

    def answer(self, job):
        subject, cluster, i = job
        args, method, path, body = CASES[i]
        out = self.kubectl(subject, cluster, "auth", "can-i", *args)
        code, text = self.request(subject, cluster, method, path, body)
        return job, out.stdout.strip(), out.returncode, out.stderr, code, text

    def test_can_i_is_what_happens(self):
        jobs = [(s, c, i) for s in SUBJECTS for c in CLUSTERS
                for i in range(len(CASES))]
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(self.answer, jobs))
        wrong = []
        for (s, c, i), said, rc, err, code, text in results:
            allowed = (c, i) in EXPECTED[s]
            happened = code != 403
            if (said != ("yes" if allowed else "no") or
                    rc != (0 if allowed else 1) or happened != allowed or
                    code in (0, 401, 500, 502, 503)):
                wrong.append("%s on %s: can-i %s said %r (%s), the request "
                             "got %d %s" % (s, c, " ".join(CASES[i][0]), said,
                                            err.strip(), code, text[:200]))
        self.assertEqual(wrong, [], "\n".join(wrong))

    # ---- --list, whoami, --as ----------------------------------------

    def rows(self, subject, cluster, ns):
        """{first column: verbs} of what --list shows: a resource, or a
        non-resource URL in brackets."""
        out = self.kubectl(subject, cluster, "auth", "can-i", "--list",
                           "-n", ns)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["Resources", "Non-Resource",
                                            "URLs", "Resource", "Names",
                                            "Verbs"])
        return {line.split()[0]: line[line.rindex("[") + 1:-1].split()
                for line in (l.rstrip() for l in lines[1:]) if line}

    def resources(self, subject, cluster, ns):
        return {k: v for k, v in self.rows(subject, cluster, ns).items()
                if not k.startswith("[")}

    BASELINE = {"selfsubjectaccessreviews.authorization.k8s.io": ["create"],
                "selfsubjectrulesreviews.authorization.k8s.io": ["create"],
                "selfsubjectreviews.authentication.k8s.io": ["create"]}

    def test_can_i_list(self):
        viewer = self.resources("vic", "demo", "shop")
        self.assertEqual(viewer["pods"], ["get", "list", "watch"])
        self.assertEqual(viewer["pods/log"], ["get", "list", "watch"])
        self.assertNotIn("secrets", viewer)
        self.assertNotIn("pods/exec", viewer)
        self.assertEqual(self.resources("ada-as-vic", "demo", "shop"), viewer)
        self.assertEqual(self.resources("robot", "demo", "shop"), viewer)
        self.assertEqual(self.resources("ada-as-vic-alone", "demo", "shop"),
                         self.BASELINE)
        self.assertEqual(self.resources("robot", "demo", "payments"),
                         self.BASELINE)
        for cluster in ("host", "edge"):
            self.assertEqual(self.resources("vic", cluster, "shop"),
                             self.BASELINE, cluster)
        for cluster in ("demo", "edge"):
            admin = self.resources("nia", cluster, "shop")
            self.assertEqual(admin["secrets"], ["*"])
            self.assertEqual(admin["pods/exec"], ["*"])
            self.assertEqual(admin["*.apps"], ["*"])
            self.assertEqual(self.resources("nia", cluster, "payments"),
                             self.BASELINE)
        self.assertEqual(self.resources("nia", "host", "shop"), self.BASELINE)
        self.assertEqual(self.resources("ada", "edge", "payments")["*.*"],
                         ["*"])
        urls = [name for name in self.rows("vic", "host", "shop")
                if name.startswith("[")]
        self.assertIn("[/version]", urls)
        self.assertIn("[/apis/*]", urls)

    def test_whoami(self):
        for subject, user, uid, groups in [
                ("nia", "nia", "1002", ["shop-admins", "everyone",
                                        "system:authenticated"]),
                ("ada-as-vic", "vic", None, ["demo-viewers", "everyone",
                                             "system:authenticated"]),
                ("ada-as-vic-alone", "vic", None, ["system:authenticated"]),
                ("robot", ROBOT, None, ["system:serviceaccounts",
                                        "system:serviceaccounts:shop",
                                        "system:authenticated"])]:
            for cluster in CLUSTERS:
                out = self.kubectl(subject, cluster, "auth", "whoami", "-o",
                                   "json")
                self.assertEqual(out.returncode, 0, out.stderr)
                info = json.loads(out.stdout)["status"]["userInfo"]
                want = {"username": user, "groups": groups}
                if uid:
                    want["uid"] = uid
                self.assertEqual(info, want, (subject, cluster))

    def test_viewer_cannot_act_as_another(self):
        for args, what in [
                (("--as", "ada"), 'users "ada" is forbidden: User "vic" '
                 'cannot impersonate resource "users" in API group "" at '
                 'the cluster scope on the member cluster "demo"'),
                (("--as", ROBOT), 'serviceaccounts "robot" is forbidden: '
                 'User "vic" cannot impersonate resource "serviceaccounts" '
                 'in API group "" in the namespace "shop"')]:
            out = subprocess.run(
                ["kubectl", "--kubeconfig", self.kubeconfigs["vic"],
                 "--context", "demo", "--request-timeout=20s", *args, "get",
                 "pods", "-n", "shop"], capture_output=True, text=True,
                timeout=60)
            self.assertNotEqual(out.returncode, 0, args)
            self.assertIn(what, out.stderr, args)

    def test_python_client(self):
        from kubernetes import client, config
        cfg = client.Configuration()
        config.load_kube_config(config_file=self.kubeconfigs["nia"],
                                context="edge", client_configuration=cfg)
        with client.ApiClient(cfg) as api:
            authz = client.AuthorizationV1Api(api)
            for verb, ns, allowed in (("delete", "shop", True),
                                      ("list", "payments", False)):
                review = authz.create_self_subject_access_review(
                    client.V1SelfSubjectAccessReview(
                        spec=client.V1SelfSubjectAccessReviewSpec(
                            resource_attributes=client.V1ResourceAttributes(
                                verb=verb, resource="secrets",
                                namespace=ns))))
                self.assertEqual(review.status.allowed, allowed, (verb, ns))
            core = client.CoreV1Api(api)
            core.list_namespaced_secret("shop")
            with self.assertRaises(client.ApiException) as ctx:
                core.list_namespaced_secret("payments")
            self.assertEqual(ctx.exception.status, 403)

    # ---- fedgatectl kubeconfig --server ------------------------------

    def fedgatectl(self, user, *args):
        return team_kubeconfig(self, self.gw, user, *args)

    def test_fedgatectl_kubeconfig_sees_only_its_clusters(self):
        server = ["--server", self.gw.base]
        contexts = {}
        for user, groups, want in [
                ("ada2", ["platform-admins"],
                 {"host": None, "demo": None, "edge": None, "_all": None}),
                ("vic2", ["demo-viewers"], {"demo": None}),
                ("nia2", ["shop-admins", "everyone"],
                 {"demo": "shop", "edge": "shop", "_all": None}),
                ("nobody", [], {})]:
            args = server + [a for g in groups for a in ("--group", g)]
            kc, err = self.fedgatectl(user, *args)
            # the host's own API: every user's, it lists what they reach
            got = {c["name"]: c["context"].get("namespace")
                   for c in kc["contexts"] if c["name"] != "fedgate.fleet"}
            self.assertEqual(got, want, (user, err))
            if not want:
                self.assertIn("nobody may do nothing beyond discovery", err)
            contexts[user] = kc
        kc, _ = self.fedgatectl("all")  # without --server: every member
        self.assertEqual([c["name"] for c in kc["contexts"]],
                         ["host", "demo", "edge", "_all", "fedgate.fleet"])
        # the new tokens work once the gateway has re-read the file
        path = os.path.join(self.gw.tmp, "nia2.kubeconfig")
        with open(path, "w") as f:
            json.dump(contexts["nia2"], f)
        self.gw.signal(signal.SIGHUP)

        def pods(context):
            return subprocess.run(
                ["kubectl", "--kubeconfig", path, "--context", context,
                 "--request-timeout=20s", "get", "pods", "-o", "name"],
                capture_output=True, text=True, timeout=60)
        wait_for(lambda: pods("demo").returncode == 0, 20, "nia2's token")
        for context in ("demo", "edge"):
            out = pods(context)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("pod/frontend-", out.stdout)


if __name__ == "__main__":
    unittest.main()
