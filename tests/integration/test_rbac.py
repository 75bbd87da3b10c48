"""Access control on a real gateway: the shipped chain (admin_token, the
static token file, rbac with conf.d/rbac's rules) and kubectl as three
users on two mock members, host and demo: a platform admin (everything
everywhere), a viewer of demo (reads, logs; no writes, exec or secrets;
nothing on host) and the admin of namespace shop on demo. What each can
and cannot do, the 403 Status in kube-apiserver's words, 401 for unknown
tokens, and SIGHUP picking up a changed token file and rule file (and
keeping the old rules when the new ones do not load); the shop team's
kubeconfig from fedgatectl --server has demo's context only."""
import json
import os
import signal
import subprocess
import unittest

from harness import FEDGATE, SOURCE_DIR, GatewayTest, wait_for

POD = "frontend-krp6rjtt85-mdggl"  # in namespace shop on demo
TOKENS = {
    "ada": ("ada-token-0123456789abcdef", "platform-admins"),
    "vic": ("vic-token-0123456789abcdef", "demo-viewers"),
    "nia": ("nia-token-0123456789abcdef", "shop-admins"),
}


def token_line(user, uid=1000):
    token, groups = TOKENS[user]
    return '%s,%s,%d,"%s,everyone"\n' % (token, user, uid, groups)


POLICY = """
[policy]
chain = admin_token, tokens, rbac
[plugin "admin_token"]
[plugin "tokens"]
plugin = authn_token
token_file = tokens.csv
[plugin "rbac"]
plugin = rbac
rules = rbac
"""


def bind_group(role, group):
    """A ClusterRoleBinding of ROLE to GROUP (named after the group), as
    YAML for a rules file."""
    return ("apiVersion: rbac.authorization.k8s.io/v1\n"
            "kind: ClusterRoleBinding\nmetadata:\n  name: %s\n"
            "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n"
            "  kind: ClusterRole\n  name: %s\nsubjects:\n"
            "- apiGroup: rbac.authorization.k8s.io\n  kind: Group\n"
            "  name: %s\n" % (group, role, group))


def shipped_rules():
    d = os.path.join(SOURCE_DIR, "conf.d", "rbac")
    out = {}
    for name in os.listdir(d):
        with open(os.path.join(d, name)) as f:
            out["rbac/" + name] = f.read()
    return out


def user_kubeconfigs(gw):
    """{user: path} of GW's admin kubeconfig with each user's token."""
    with open(gw.kubeconfig) as f:
        admin = json.load(f)
    out = {}
    for user, (token, _) in TOKENS.items():
        admin["users"][0]["user"]["token"] = token
        out[user] = os.path.join(gw.tmp, user + ".kubeconfig")
        with open(out[user], "w") as f:
            json.dump(admin, f)
    return out


def team_kubeconfig(test, gw, user, *args):
    """fedgatectl kubeconfig for USER with a token appended to GW's
    tokens.csv and ARGS: (the kubeconfig, its standard error)."""
    out = subprocess.run(
        [os.path.join(os.path.dirname(FEDGATE), "fedgatectl"), "kubeconfig",
         "-c", gw.conf, "--user", user, "--token-file",
         os.path.join(gw.conf, "tokens.csv"), *args],
        capture_output=True, text=True, timeout=120)
    test.assertEqual(out.returncode, 0, out.stderr)
    return json.loads(out.stdout), out.stderr


class RbacTest(GatewayTest):

    policy = POLICY
    extra_files = dict(shipped_rules(), **{"tokens.csv": "".join(
        token_line(u, 1000 + i) for i, u in enumerate(TOKENS))})

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kubeconfigs = user_kubeconfigs(cls.gw)

    @classmethod
    def write_tokens(cls, text):
        path = os.path.join(cls.gw.conf, "tokens.csv")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)

    def kubectl(self, user, cluster, *args, input=None):
        cmd = ["kubectl", "--kubeconfig", self.kubeconfigs[user], "--context",
               cluster, "--request-timeout=20s"] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                              input=input)

    def can(self, user, cluster, *args, input=None):
        out = self.kubectl(user, cluster, *args, input=input)
        self.assertEqual(out.returncode, 0, "%s on %s: %s failed:\n%s%s" % (
            user, cluster, " ".join(args), out.stdout, out.stderr))
        return out.stdout

    def cannot(self, user, cluster, *args, input=None, message=None):
        out = self.kubectl(user, cluster, *args, input=input)
        self.assertNotEqual(out.returncode, 0, "%s on %s: %s succeeded" % (
            user, cluster, " ".join(args)))
        self.assertIn("is forbidden", out.stderr)
        if message:
            self.assertIn(message, out.stderr)
        return out.stderr

    def curl(self, path, token, *args):
        cmd = ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca,
               "-o", "-", "-w", "\n%{http_code}"]
        if token:
            cmd += ["-H", "Authorization: Bearer " + token]
        out = subprocess.run(cmd + list(args) + [self.gw.base + path],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), body

    # ---- the three users ------------------------------------------------

    def test_platform_admin_everywhere(self):
        for cluster in ("host", "demo"):
            self.assertIn("Running", self.can("ada", cluster, "get", "pods",
                                              "-A"))
            self.can("ada", cluster, "get", "nodes")
            self.can("ada", cluster, "create", "configmap", "ada-cm",
                     "-n", "default", "--from-literal=a=b")
            self.can("ada", cluster, "delete", "configmap", "ada-cm",
                     "-n", "default")
            self.can("ada", cluster, "get", "secrets", "-A")
        self.can("ada", "demo", "logs", "-n", "shop", POD, "--tail=1")
        self.assertIn("hi", self.can("ada", "demo", "exec", "-n", "shop", POD,
                                     "--", "echo", "hi"))

    def test_viewer_of_one_cluster(self):
        self.assertIn(POD, self.can("vic", "demo", "get", "pods", "-n",
                                    "shop"))
        self.can("vic", "demo", "get", "pods", "-A")
        self.can("vic", "demo", "get", "deployments", "-n", "shop")
        self.can("vic", "demo", "logs", "-n", "shop", POD, "--tail=1")
        self.cannot("vic", "demo", "delete", "pod", "-n", "shop", POD,
                    message='pods "%s" is forbidden: User "vic" cannot '
                            'delete resource "pods" in API group "" in the '
                            'namespace "shop"' % POD)
        self.cannot("vic", "demo", "create", "configmap", "vic-cm", "-n",
                    "shop", "--from-literal=a=b")
        self.cannot("vic", "demo", "get", "secrets", "-n", "shop")
        self.cannot("vic", "demo", "exec", "-n", "shop", POD, "--", "echo",
                    "hi")
        self.cannot("vic", "host", "get", "pods", "-n", "kube-system",
                    message='pods is forbidden: User "vic" cannot list '
                            'resource "pods" in API group "" in the '
                            'namespace "kube-system"')
        self.cannot("vic", "host", "get", "nodes",
                    message='nodes is forbidden: User "vic" cannot list '
                            'resource "nodes" in API group "" at the cluster '
                            'scope')

    def test_namespace_admin(self):
        self.assertIn(POD, self.can("nia", "demo", "get", "pods", "-n",
                                    "shop"))
        self.can("nia", "demo", "create", "configmap", "nia-cm", "-n", "shop",
                 "--from-literal=a=b")
        self.can("nia", "demo", "get", "configmap", "nia-cm", "-n", "shop")
        self.can("nia", "demo", "delete", "configmap", "nia-cm", "-n", "shop")
        self.can("nia", "demo", "get", "secrets", "-n", "shop")
        self.can("nia", "demo", "logs", "-n", "shop", POD, "--tail=1")
        self.assertIn("hi", self.can("nia", "demo", "exec", "-n", "shop", POD,
                                     "--", "echo", "hi"))
        self.cannot("nia", "demo", "get", "pods", "-n", "payments")
        self.cannot("nia", "demo", "get", "pods", "-A",
                    message='User "nia" cannot list resource "pods" in API '
                            'group "" at the cluster scope')
        self.cannot("nia", "demo", "get", "nodes")
        self.cannot("nia", "demo", "delete", "namespace", "shop",
                    message='namespaces "shop" is forbidden')
        self.cannot("nia", "host", "get", "pods", "-n", "shop")

    # ---- the answers ----------------------------------------------------

    def test_forbidden_status(self):
        code, body = self.curl(
            "/clusters/demo/api/v1/namespaces/payments/pods",
            TOKENS["nia"][0])
        self.assertEqual(code, 403, body)
        st = json.loads(body)
        self.assertEqual((st["kind"], st["status"], st["reason"], st["code"]),
                         ("Status", "Failure", "Forbidden", 403))
        self.assertEqual(st["message"],
                         'pods is forbidden: User "nia" cannot list resource '
                         '"pods" in API group "" in the namespace "payments" '
                         'on the member cluster "demo"')
        code, body = self.curl("/clusters/demo/version", TOKENS["nia"][0])
        self.assertEqual(code, 200, body)  # discovery: every user
        code, body = self.curl("/clusters/demo/metrics", TOKENS["nia"][0])
        self.assertEqual(code, 403, body)
        self.assertEqual(json.loads(body)["message"],
                         'forbidden: User "nia" cannot get path '
                         '"/metrics" on the member cluster "demo"')

    def test_unknown_token_and_two_authorizations(self):
        for token in ("not-a-token", TOKENS["vic"][0] + "x",
                      TOKENS["vic"][0][:-1], None):
            code, body = self.curl("/clusters/demo/api/v1/pods", token)
            self.assertEqual(code, 401, body)
            self.assertEqual(json.loads(body)["reason"], "Unauthorized")
        code, body = self.curl("/clusters/demo/api/v1/pods", TOKENS["vic"][0],
                               "-H", "Authorization: Bearer not-a-token")
        self.assertEqual(code, 401, body)
        self.assertIn("more than one Authorization header",
                      json.loads(body)["message"])

    def test_team_kubeconfig_has_only_its_cluster(self):
        kc, _ = team_kubeconfig(self, self.gw, "sam", "--group", "shop-admins",
                                "--server", self.gw.base)
        self.assertEqual(kc["contexts"], [{"name": "demo", "context": {
            "cluster": "demo", "user": "sam", "namespace": "shop"}}, {
            "name": "fedgate.fleet", "context": {
                "cluster": "fedgate.fleet", "user": "sam"}}])
        self.assertEqual(kc["current-context"], "demo")

    # ---- SIGHUP ---------------------------------------------------------

    def hup_until(self, predicate, what):
        self.gw.signal(signal.SIGHUP)
        wait_for(predicate, 20, what)

    def test_sighup_rereads_tokens_and_rules(self):
        pods = "/clusters/host/api/v1/namespaces/kube-system/pods"
        late = "late-token-0123456789abcdef"
        self.assertEqual(self.curl(pods, late)[0], 401)
        self.assertEqual(self.curl(pods, TOKENS["vic"][0])[0], 403)
        rules = os.path.join(self.gw.conf, "rbac", "50-test.yaml")
        tokens = "".join(token_line(u, 1000 + i)
                         for i, u in enumerate(TOKENS))
        try:
            # a token and a binding added: both in effect after SIGHUP
            self.write_tokens(tokens + "%s,late,2000,demo-viewers\n" % late)
            with open(rules, "w") as f:
                f.write("apiVersion: rbac.authorization.k8s.io/v1\n"
                        "kind: ClusterRoleBinding\n"
                        "metadata:\n  name: vic-on-host\n"
                        "  annotations: {fedgate.io/clusters: host}\n"
                        "roleRef: {kind: ClusterRole, name: cluster-viewer}\n"
                        "subjects: [{kind: User, name: vic}]\n")
            self.hup_until(lambda: self.curl(pods, TOKENS["vic"][0])[0] == 200,
                           "vic's new binding on host")
            wait_for(lambda: self.curl(
                "/clusters/demo/api/v1/namespaces/shop/pods", late)[0] == 200,
                20, "late's token")
            # files that do not load: the tokens and rules before stay
            self.write_tokens(tokens + "broken,\"line\n")
            with open(rules, "a") as f:
                f.write("---\nkind: Role\n")
            self.gw.signal(signal.SIGHUP)
            try:
                wait_for(lambda: "50-test.yaml:9: " in self.gw.logs() and
                         "tokens.csv:4: " in self.gw.logs(), 20,
                         "both errors in the log")
            except AssertionError:
                self.fail(self.gw.logs())
            self.assertIn("the rules read before stay", self.gw.logs())
            self.assertIn("the tokens read before stay", self.gw.logs())
            self.assertEqual(self.curl(pods, TOKENS["vic"][0])[0], 200)
            self.assertEqual(self.curl(pods, late)[0], 403)
        finally:
            os.unlink(rules)
            self.write_tokens(tokens)
            self.gw.signal(signal.SIGHUP)
        wait_for(lambda: self.curl(pods, TOKENS["vic"][0])[0] == 403 and
                 self.curl(pods, late)[0] == 401, 20, "the files as before")


if __name__ == "__main__":
    unittest.main()
