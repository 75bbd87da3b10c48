"""The agent connection: a host with an `driver = agent` member, a
member-role fedgate (the demo mock, token-protected) standing in for the
member's kube-apiserver, and fedgate-agent between them, which dials the
host's [tunnel] listener. kubectl and the Python client use the member
through the host (get, apply, logs -f, exec with stdin as an extended
CONNECT stream through the tunnel, watch in the Python tour); wrong
token, unknown name, wrong host CA and a second host are refused with the
reason in both logs. Every process is stopped by its pid; every wait has
a deadline."""
import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import tempfile
import unittest

from agent_harness import AGENT, Agent, AgentCase
from harness import wait_for
from test_mock_tour import MANIFEST
from tours import (kubectl_exec_tour, kubectl_follow_tour,
                   python_client_tour)


class AgentTest(AgentCase):
    MEMBERS = ("edge", "idle", "rotating")

    def kubectl(self, *args, check=True, stdin=None):
        out = subprocess.run(["kubectl", "--kubeconfig", self.host.kubeconfig,
                              "--context", "edge", "--request-timeout=20s",
                              *args], capture_output=True, text=True,
                             timeout=60, input=stdin)
        if check:
            self.assertEqual(out.returncode, 0, out.stderr)
        return out

    def test_kubectl_through_the_tunnel(self):
        out = self.kubectl("get", "namespaces")
        self.assertIn("shop", out.stdout)
        self.kubectl("create", "namespace", "tour")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(MANIFEST)
            f.flush()
            out = self.kubectl("apply", "-f", f.name)
        self.assertIn("configmap/tour created", out.stdout)
        out = self.kubectl("get", "cm", "tour", "-n", "tour", "-o", "json")
        self.assertEqual(json.loads(out.stdout)["metadata"]["name"], "tour")
        self.kubectl("delete", "namespace", "tour")

    def pod(self):
        return self.kubectl("get", "pods", "-n", "shop", "-o",
                            "jsonpath={.items[0].metadata.name}").stdout

    def test_exec_through_the_tunnel(self):
        kubectl_exec_tour(self, self.kubectl, self.pod())

    def test_logs_follow_through_the_tunnel(self):
        kubectl_follow_tour(self, ["kubectl", "--kubeconfig",
                                   self.host.kubeconfig, "--context", "edge"],
                            self.pod())

    def test_rotated_service_account_token_is_read_again(self):
        a = Agent(self.host, self.member, "rotating", self.token_file)
        self.agents.append(a)  # stopped by tearDownClass
        token = os.path.join(a.sa, "token")
        with open(token) as f:
            good = f.read()
        with open(token, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        a.start()
        version = "/clusters/rotating/version"
        wait_for(lambda: self.curl(version)[0] == 401, 30,
                 "the member to refuse the agent's stale token")
        # as kubelet rotates a projected token: a new file swapped in
        fresh = token + ".new"
        with open(fresh, "w") as f:
            f.write(good)
        os.replace(fresh, token)
        wait_for(lambda: self.curl(version)[0] == 200, 10,
                 "the agent to use the rotated token")
        self.assertIn("the service account token changed", a.logs())

    def test_python_client_tour(self):
        python_client_tour(self, self.host.kubeconfig, "edge")

    def test_version_through_the_tunnel(self):
        code, body = self.curl("/clusters/edge/version")
        self.assertEqual(code, 200, body)
        self.assertIn("gitVersion", json.loads(body))

    def refused(self, agent, host_says, agent_says):
        wait_for(lambda: host_says in self.host.logs() and
                 agent_says in agent.logs(), 30,
                 "both sides to log %r / %r" % (host_says, agent_says))

    def test_wrong_token_is_refused(self):
        bad = os.path.join(self.dir, "bad.token")
        with open(bad, "w") as f:
            f.write(secrets.token_hex(32))
        a = self.start_agent(token_file=bad)
        self.refused(a, 'refused: wrong token for member "edge"',
                     'refused by the host: wrong token for member "edge"')

    def test_unknown_name_is_refused(self):
        a = self.start_agent("nowhere")
        why = 'no member "nowhere" with driver = agent on this host'
        self.refused(a, why, why)

    def test_wrong_host_ca_is_refused(self):
        a = self.start_agent(host_ca=self.member.ca)
        wait_for(lambda: "cannot reach the host" in a.logs() and
                 "certificate verify failed" in a.logs(), 30,
                 "the agent to refuse the CA")
        # the host learns why from the agent's alert
        wait_for(lambda: re.search(r"the TLS handshake with 127\.0\.0\.1:\d+ "
                                   r"failed: tlsv1 alert unknown ca",
                                   self.host.logs()), 30,
                 "the host to log the agent's alert")

    def test_agent_gone_mid_hello_is_named(self):
        """A peer that closes before answering the hello: the host says
        the connection went, not a bare non-200."""
        ctx = ssl.create_default_context(cafile=self.host.ca)
        with socket.create_connection(("127.0.0.1", self.host.tunnel),
                                      10) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                port = t.getsockname()[1]
                self.assertTrue(t.recv(9))  # the host's preface and hello
        wait_for(lambda: re.search(
            r"tunnel from 127\.0\.0\.1:%d refused: the hello was answered "
            r"503, not 200: the member cluster .agent tunnel. is "
            r"unavailable: \S" % port, self.host.logs()), 30,
            "the host to name the closed connection")

    def test_second_host_is_refused(self):
        state = tempfile.mkdtemp(prefix="fedgate-agent-state-", dir=self.dir)
        other = secrets.token_hex(16)
        with open(os.path.join(state, "host-id"), "w") as f:
            f.write(other + "\n")
        a = self.start_agent(state=state)
        self.refused(a, "the agent refused this host: this agent is bound "
                     "to host " + other,
                     "tunnel refused: this agent is bound to host " + other)
        out = subprocess.run([AGENT, "--forget-host", "--state-dir", state],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertFalse(os.path.exists(os.path.join(state, "host-id")))

    def test_no_tunnel_is_503_with_retry_after(self):
        status = self.assert_unavailable("idle")
        self.assertIn('"idle" is unavailable: no agent', status["message"])


if __name__ == "__main__":
    unittest.main()
