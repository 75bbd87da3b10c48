"""Lists across every member at once: /clusters/* (kubectl sends it as
/clusters/%2A), the admin kubeconfig's _all context. Three members: alpha
and demo (mock, the host.json and demo.json seeds) and edge, a direct
member whose upstream is down (nothing listens on its port). kubectl
(get pods -A, -l, --field-selector, -o wide, -o json, --chunk-size) and the
Python client's list_pod_for_all_namespaces see pods from every member
the caller may list, each with its cluster named (annotation, CLUSTER
column), pages that cover every member, edge reported as a Warning and in
failedClusters, and no call failing for it; a viewer of demo alone sees
demo's pods only. What /clusters/* refuses: watch, get of one object,
writes, protobuf-only Accept, bad continue tokens."""
import base64
import json
import os
import re
import subprocess
import unittest

from harness import GatewayTest, free_port, load_seed, mock_member
from test_direct import direct_member, make_cert
from test_rbac import POLICY, TOKENS, shipped_rules, token_line, \
    user_kubeconfigs

ANNOTATION = "fedgate.io/cluster"
TMP_CERTS = None


def seed_pods(seed):
    return [o for o in load_seed(seed)["objects"] if o["kind"] == "Pod"]


ALPHA = seed_pods("host.json")
DEMO = seed_pods("demo.json")


def rows_of(stdout):
    """kubectl get -A's rows as (cluster, namespace, name): kubectl puts
    NAMESPACE before the Table's columns, of which CLUSTER is the first."""
    lines = stdout.splitlines()
    assert lines[0].split()[:3] == ["NAMESPACE", "CLUSTER", "NAME"], lines[0]
    return [(c, ns, name) for ns, c, name in
            (line.split()[:3] for line in lines[1:])]


def expected(clusters):
    """[(cluster, namespace, name)] in the merged order."""
    out = []
    for cluster, pods in clusters:
        out += [(cluster, p["metadata"]["namespace"], p["metadata"]["name"])
                for p in pods]
    return sorted(out)


def edge_member(tmp):
    crt, _ = make_cert(tmp, "edge")
    token = os.path.join(tmp, "edge.token")
    with open(token, "w") as f:
        f.write("edge-token\n")
    os.chmod(token, 0o600)
    return direct_member("edge", free_port(), crt, token)


class FanoutTest(GatewayTest):
    policy = POLICY
    extra_files = dict(shipped_rules(), **{"tokens.csv": "".join(
        token_line(u, 1000 + i) for i, u in enumerate(TOKENS))})

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.certs = tempfile.mkdtemp(prefix="fedgate-fanout-")
        cls.members = [mock_member("demo", "demo.json"),
                       mock_member("alpha", "host.json"),
                       edge_member(cls.certs)]
        super().setUpClass()
        cls.kubeconfigs = user_kubeconfigs(cls.gw)

    @classmethod
    def tearDownClass(cls):
        import shutil
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.certs, ignore_errors=True)

    def run_kubectl(self, user, *args):
        cmd = ["kubectl", "--kubeconfig", self.kubeconfigs[user], "--context",
               "_all", "--request-timeout=30s"] + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        self.assertEqual(out.returncode, 0, "%s: %s\n%s%s" % (
            user, " ".join(args), out.stdout, out.stderr))
        return out

    def get(self, path, user="ada", accept=None):
        token = TOKENS[user][0] if user else self.gw.token
        cmd = ["curl", "-sS", "--max-time", "30", "--cacert", self.gw.ca,
               "-D", "-", "-H", "Authorization: Bearer " + token]
        if accept:
            cmd += ["-H", "Accept: " + accept]
        out = subprocess.run(cmd + [self.gw.base + path], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        head, _, body = out.stdout.partition("\n\n")  # text mode: no CR
        code = int(head.split()[1])
        warnings = re.findall(r"(?im)^warning: (.*)$", head)
        return code, warnings, body

    # ---- kubectl ---------------------------------------------------------

    def test_kubeconfig_context(self):
        with open(self.gw.kubeconfig) as f:
            kc = json.load(f)
        clusters = {c["name"]: c["cluster"]["server"] for c in kc["clusters"]}
        self.assertEqual(clusters["_all"], self.gw.base + "/clusters/*")
        self.assertEqual([c["name"] for c in kc["contexts"]],
                         ["demo", "alpha", "edge", "_all", "fedgate.fleet"])

    def test_get_pods_all_namespaces(self):
        out = self.run_kubectl("ada", "get", "pods", "-A")
        self.assertEqual(rows_of(out.stdout),
                         expected([("alpha", ALPHA), ("demo", DEMO)]))
        # the member that is down is named, the call still succeeds
        self.assertIn('Warning: cluster edge: ', out.stderr)
        self.assertEqual(out.stderr.count("Warning:"), 1, out.stderr)

    def test_wide_labels_and_fields(self):
        out = self.run_kubectl("ada", "get", "pods", "-A", "-o", "wide")
        header = out.stdout.splitlines()[0].split()
        self.assertEqual(len(rows_of(out.stdout)), len(ALPHA) + len(DEMO))
        self.assertIn("NODE", header)
        self.assertIn("IP", header)
        self.assertEqual(len(out.stdout.splitlines()) - 1,
                         len(ALPHA) + len(DEMO))

        out = self.run_kubectl("ada", "get", "pods", "-A", "-l", "app=coredns")
        want = expected([
            ("alpha", [p for p in ALPHA if p["metadata"].get("labels", {})
                       .get("app") == "coredns"]),
            ("demo", [p for p in DEMO if p["metadata"].get("labels", {})
                      .get("app") == "coredns"])])
        self.assertEqual({w[0] for w in want}, {"alpha", "demo"})
        self.assertEqual(rows_of(out.stdout), want)

        out = self.run_kubectl("ada", "get", "pods", "-A", "--field-selector",
                               "metadata.namespace=monitoring")
        want = expected([
            ("alpha", [p for p in ALPHA
                       if p["metadata"]["namespace"] == "monitoring"]),
            ("demo", [p for p in DEMO
                      if p["metadata"]["namespace"] == "monitoring"])])
        self.assertEqual(rows_of(out.stdout), want)

    def test_json_names_each_cluster(self):
        out = self.run_kubectl("ada", "get", "pods", "-A", "-o", "json")
        items = json.loads(out.stdout)["items"]
        got = [(i["metadata"]["annotations"][ANNOTATION],
                i["metadata"]["namespace"], i["metadata"]["name"])
               for i in items]
        self.assertEqual(got, expected([("alpha", ALPHA), ("demo", DEMO)]))

    def test_chunks_across_members(self):
        for size in ("2", "5", "100"):
            out = self.run_kubectl("ada", "get", "pods", "-A",
                                   "--chunk-size=" + size)
            self.assertEqual(rows_of(out.stdout),
                             expected([("alpha", ALPHA), ("demo", DEMO)]),
                             size)

    def test_pages_by_hand(self):
        """limit/continue: pages of at most 5 that end at member borders
        only when a member runs out, and together are the whole list."""
        seen, token, pages = [], None, 0
        while pages < 40:
            path = "/clusters/*/api/v1/pods?limit=5"
            if token:
                path += "&continue=" + token
            code, warnings, body = self.get(path)
            self.assertEqual(code, 200, body)
            page = json.loads(body)
            self.assertLessEqual(len(page["items"]), 5)
            seen += [(i["metadata"]["annotations"][ANNOTATION],
                      i["metadata"]["namespace"], i["metadata"]["name"])
                     for i in page["items"]]
            pages += 1
            token = page["metadata"].get("continue")
            if not token:
                break
            self.assertEqual(warnings, [])  # edge, last, is not reached yet
        self.assertEqual(seen, expected([("alpha", ALPHA), ("demo", DEMO)]))
        # 40 pods: the eighth page ends with demo's last one, and points
        # at edge, whose page is the ninth: empty but for edge's warning
        self.assertEqual((len(ALPHA) + len(DEMO)) % 5, 0)
        self.assertEqual(pages, (len(ALPHA) + len(DEMO)) // 5 + 1)
        self.assertEqual(page["items"], [])
        self.assertEqual(page["kind"], "PodList")
        self.assertEqual(len(warnings), 1)
        self.assertTrue(warnings[0].startswith('299 - "cluster edge: '),
                        warnings)
        self.assertEqual([f["cluster"] for f in page["failedClusters"]],
                         ["edge"])

    # ---- the Python client -------------------------------------------------

    def test_python_client(self):
        import kubernetes
        api = kubernetes.client.CoreV1Api(
            kubernetes.config.new_client_from_config(
                config_file=self.kubeconfigs["ada"], context="_all"))
        pods = api.list_pod_for_all_namespaces()
        got = [(p.metadata.annotations[ANNOTATION], p.metadata.namespace,
                p.metadata.name) for p in pods.items]
        self.assertEqual(got, expected([("alpha", ALPHA), ("demo", DEMO)]))
        self.assertEqual(pods.metadata.resource_version, "")
        seen, token = [], None
        for _ in range(40):
            page = api.list_pod_for_all_namespaces(limit=7, _continue=token)
            seen += [p.metadata.name for p in page.items]
            token = page.metadata._continue
            if not token:
                break
        self.assertEqual(seen, [n for _, _, n in got])
        # a namespaced list across clusters, and a label selector
        shop = api.list_namespaced_pod("shop", label_selector="app=cart")
        self.assertEqual(
            [(p.metadata.annotations[ANNOTATION], p.metadata.name)
             for p in shop.items],
            sorted(("demo", p["metadata"]["name"]) for p in DEMO
                   if p["metadata"]["namespace"] == "shop" and
                   p["metadata"].get("labels", {}).get("app") == "cart"))

    # ---- access: only the members the caller may list ------------------

    def test_viewer_sees_only_demo(self):
        out = self.run_kubectl("vic", "get", "pods", "-A")
        self.assertEqual(rows_of(out.stdout), expected([("demo", DEMO)]))
        # alpha and edge are left out silently: no warning for them
        self.assertNotIn("Warning", out.stderr)
        # nothing the viewer may list anywhere: 403 in kube's words
        code, _, body = self.get("/clusters/*/api/v1/secrets", user="vic")
        self.assertEqual(code, 403, body)
        self.assertIn('cannot list resource "secrets"',
                      json.loads(body)["message"])

    # ---- what /clusters/* refuses ------------------------------------------

    def test_refusals(self):
        cases = [
            ("/clusters/*/api/v1/pods?watch=true", None, 405),
            ("/clusters/*/api/v1/namespaces/shop/pods/x", None, 405),
            ("/clusters/%2A/api/v1/pods?watch=1", None, 405),
            ("/clusters/*/api/v1/pods",
             "application/vnd.kubernetes.protobuf", 406),
            ("/clusters/*/api/v1/pods?limit=x", None, 400),
            ("/clusters/*/api/v1/pods?limit=2&continue=garbage", None, 400),
            ("/clusters/*/api/v1/pods?continue=" + base64.urlsafe_b64encode(
                b'{"v":1,"cluster":"demo","continue":"x","y":1}').decode()
             .rstrip("="), None, 400),
            ("/clusters/**/api/v1/pods", None, 400),
            ("/clusters/%252A/api/v1/pods", None, 400),
        ]
        for path, accept, want in cases:
            code, _, body = self.get(path, accept=accept)
            self.assertEqual(code, want, "%s: %s" % (path, body))
            self.assertEqual(json.loads(body)["kind"], "Status", body)
        # a member's own token that is no longer valid: 410 Expired
        token = base64.urlsafe_b64encode(
            b'{"v":1,"cluster":"demo","continue":"bm90LWEtdG9rZW4"}'
        ).decode().rstrip("=")
        code, _, body = self.get("/clusters/*/api/v1/pods?limit=2&continue="
                                 + token)
        self.assertIn(code, (400, 410), body)
        for verb in ("delete", "create"):
            out = subprocess.run(
                ["kubectl", "--kubeconfig", self.kubeconfigs["ada"],
                 "--context", "_all", "--request-timeout=20s", verb,
                 "configmap", "x", "-n", "default"] +
                (["--from-literal=a=b"] if verb == "create" else []),
                capture_output=True, text=True, timeout=60)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("not supported across clusters", out.stderr)

    def test_metrics(self):
        code, _, body = self.get("/metrics", user=None)
        self.assertEqual(code, 200)
        self.assertRegex(body, r"(?m)^fedgate_fanout_requests_total [1-9]")
        self.assertRegex(body,
                         r"(?m)^fedgate_fanout_member_failures_total [1-9]")


class FanoutTwoWorkersTest(GatewayTest):
    """With two workers the mock members' one instance lives on the first
    worker's loop: a list that lands on the second reaches them through
    the cross-loop queue, member by member, page by page."""
    extra_gateway = "workers = 2\n"
    members = [mock_member("demo", "demo.json"),
               mock_member("alpha", "host.json")]

    def test_lists_from_either_worker(self):
        want = expected([("alpha", ALPHA), ("demo", DEMO)])
        for args in ((), ("--chunk-size=3",)):
            for _ in range(4):  # new connections: either worker accepts
                out = self.kubectl("get", "pods", "-A", *args, context="_all")
                self.assertEqual(rows_of(out.stdout), want)
                self.assertEqual(out.stderr, "")


class FanoutLimitTest(GatewayTest):
    """max_fanout_bytes bounds what one list holds: demo's pods (about
    72 KiB of JSON) do not fit in 64 KiB, alpha's do; the list has
    alpha's and a warning for demo, and pages of it fit."""
    extra_gateway = "max_fanout_bytes = 65536\n"
    members = [mock_member("demo", "demo.json"),
               mock_member("alpha", "host.json")]

    def test_past_the_bound(self):
        code, _, text = self.curl("/clusters/*/api/v1/pods", "-D", "-")
        self.assertEqual(code, 200, text)
        head, _, body = text.partition("\n\n")
        self.assertRegex(head, r'(?im)^warning: 299 - "cluster demo: its '
                               r'answer takes the list past max_fanout_bytes')
        items = json.loads(body)["items"]
        self.assertEqual(
            [(i["metadata"]["annotations"][ANNOTATION],
              i["metadata"]["namespace"], i["metadata"]["name"])
             for i in items], expected([("alpha", ALPHA)]))
        out = self.kubectl("get", "pods", "-A", "--chunk-size=10",
                           context="_all")
        self.assertEqual(rows_of(out.stdout),
                         expected([("alpha", ALPHA), ("demo", DEMO)]))


if __name__ == "__main__":
    unittest.main()
