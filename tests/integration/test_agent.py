"""The agent connection: a host with an `driver = agent` member, a
member-role fedgate (the demo mock, token-protected) standing in for the
member's kube-apiserver, and fedgate-agent between them, which dials the
host's [tunnel] listener. kubectl and the Python client use the member
through the host; wrong token, unknown name, wrong host CA and a second
host are refused with the reason in both logs. Every process is stopped by
its pid; every wait has a deadline."""
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import FEDGATE, Gateway, free_port, mock_member, wait_for
from test_mock_tour import MANIFEST
from tours import python_client_tour

AGENT = os.path.join(os.path.dirname(FEDGATE), "fedgate-agent")


class Agent:
    """A fedgate-agent process for member NAME of HOST, calling MEMBER's
    gateway with its admin token as the service account's."""

    def __init__(self, host, member, name, token_file, host_ca=None,
                 state=None):
        self.tmp = tempfile.mkdtemp(prefix="fedgate-agent-")
        self.sa = os.path.join(self.tmp, "sa")
        os.mkdir(self.sa)
        shutil.copy(member.ca, os.path.join(self.sa, "ca.crt"))
        shutil.copy(os.path.join(member.state, "admin.token"),
                    os.path.join(self.sa, "token"))
        self.state = state or os.path.join(self.tmp, "state")
        os.makedirs(self.state, exist_ok=True)
        self.args = [AGENT, "--host", "https://127.0.0.1:%d" % host.tunnel,
                     "--name", name, "--token-file", token_file,
                     "--host-ca-file", host_ca or host.ca,
                     "--state-dir", self.state,
                     "--serviceaccount-dir", self.sa, "--log-level", "debug"]
        self.env = dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1",
                        KUBERNETES_SERVICE_PORT=str(member.port))
        self.log_path = os.path.join(self.tmp, "agent.log")
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)
        return self

    def logs(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError("fedgate-agent ignored SIGTERM")
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def agent_member(name, token_file):
    return '[member "%s"]\ndriver = agent\ntoken_file = %s\n' % (name,
                                                                  token_file)


class AgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="fedgate-agent-it-")
        cls.token_file = os.path.join(cls.dir, "edge.token")
        with open(cls.token_file, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        cls.member = Gateway(members=[mock_member("edge", "demo.json")],
                             role="member").start()
        tunnel = free_port()
        cls.host = Gateway(
            members=[agent_member("edge", cls.token_file),
                     agent_member("idle", cls.token_file)],
            extra_files={"30-tunnel.ini":
                         "[tunnel]\nlisten = 127.0.0.1:%d\n" % tunnel})
        cls.host.tunnel = tunnel
        cls.agents = []
        try:
            cls.host.start()
            cls.agent = cls.start_agent("edge", cls.token_file)
            wait_for(lambda: "joined (1 live)" in cls.host.logs(), 30,
                     "the agent to join")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start_agent(cls, *args, **kw):
        a = Agent(cls.host, cls.member, *args, **kw)
        cls.agents.append(a)
        return a.start()

    @classmethod
    def tearDownClass(cls):
        errors = []
        for a in cls.agents:
            if a.stop() not in (0, None):
                errors.append("fedgate-agent exited %s:\n%s" %
                              (a.proc.returncode, a.logs()))
            a.cleanup()
        for gw in (cls.host, cls.member):
            code = gw.stop()
            if code not in (0, None):
                errors.append("fedgate exited %s:\n%s" % (code, gw.logs()))
            gw.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if errors:
            raise AssertionError("\n".join(errors))

    def kubectl(self, *args, check=True):
        out = subprocess.run(["kubectl", "--kubeconfig", self.host.kubeconfig,
                              "--context", "edge", "--request-timeout=20s",
                              *args], capture_output=True, text=True,
                             timeout=60)
        if check:
            self.assertEqual(out.returncode, 0, out.stderr)
        return out

    def curl(self, path):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", self.host.ca,
             "-H", "Authorization: Bearer " + self.host.token, "-o", "-",
             "-w", "\n%{http_code}", self.host.base + path],
            capture_output=True, text=True, timeout=30)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), body

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
        a = self.start_agent("edge", bad)
        self.refused(a, 'refused: wrong token for member "edge"',
                     'refused by the host: wrong token for member "edge"')

    def test_unknown_name_is_refused(self):
        a = self.start_agent("nowhere", self.token_file)
        why = 'no member "nowhere" with driver = agent on this host'
        self.refused(a, why, why)

    def test_wrong_host_ca_is_refused(self):
        a = self.start_agent("edge", self.token_file, host_ca=self.member.ca)
        wait_for(lambda: "cannot reach the host" in a.logs() and
                 "certificate" in a.logs(), 30, "the agent to refuse the CA")

    def test_second_host_is_refused(self):
        state = tempfile.mkdtemp(prefix="fedgate-agent-state-", dir=self.dir)
        other = secrets.token_hex(16)
        with open(os.path.join(state, "host-id"), "w") as f:
            f.write(other + "\n")
        a = self.start_agent("edge", self.token_file, state=state)
        self.refused(a, "the agent refused this host: this agent is bound "
                     "to host " + other,
                     "tunnel refused: this agent is bound to host " + other)
        out = subprocess.run([AGENT, "--forget-host", "--state-dir", state],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertFalse(os.path.exists(os.path.join(state, "host-id")))

    def test_no_tunnel_is_503_with_retry_after(self):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", self.host.ca,
             "-H", "Authorization: Bearer " + self.host.token, "-D", "-",
             self.host.base + "/clusters/idle/api"],
            capture_output=True, text=True, timeout=30)
        # text mode reads CRLF as LF
        head, _, body = out.stdout.partition("\n\n")
        self.assertIn(" 503", head.splitlines()[0])
        self.assertIn("retry-after: 1", head.lower())
        status = json.loads(body)
        self.assertEqual(status["kind"], "Status")
        self.assertIn('"idle" is unavailable: no agent', status["message"])

if __name__ == "__main__":
    unittest.main()
