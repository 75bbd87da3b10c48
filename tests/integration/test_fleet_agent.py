"""An agent member as a Cluster of the host's own API: type proxy, the
AgentAvailable condition and the tunnel count, which follow the agent
leaving and coming back (with Ready), on kubectl get clusters."""
import json
import subprocess
import unittest

from agent_harness import AgentCase
from harness import wait_for


class FleetAgent(AgentCase):
    def cluster(self):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
             "fedgate.fleet", "--request-timeout=20s", "get", "cluster",
             "edge", "-o", "json"], capture_output=True, text=True,
            timeout=60, check=True)
        obj = json.loads(out.stdout)
        return obj, {c["type"]: c for c in obj["status"]["conditions"]}

    def test_agent_cluster(self):
        wait_for(lambda: self.cluster()[1].get("AgentAvailable", {})
                 .get("status") == "True", 30, "AgentAvailable True")
        obj, conds = self.cluster()
        self.assertEqual(obj["spec"]["connection"]["type"], "proxy")
        self.assertEqual(obj["spec"]["connection"]["driver"], "agent")
        self.assertNotIn("token_file", obj["spec"]["connection"])
        self.assertEqual((obj["status"]["tunnels"],
                          obj["status"]["tunnelsExpected"]), (1, 1))
        self.assertEqual(conds["AgentAvailable"]["reason"], "AgentConnected")
        wide = subprocess.run(
            ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
             "fedgate.fleet", "get", "clusters", "-o", "wide"],
            capture_output=True, text=True, timeout=60, check=True).stdout
        row = [l.split() for l in wide.splitlines() if l.startswith("edge ")]
        self.assertEqual(row[0][1], "proxy")
        self.assertIn("1/1", row[0])
        self.agent.stop()
        wait_for(lambda: self.cluster()[1]["AgentAvailable"]["status"] ==
                 "False", 30, "AgentAvailable False")
        obj, conds = self.cluster()
        self.assertEqual(conds["AgentAvailable"]["reason"],
                         "AgentDisconnected")
        self.assertEqual(obj["status"]["tunnels"], 0)
        self.__class__.agent = self.start_agent()
        wait_for(lambda: self.cluster()[1]["AgentAvailable"]["status"] ==
                 "True", 30, "AgentAvailable True again")


if __name__ == "__main__":
    unittest.main()
