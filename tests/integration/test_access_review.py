"""The reviews the gateway answers itself: kubectl auth can-i (yes/no,
-n, --list), auth whoami, the Python client's SelfSubjectAccessReview,
and what can-i says agreeing with what actually happens; bad bodies are
Status answers. Verdicts now, and (AsyncReviewTest) later."""
import json
import subprocess

from access_common import AccessTest

SSAR = "/clusters/demo/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


class ReviewTest(AccessTest):

    def can_i(self, user, *args):
        out = self.kubectl(user, "auth", "can-i", *args)
        return out.returncode, out.stdout.strip(), out.stderr

    def test_can_i_answers_from_the_rules_for_that_cluster(self):
        for user, args, want in [
                ("alice", ("list", "pods", "-n", "default"), "yes"),
                ("alice", ("get", "pods/web", "-n", "default"), "yes"),
                ("alice", ("delete", "pods", "-n", "default"), "no"),
                ("alice", ("list", "pods", "-n", "other"), "no"),
                ("alice", ("list", "pods", "-n", "default",
                           "--context", "host"), "no"),
                ("bob", ("list", "pods", "-n", "other"), "yes"),
                ("bob", ("get", "/healthz"), "yes"),
                ("bob", ("get", "/livez"), "no"),
                ("root", ("delete", "nodes"), "yes")]:
            context = "demo"
            if "--context" in args:
                context = args[args.index("--context") + 1]
                args = args[:args.index("--context")]
            out = self.kubectl(user, "auth", "can-i", *args, context=context)
            self.assertEqual(out.stdout.strip(), want,
                             (user, args, out.stderr))
            self.assertEqual(out.returncode, 0 if want == "yes" else 1)

    def test_a_deny_gives_its_reason(self):
        code, out, err = self.can_i("bob", "list", "secrets", "-n", "kube")
        self.assertEqual((code, out), (1, "no - the table says no"), err)

    def test_the_authorizer_sees_the_review_attributes(self):
        mark = self.call_mark()
        self.assertEqual(self.can_i("alice", "update", "deployments.apps",
                                    "--subresource=scale", "-n", "ns1")[0], 1)
        calls = [c for c in self.calls_since(mark) if c["review"] == "1"]
        self.assertEqual(len(calls), 1, self.calls())
        want = {"user": "alice", "verb": "update", "group": "apps",
                "resource": "deployments", "sub": "scale",
                "namespace": "ns1", "member": "demo"}
        self.assertEqual({k: calls[0][k] for k in want}, want)

    def test_can_i_agrees_with_what_happens(self):
        ok = self.kubectl("alice", "get", "pods", "-n", "default")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        no = self.kubectl("alice", "delete", "pod", "x", "-n", "default")
        self.assertNotEqual(no.returncode, 0)
        self.assertIn(
            'pods "x" is forbidden: User "alice" cannot delete resource '
            '"pods" in API group "" in the namespace "default" on the member '
            'cluster "demo"', no.stderr)
        no = self.kubectl("alice", "get", "configmaps", "-n", "default")
        self.assertIn('User "alice" cannot list resource "configmaps"',
                      no.stderr)

    def test_can_i_list(self):
        out = self.kubectl("alice", "auth", "can-i", "--list", "-n",
                           "default")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = [line.split() for line in out.stdout.splitlines()]
        self.assertIn(["pods", "[]", "[]", "[list", "get]"], rows, out.stdout)
        self.assertIn(["users", "[]", "[bob]", "[impersonate]"], rows)
        self.assertFalse(any(r and r[0] == "secrets" for r in rows))
        # bob's deny cannot be listed: the answer says it is incomplete
        out = self.kubectl("bob", "auth", "can-i", "--list", "-n", "kube")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = [line.split() for line in out.stdout.splitlines()]
        self.assertIn(["[/healthz]", "[]", "[get]"], rows, out.stdout)
        self.assertFalse(any(r and r[0] == "secrets" for r in rows))

    def test_whoami(self):
        out = self.kubectl("alice", "auth", "whoami", "-o", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        review = json.loads(out.stdout)
        self.assertEqual(review["kind"], "SelfSubjectReview")
        self.assertEqual(review["status"]["userInfo"],
                         {"username": "alice", "groups": ["team-a"]})

    def curl(self, path, token, *args, data=None):
        cmd = ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca,
               "-H", "Authorization: Bearer " + token, "-o", "-", "-w",
               "\n%{http_code}"]
        if data is not None:
            cmd += ["--data-binary", "@-"]
        out = subprocess.run(cmd + list(args) + [self.gw.base + path],
                             capture_output=True, timeout=30,
                             input=data.encode("latin-1") if data else None)
        body, _, code = out.stdout.rpartition(b"\n")
        return int(code), body

    def test_json_reviews_and_bad_bodies(self):
        body = json.dumps({"spec": {"nonResourceAttributes": {
            "path": "/healthz", "verb": "get"}}})
        code, out = self.curl(SSAR, "bob-token", "-H",
                              "Content-Type: application/json", "-d", body)
        self.assertEqual(code, 201, out)
        review = json.loads(out)
        self.assertEqual(review["status"], {"allowed": True})
        self.assertEqual(review["apiVersion"], "authorization.k8s.io/v1")
        for ctype, data, want in [
                ("application/json", "{", 400),
                ("application/json", "[" * 1000, 400),
                ("application/json", "{\"spec\":{}}", 400),
                ("application/json", json.dumps({"spec": {
                    "resourceAttributes": {}, "nonResourceAttributes": {}}}),
                 400),
                ("application/json", json.dumps({
                    "kind": "Pod", "spec": {"resourceAttributes": {}}}), 400),
                ("application/vnd.kubernetes.protobuf", "k8s\0\x0a\xff", 400),
                ("application/yaml", "spec: {}", 415),
                ("application/json", " " * 70000, 413)]:
            code, out = self.curl(SSAR, "bob-token", "-H",
                                  "Content-Type: " + ctype, data=data)
            self.assertEqual(code, want, (ctype, data[:20], out))
            self.assertEqual(json.loads(out)["kind"], "Status")
        code, out = self.curl(SSAR, "nobody", "-d", "{}")
        self.assertEqual(code, 401, out)

    def test_python_client(self):
        from kubernetes import client, config
        cfg = client.Configuration()
        config.load_kube_config(config_file=self.gw.kubeconfig,
                                context="demo", client_configuration=cfg)
        cfg.api_key = {"authorization": "Bearer alice-token"}
        with client.ApiClient(cfg) as api:
            authz = client.AuthorizationV1Api(api)
            for verb, allowed in (("list", True), ("delete", False)):
                review = authz.create_self_subject_access_review(
                    client.V1SelfSubjectAccessReview(
                        spec=client.V1SelfSubjectAccessReviewSpec(
                            resource_attributes=client.V1ResourceAttributes(
                                verb=verb, resource="pods",
                                namespace="default"))))
                self.assertEqual(review.status.allowed, allowed, verb)


class AsyncReviewTest(ReviewTest):
    """The same with every authorize verdict 150 ms later."""
    delay = "150ms"


del AccessTest
