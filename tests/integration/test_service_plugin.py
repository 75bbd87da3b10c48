"""Service plugins (service.h): a service's routes at the host root run
through the policy chain as the resource requests the service describes,
reach its one instance from every worker, and its API groups appear in the
host's discovery and OpenAPI index beside the fleet's (svc_probe from
tests/plugins). A member-role gateway refuses a service section."""
import json
import os
import shutil
import signal
import subprocess
import unittest

from access_common import AccessTest
from harness import FEDGATE, Gateway, plugin_dir, wait_for

TABLE = """
token admin-token admin admins
token alice-token alice
allow group:admins * * * * *
allow alice get probe.fedgate.io things - * t1
allow alice get - /probe-svc/echo - *
allow alice get - /probe-svc/call/* - *
allow alice post - /probe-svc/call/* - *
allow alice list - pods default demo
allow alice create - configmaps default demo
allow * get - /api* - *
allow * get - /openapi* - *
"""
FLEET = "fedgate.fleet"


class ServicePluginTest(AccessTest):
    table = TABLE
    extra_policy = '[plugin "probe"]\nplugin = svc_probe\n'
    extra_gateway = "workers = 2\n"
    test_plugins = ("svc_probe.so",)

    def curl(self, path, user="admin", *args):
        cmd = ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca,
               "-H", "Authorization: Bearer %s-token" % user,
               "-o", "-", "-w", "\n%{http_code}"] + list(args)
        out = subprocess.run(cmd + [self.gw.base + path], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), body

    def fleet(self, *args):
        """kubectl as admin on the host's own API."""
        out = self.kubectl("admin", *args, context=FLEET)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_echo_carries_identity_and_path(self):
        code, body = self.curl("/probe-svc/echo?x=1", "alice")
        self.assertEqual(code, 200, body)
        echo = json.loads(body)
        self.assertEqual((echo["user"], echo["method"], echo["path"],
                          echo["query"], echo["verb"], echo["isResource"]),
                         ("alice", "GET", "/probe-svc/echo", "x=1", "get", 0))

    def test_described_paths_are_authorized_as_resources(self):
        code, body = self.curl("/probe-svc/things/t1", "alice")
        self.assertEqual(code, 200, body)
        echo = json.loads(body)
        self.assertEqual((echo["isResource"], echo["group"], echo["resource"],
                          echo["name"]), (1, "probe.fedgate.io", "things", "t1"))
        self.assertIn({"verb": "get", "group": "probe.fedgate.io",
                       "resource": "things", "name": "t1"},
                      [{k: c.get(k) for k in ("verb", "group", "resource",
                                              "name")}
                       for c in self.calls_since(0) if c["user"] == "alice"])
        # another name, or another verb, is not alice's
        for args in (("/probe-svc/things/t2",),
                     ("/probe-svc/things/t1", "-X", "PUT", "-d", "{}")):
            code, body = self.curl(args[0], "alice", *args[1:])
            self.assertEqual(code, 403, body)
            status = json.loads(body)
            self.assertEqual((status["kind"], status["reason"]),
                             ("Status", "Forbidden"))
            self.assertIn("things", status["message"])

    def test_path_the_service_disowns_is_404(self):
        code, body = self.curl("/probe-svc/missing/x")
        self.assertEqual(code, 404, body)
        self.assertEqual(json.loads(body)["reason"], "NotFound")
        # and the service's own 404 for a path it describes but lacks
        code, body = self.curl("/probe-svc/nothing-here")
        self.assertEqual(code, 404, body)
        self.assertIn("svc_probe serves no such path", body)

    def test_request_body_reaches_the_service(self):
        data = os.path.join(self.tmp, "body")
        # the service's own limit (5 MiB), above the gateway's 3 MiB
        for size, want in ((300000, 200), (4 << 20, 200), ((5 << 20) + 1, 413)):
            with open(data, "wb") as f:
                f.write(b"x" * size)
            code, body = self.curl("/probe-svc/echo", "admin", "-X", "POST",
                                   "--data-binary", "@" + data)
            self.assertEqual(code, want, body[:300])
            if want == 200:
                self.assertEqual(json.loads(body)["bodyBytes"], size)
        # members keep the gateway's
        code, body = self.curl("/clusters/demo/api/v1/namespaces/default/"
                               "configmaps", "admin", "-X", "POST",
                               "-H", "Content-Type: application/json",
                               "--data-binary", "@" + data)
        self.assertEqual(code, 413, body[:300])

    def test_one_instance_on_its_owner_loop_for_every_worker(self):
        seen = []
        for _ in range(24):  # new connections: the kernel spreads them
            code, body = self.curl("/probe-svc/echo")
            self.assertEqual(code, 200, body)
            seen.append(json.loads(body))
        self.assertTrue(all(e["onOwner"] == 1 for e in seen), seen)
        counts = [e["requests"] for e in seen]
        self.assertEqual(counts, sorted(counts))  # one counter: one instance

    def test_discovery_lists_service_groups_beside_the_fleet(self):
        groups = json.loads(self.fleet("get", "--raw", "/apis"))["groups"]
        self.assertEqual([g["name"] for g in groups],
                         ["cluster.kubesphere.io", "probe.fedgate.io"])
        group = json.loads(self.fleet("get", "--raw",
                                        "/apis/probe.fedgate.io"))
        self.assertEqual(group["preferredVersion"]["groupVersion"],
                         "probe.fedgate.io/v1")
        res = json.loads(self.fleet("get", "--raw",
                                      "/apis/probe.fedgate.io/v1"))
        widgets = [r for r in res["resources"] if r["name"] == "widgets"][0]
        self.assertEqual((widgets["kind"], widgets["namespaced"],
                          widgets["verbs"], widgets["shortNames"]),
                         ("Widget", True, ["get", "list"], ["wd"]))
        index = json.loads(self.fleet("get", "--raw", "/openapi/v3"))
        self.assertEqual(
            index["paths"]["apis/probe.fedgate.io/v1"]["serverRelativeURL"],
            "/openapi/v3/apis/probe.fedgate.io/v1")
        # kubectl reads aggregated discovery first
        table = self.fleet("api-resources", "--no-headers")
        rows = [line.split() for line in table.splitlines()]
        self.assertIn(["widgets", "wd", "probe.fedgate.io/v1", "true",
                       "Widget"], rows)
        self.assertIn(["clusters", "cluster.kubesphere.io/v1alpha1", "false",
                       "Cluster"], rows)

    def test_kubectl_lists_the_service_resource(self):
        out = self.fleet("get", "wd", "-n", "default", "-o", "name")
        self.assertEqual(out.split(), ["widget.probe.fedgate.io/w1"])

    def test_reload_keeps_an_unchanged_service(self):
        _, body = self.curl("/probe-svc/echo")
        before = json.loads(body)["requests"]
        mark = len(self.gw.logs())
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: "reload" in self.gw.logs()[mark:], 10, "the reload")
        _, body = self.curl("/probe-svc/echo")
        self.assertGreater(json.loads(body)["requests"], before)


    def test_member_call_runs_as_the_caller(self):
        mark = self.call_mark()
        code, body = self.curl(
            "/probe-svc/call/demo/api/v1/namespaces/default/pods", "alice")
        self.assertEqual(code, 200, body)
        self.assertEqual(json.loads(body)["kind"], "PodList")
        calls = [(c["user"], c["verb"], c["resource"], c["namespace"],
                  c["member"]) for c in self.calls_since(mark)]
        self.assertIn(("alice", "list", "pods", "default", "demo"), calls)
        # what alice may not do herself, the service may not do for her
        code, body = self.curl(
            "/probe-svc/call/demo/api/v1/namespaces/kube-system/pods",
            "alice")
        self.assertEqual(code, 403, body)
        status = json.loads(body)
        self.assertEqual(status["reason"], "Forbidden")
        self.assertIn('"alice"', status["message"])
        code, body = self.curl("/probe-svc/call/nosuch/api/v1/pods")
        self.assertEqual(code, 404, body)
        self.assertEqual(json.loads(body)["message"],
                         'clusters "nosuch" not found')

    def test_member_call_carries_a_body(self):
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "from-service"}, "data": {"k": "v"}}
        code, body = self.curl(
            "/probe-svc/call/demo/api/v1/namespaces/default/configmaps",
            "alice", "-X", "POST", "-H", "Content-Type: application/json",
            "--data-binary", json.dumps(cm))
        self.assertEqual(code, 201, body)
        code, body = self.curl("/clusters/demo/api/v1/namespaces/default/"
                               "configmaps/from-service")
        self.assertEqual(code, 200, body)
        self.assertEqual(json.loads(body)["data"], {"k": "v"})

    def test_member_call_streams_a_large_answer(self):
        direct = self.curl("/clusters/demo/api/v1/pods")
        called = self.curl("/probe-svc/call/demo/api/v1/pods")
        self.assertEqual((direct[0], called[0]), (200, 200))
        self.assertEqual(
            [p["metadata"]["name"] for p in json.loads(called[1])["items"]],
            [p["metadata"]["name"] for p in json.loads(direct[1])["items"]])


    def kubectl_in(self, text, *args):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
             FLEET, "--token", "admin-token", "--request-timeout=20s"] +
            list(args), input=text, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_kubectl_on_a_services_objects(self):
        gadget = ("apiVersion: probe.fedgate.io/v1\nkind: Gadget\n"
                  "metadata:\n  name: g1\n  labels: {tier: %s}\n"
                  "spec:\n  color: %s\n")
        self.assertIn("gadget.probe.fedgate.io/g1 created",
                      self.kubectl_in(gadget % ("a", "red"), "apply", "-f",
                                      "-"))
        self.assertIn("unchanged", self.kubectl_in(gadget % ("a", "red"),
                                                   "apply", "-f", "-"))
        self.assertIn("configured", self.kubectl_in(gadget % ("b", "blue"),
                                                     "apply", "-f", "-"))
        table = self.fleet("get", "gadgets")
        self.assertEqual(table.split("\n")[0].split(),
                         ["NAME", "COLOR", "STATE", "AGE"])
        self.assertEqual(table.split("\n")[1].split()[:2], ["g1", "blue"])
        self.assertEqual(self.fleet("get", "gd", "-l", "tier=b", "-o",
                                    "name").split(),
                         ["gadget.probe.fedgate.io/g1"])
        self.assertEqual(self.fleet("get", "gd", "-l", "tier=a", "-o",
                                    "name").split(), [])
        self.fleet("patch", "gadget", "g1", "--type=merge", "--subresource",
                   "status", "-p", '{"status":{"state":"ready"}}')
        obj = json.loads(self.fleet("get", "gadget", "g1", "-o", "json"))
        self.assertEqual((obj["spec"]["color"], obj["status"]["state"]),
                         ("blue", "ready"))
        # a watch sees the change another client makes
        watch = subprocess.Popen(
            ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
             FLEET, "--token", "admin-token", "get", "gadgets", "-w",
             "--no-headers", "--request-timeout=30s"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = watch.stdout.readline().split()
            self.assertEqual(first[:3], ["g1", "blue", "ready"])
            self.fleet("patch", "gadget", "g1", "--type=merge", "-p",
                       '{"spec":{"color":"green"}}')
            self.assertEqual(watch.stdout.readline().split()[:2],
                             ["g1", "green"])
        finally:
            watch.kill()
            watch.wait(timeout=10)
            watch.stdout.close()
            watch.stderr.close()
        self.assertIn('gadget.probe.fedgate.io "g1" deleted',
                      self.fleet("delete", "gadget", "g1"))
        out = self.kubectl("admin", "get", "gadget", "g1", context=FLEET)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('gadgets.probe.fedgate.io "g1" not found', out.stderr)


class ServiceOnMemberTest(unittest.TestCase):

    def test_member_role_refuses_a_service(self):
        plugins = plugin_dir("svc_probe.so")
        self.addCleanup(shutil.rmtree, plugins, True)
        gw = Gateway(role="member", plugin_dir=plugins,
                     members=['[member "m"]\ndriver = mock\n'],
                     policy='\n[policy]\nchain = admin_token\n'
                            '[plugin "admin_token"]\n[plugin "probe"]\n'
                            'plugin = svc_probe\n')
        self.addCleanup(gw.cleanup)
        out = subprocess.run([FEDGATE, "-c", gw.conf, "--check"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn('[plugin "probe"]: the service "svc_probe" runs on the '
                      'host only (role = member)', out.stderr)


if __name__ == "__main__":
    unittest.main()
