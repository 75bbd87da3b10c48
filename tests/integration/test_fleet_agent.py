"""An agent member as a Cluster of the host's own API: type proxy, the
AgentAvailable condition and the tunnel count, which follow the agent
leaving and coming back (with Ready), on kubectl get clusters; and an
agent member joined with fedgatectl join --agent, and one created with
kubectl (type proxy) whose agent, given the token written, joins."""
import base64
import json
import os
import stat
import subprocess
import unittest

import yaml

from agent_harness import AgentCase
from harness import FEDGATE, wait_for


class FleetAgent(AgentCase):
    def cluster(self, name="edge"):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
             "fedgate.fleet", "--request-timeout=20s", "get", "cluster",
             name, "-o", "json"], capture_output=True, text=True,
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


    def test_join_agent(self):
        """fedgatectl join --agent: the token and section written, the
        command printed; an agent run as printed joins; unjoin removes
        it."""
        ctl = os.path.join(os.path.dirname(FEDGATE), "fedgatectl")
        url = "https://127.0.0.1:%d" % self.host.tunnel
        out = subprocess.run([ctl, "join", "edge9", "--agent", "--host", url,
                              "--label", "via=agent", "-c", self.host.conf],
                             capture_output=True, text=True, timeout=90)
        self.assertEqual(out.returncode, 0, out.stderr)
        cmd = [l for l in out.stdout.splitlines()
               if l.startswith("#   fedgate-agent ")][0].split()[2:]
        args = dict(zip(cmd[::2], cmd[1::2]))
        self.assertEqual((args["--host"], args["--name"]), (url, "edge9"))
        token = args["--token-file"]
        self.assertEqual(stat.S_IMODE(os.stat(token).st_mode), 0o600)
        docs = list(yaml.safe_load_all(out.stdout))
        self.assertEqual([d["kind"] for d in docs], ["ConfigMap", "Secret"])
        self.assertEqual(docs[0]["data"], {"host": url, "member": "edge9"})
        with open(token, "rb") as f:
            self.assertEqual(base64.b64decode(docs[1]["data"]["token"]),
                             f.read())
        self.start_agent("edge9", token_file=token,
                         host_ca=args["--host-ca-file"])
        wait_for(lambda: self.cluster("edge9")[1].get(
            "AgentAvailable", {}).get("status") == "True", 30,
            "edge9's agent joined")
        self.assertEqual(self.cluster("edge9")[0]["metadata"]["labels"],
                         {"via": "agent"})
        out = subprocess.run([ctl, "unjoin", "edge9", "-c", self.host.conf],
                             capture_output=True, text=True, timeout=90)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertFalse(os.path.exists(token))
        # no tunnel listener: refused, nothing written
        out = subprocess.run([ctl, "join", "x", "--agent", "-c",
                              self.member.conf], capture_output=True,
                             text=True, timeout=90)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("no [tunnel] listen", out.stderr)

    def test_create_proxy_by_kubectl(self):
        """kubectl create of a Cluster of type proxy: the agent token is
        written (0600), the answer holds nothing secret, an agent with
        that token joins; kubectl delete removes the files."""
        obj = {"apiVersion": "cluster.kubesphere.io/v1alpha1",
               "kind": "Cluster", "metadata": {"name": "edge8"},
               "spec": {"connection": {"type": "proxy"}}}
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
             "fedgate.fleet", "create", "-f", "-", "-o", "json"],
            input=json.dumps(obj), capture_output=True, text=True,
            timeout=90)
        self.assertEqual(out.returncode, 0, out.stderr)
        token = os.path.join(self.host.conf, "members", "edge8",
                             "agent.token")
        self.assertEqual(stat.S_IMODE(os.stat(token).st_mode), 0o600)
        with open(token) as f:
            self.assertNotIn(f.read().strip(), out.stdout)
        self.assertEqual(json.loads(out.stdout)["spec"]["connection"]["type"],
                         "proxy")
        self.start_agent("edge8", token_file=token,
                         host_ca=os.path.join(self.host.state, "ca.crt"))
        wait_for(lambda: self.cluster("edge8")[1].get(
            "AgentAvailable", {}).get("status") == "True", 30,
            "edge8's agent joined")
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
             "fedgate.fleet", "delete", "cluster", "edge8"],
            capture_output=True, text=True, timeout=90)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertFalse(os.path.exists(token))


if __name__ == "__main__":
    unittest.main()
