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
        with open(data, "wb") as f:
            f.write(b"x" * 300000)
        code, body = self.curl("/probe-svc/echo", "admin", "-X", "POST",
                               "--data-binary", "@" + data)
        self.assertEqual(code, 200, body)
        self.assertEqual(json.loads(body)["bodyBytes"], 300000)

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
