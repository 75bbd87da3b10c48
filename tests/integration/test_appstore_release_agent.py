"""ApplicationRelease into an agent member that drops and returns (issue
22): a host with [tunnel] and the app store, a member-role gateway with
the demo mock behind a fedgate-agent joined as "edge". A plain-manifest
chart (ConfigMap + Deployment + Service) is pushed and reviewed to active
as the admin; the agent is stopped by its pid and the host's Cluster says
AgentDisconnected and /clusters/edge/ answers 503; a release created into
edge then waits (state creating, reason "waiting for the member cluster",
retried, never failed); the agent started again joins and the release
turns active on its own within seconds, woken by the member's readiness
(the host logs it) rather than by its next retry, which after four tries
is 8 s away: the objects and Helm's release Secret (deployed v1) are on the
member's own gateway. Deleting the release removes them
from the member. Every process is stopped by its pid (the harness)."""
import json
import subprocess
import tempfile
import time
import unittest

from agent_harness import AgentCase
from harness import wait_for
from test_appstore_release import read_helm_record, release, web_chart

FLEET = "fedgate.fleet"
WAITING = "waiting for the member cluster"
# tries seen (1 s, 2 s, 4 s apart) before the agent comes back: the next
# is 8 s after the last
TRIES = 4
# how soon after the join the release is active: the fleet is polled each
# second, then one run
WAKE_S = 5.0


class AppstoreReleaseAgentTest(AgentCase):
    HOST_FILES = {"40-appstore.ini":
                  '[plugin "appstore"]\nrepositories = main\n'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.push(web_chart("0.1.0", "hello from the edge"))
            for step in ("submitted", "passed", "active"):
                out = cls.kube(FLEET, "patch", "appver", "main-web-0.1.0",
                               "--subresource", "status", "--type", "merge",
                               "-p", json.dumps({"status": {"state": step}}))
                assert out.returncode == 0, out.stderr
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def push(cls, data):
        with tempfile.NamedTemporaryFile(suffix=".tgz") as f:
            f.write(data)
            f.flush()
            out = subprocess.run(
                ["curl", "-sS", "--max-time", "20", "--cacert", cls.host.ca,
                 "-u", "admin:" + cls.host.token, "--data-binary",
                 "@" + f.name, "-o", "-", "-w", "\n%{http_code}",
                 cls.host.base + "/helm/api/main/charts"],
                capture_output=True, text=True, timeout=30)
        assert out.stdout.endswith("\n201"), out.stdout + out.stderr

    def ok(self, context, *args, stdin=None, gateway=None):
        out = self.kube(context, *args, stdin=stdin, gateway=gateway)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def on_member(self, *args):
        """kubectl on the member's own gateway, not through the tunnel."""
        return self.kube("edge", *args, gateway=self.member)

    def status(self, name):
        rel = json.loads(self.ok(FLEET, "get", "apprls", name, "-o", "json"))
        return rel, rel.get("status", {})

    def agent_available(self):
        cluster = json.loads(self.ok(FLEET, "get", "cluster", "edge", "-o",
                                     "json"))
        return {c["type"]: c for c in cluster["status"]["conditions"]}[
            "AgentAvailable"]

    def test_release_waits_for_the_agent_and_completes(self):
        # the agent drops: the host says so
        self.assertEqual(self.agent.stop(), 0, self.agent.logs())
        wait_for(lambda: self.agent_available()["status"] == "False", 30,
                 "AgentAvailable False")
        self.assertEqual(self.agent_available()["reason"],
                         "AgentDisconnected")
        self.assert_unavailable()
        # a release into it waits, keeps its state and tries again
        self.assertIn("created", self.ok(
            FLEET, "create", "-f", "-",
            stdin=release("web-edge", "edge", "0.1.0")))
        tries = set()
        deadline = time.monotonic() + 30
        while True:
            rel, status = self.status("web-edge")
            self.assertNotEqual(status.get("state"), "failed", status)
            if status.get("reason") == WAITING:
                self.assertEqual(status["state"], "creating", status)
                self.assertNotIn("observedGeneration", status)
                self.assertTrue(status.get("message"), status)
                tries.add(status["updatedAt"])
            if len(tries) >= TRIES:
                break
            self.assertLess(time.monotonic(), deadline, status)
            time.sleep(0.3)
        self.assertEqual(self.on_member("get", "configmap", "web-config",
                                        "-n", "web").returncode, 1)
        # the agent returns: the release completes without a touch
        joins = self.host.logs().count(" joined (")
        type(self).agent = self.start_agent()
        wait_for(lambda: self.host.logs().count(" joined (") > joins, 30,
                 "the agent to join again")
        joined = time.monotonic()
        deadline = joined + WAKE_S
        while True:
            rel, status = self.status("web-edge")
            if status.get("state") == "active" and \
                    status.get("observedGeneration") == \
                    rel["metadata"]["generation"]:
                break
            self.assertNotEqual(status.get("state"), "failed", status)
            self.assertLess(time.monotonic(), deadline, status)
            time.sleep(0.3)
        print("active %.1f s after the agent joined again" %
              (time.monotonic() - joined))
        self.assertIn('appstore: release web-edge: the member cluster "edge" '
                      'is ready: trying again now', self.host.logs())
        self.assertNotIn("reason", status)
        self.assertEqual(status["version"], 1)
        out = self.on_member("get", "configmap", "web-config", "-n", "web",
                             "-o", "jsonpath={.data.greeting}")
        self.assertEqual(out.stdout, "hello from the edge", out.stderr)
        for kind in ("deployment", "service"):
            out = self.on_member("get", kind, "web", "-n", "web")
            self.assertEqual(out.returncode, 0, out.stderr)
        # the same through the host
        self.ok("edge", "get", "configmap", "web-config", "-n", "web")
        out = self.on_member("get", "secret", "-n", "web",
                             "sh.helm.release.v1.web-edge.v1", "-o", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        labels, rec = read_helm_record(out.stdout)
        self.assertEqual(labels, {"name": "web-edge", "owner": "helm",
                                  "status": "deployed", "version": "1"})
        self.assertEqual((rec["name"], rec["namespace"], rec["version"],
                          rec["info"]["status"],
                          rec["chart"]["metadata"]["version"]),
                         ("web-edge", "web", 1, "deployed", "0.1.0"))
        # delete: gone from the member as well
        self.ok(FLEET, "delete", "apprls", "web-edge", "--timeout=30s")
        out = self.kube(FLEET, "get", "apprls", "web-edge")
        self.assertIn("NotFound", out.stderr)
        out = self.on_member("get", "configmap,deployment,service,secret",
                             "-n", "web", "-o", "name")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual([o for o in out.stdout.split() if "web" in o], [])


if __name__ == "__main__":
    unittest.main()
