"""kubectl --as / --as-group / --as-uid through the gateway: each
Impersonate-* header is an "impersonate" question to the authorizers as
kube-apiserver asks it; allowed, the request runs as the identity they
build (authorize, whoami and the member see it); refused, a 403 worded as
kube-apiserver words it. Verdicts now, and (AsyncImpersonationTest)
later."""
import json
import subprocess

from access_common import AccessTest


class ImpersonationTest(AccessTest):

    def test_allowed_runs_as_the_impersonated_user(self):
        mark = self.call_mark()
        out = self.kubectl("alice", "--as", "bob", "get", "pods", "-n",
                           "other")
        self.assertEqual(out.returncode, 0, out.stderr)
        calls = self.calls_since(mark)
        asked = [c for c in calls if c["review"] == "1"]
        self.assertTrue(asked, calls)
        self.assertEqual(
            {k: asked[0][k] for k in ("user", "verb", "group", "resource",
                                      "namespace", "name")},
            {"user": "alice", "verb": "impersonate", "group": "",
             "resource": "users", "namespace": "", "name": "bob"})
        served = [c for c in calls if c["review"] == "0" and
                  c["resource"] == "pods"]
        self.assertEqual(served[-1]["user"], "bob")
        self.assertEqual(served[-1]["groups"], "system:authenticated")
        # bob may not list secrets, whoever asks as him
        out = self.kubectl("alice", "--as", "bob", "get", "secrets")
        self.assertIn('User "bob" cannot list resource "secrets"', out.stderr)

    def test_refused_is_403_in_kubernetes_words(self):
        for args, what in [
                (("--as", "root"),
                 'users "root" is forbidden: User "alice" cannot impersonate '
                 'resource "users" in API group "" at the cluster scope on '
                 'the member cluster "demo"'),
                (("--as", "bob", "--as-group", "admins"),
                 'groups "admins" is forbidden: User "alice" cannot '
                 'impersonate resource "groups" in API group ""'),
                (("--as", "bob", "--as-uid", "7"),
                 'uids.authentication.k8s.io "7" is forbidden: User "alice" cannot impersonate '
                 'resource "uids" in API group "authentication.k8s.io"'),
                (("--as", "system:serviceaccount:ns1:robot"),
                 'serviceaccounts "robot" is forbidden: User "alice" cannot '
                 'impersonate resource "serviceaccounts" in API group "" in '
                 'the namespace "ns1"')]:
            out = self.kubectl("alice", *args, "get", "pods", "-n", "default")
            self.assertNotEqual(out.returncode, 0, args)
            self.assertIn(what, out.stderr, args)

    def test_groups_uid_and_extra_as_kube_builds_them(self):
        out = self.kubectl("alice", "--as", "bob", "--as-group", "team-b",
                           "get", "configmaps", "-n", "default")
        self.assertEqual(out.returncode, 0, out.stderr)
        out = self.kubectl("root", "--as", "system:serviceaccount:ns1:robot",
                           "--as-uid", "42", "auth", "whoami", "-o", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["status"]["userInfo"], {
            "username": "system:serviceaccount:ns1:robot", "uid": "42",
            "groups": ["system:serviceaccounts",
                       "system:serviceaccounts:ns1", "system:authenticated"]})
        mark = self.call_mark()
        code, body = self.curl("root-token", "Impersonate-User: u",
                               "Impersonate-Extra-Scopes%2Fa: s1",
                               "Impersonate-Extra-scopes%2Fa: s2",
                               "Impersonate-Group: system:unauthenticated")
        self.assertEqual(code, 201, body)
        self.assertEqual(json.loads(body)["status"]["userInfo"], {
            "username": "u", "groups": ["system:unauthenticated"],
            "extra": {"scopes/a": ["s1", "s2"]}})
        asked = [(c["resource"], c["sub"], c["name"], c["group"])
                 for c in self.calls_since(mark) if c["review"] == "1"]
        self.assertEqual(asked, [
            ("users", "", "u", ""),
            ("groups", "", "system:unauthenticated", ""),
            ("userextras", "scopes/a", "s1", "authentication.k8s.io"),
            ("userextras", "scopes/a", "s2", "authentication.k8s.io")])

    def curl(self, token, *headers):
        cmd = ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca,
               "-H", "Authorization: Bearer " + token, "-o", "-", "-w",
               "\n%{http_code}", "-d", "{}", "-H",
               "Content-Type: application/json"]
        for h in headers:
            cmd += ["-H", h]
        out = subprocess.run(
            cmd + [self.gw.base + "/clusters/demo/apis/authentication.k8s.io"
                   "/v1/selfsubjectreviews"],
            capture_output=True, text=True, timeout=30)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), body

    def test_a_group_without_a_user_is_a_bad_request(self):
        for header in ("Impersonate-Group: team-b", "Impersonate-Uid: 1",
                       "Impersonate-Extra-a: b"):
            code, body = self.curl("root-token", header)
            self.assertEqual(code, 400, body)
            self.assertIn("without impersonating a user",
                          json.loads(body)["message"])


class AsyncImpersonationTest(ImpersonationTest):
    """The same with every authorize verdict 150 ms later."""
    delay = "150ms"


del AccessTest
