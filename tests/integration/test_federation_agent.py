"""Federation through an agent member (issue 23): a host with [tunnel] and
the federation service, mock members m1 and m2, and "edge", a member-role
gateway behind a fedgate-agent. A FederatedConfigMap placed on m1 and
edge reaches both; the agent stopped by its pid, edge shows
ClusterNotReady while m1 still takes a change; the agent started again,
edge catches up on its own (the retry) and the status is whole again.
Every process is stopped by its pid (the harness)."""
import json
import time
import unittest

from agent_harness import AgentCase
from harness import mock_member, wait_for

FLEET = "fedgate.fleet"

FCM = """apiVersion: types.kubefed.io/v1beta1
kind: FederatedConfigMap
metadata: {name: settings, namespace: outpost}
spec:
  template:
    data: {mode: %s}
  placement:
    clusters: [{name: m1}, {name: edge}]
"""


class FederationAgentTest(AgentCase):
    MORE_MEMBERS = (mock_member("m1", "demo.json"),
                    mock_member("m2", "demo.json"))
    HOST_FILES = {"40-federation.ini":
                  '[plugin "federation"]\nretry_interval = 1s\n'}

    def mode(self, context, gateway=None):
        """data.mode of the ConfigMap in CONTEXT, or None."""
        out = self.kube(context, "get", "configmap", "settings", "-n",
                        "outpost", "-o", "json", gateway=gateway)
        return json.loads(out.stdout)["data"]["mode"] \
            if out.returncode == 0 else None

    def status(self):
        out = self.kube(FLEET, "get", "federatedconfigmap", "settings", "-n",
                        "outpost", "-o", "json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout).get("status", {})

    def clusters(self):
        return {c["name"]: c for c in self.status().get("clusters", [])}

    def test_agent_member_drops_and_catches_up(self):
        out = self.kube(FLEET, "apply", "-f", "-", stdin=FCM % "one")
        self.assertEqual(out.returncode, 0, out.stderr)
        wait_for(lambda: self.status().get("propagated") == "2/2", 30,
                 "2/2 with the agent member")
        # on the member's own gateway, not only through the tunnel
        self.assertEqual(self.mode("edge", gateway=self.member), "one")
        self.assertEqual(self.mode("m1"), "one")
        self.assertIsNone(self.mode("m2"))

        self.assertEqual(self.agent.stop(), 0, self.agent.logs())
        out = self.kube(FLEET, "apply", "-f", "-", stdin=FCM % "two")
        self.assertEqual(out.returncode, 0, out.stderr)
        wait_for(lambda: self.clusters().get("edge", {}).get("status") ==
                 "ClusterNotReady", 30, "edge ClusterNotReady")
        st = self.status()
        self.assertEqual(st["conditions"][0]["status"], "False")
        self.assertNotIn("status", self.clusters()["m1"])
        wait_for(lambda: self.mode("m1") == "two", 30, "m1 updated")
        self.assertEqual(self.mode("edge", gateway=self.member), "one")

        joins = self.host.logs().count(" joined (")
        type(self).agent = self.start_agent()
        wait_for(lambda: self.host.logs().count(" joined (") > joins, 30,
                 "the agent to join again")
        joined = time.monotonic()
        wait_for(lambda: self.mode("edge", gateway=self.member) == "two", 30,
                 "edge to catch up")
        print("edge caught up %.1f s after the agent joined again" %
              (time.monotonic() - joined))
        wait_for(lambda: self.status().get("propagated") == "2/2", 30,
                 "2/2 again")
        self.assertEqual(self.status()["conditions"][0]["status"], "True")
        # drift in edge is undone through the tunnel as well
        out = self.kube("edge", "delete", "configmap", "settings", "-n",
                        "outpost", gateway=self.member)
        self.assertEqual(out.returncode, 0, out.stderr)
        wait_for(lambda: self.mode("edge", gateway=self.member) == "two", 30,
                 "edge's copy made again")


if __name__ == "__main__":
    unittest.main()
