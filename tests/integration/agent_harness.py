"""What the agent tests share: a fedgate-agent process, an agent member's
section, and a test case with a host (its [tunnel] listener), a
member-role fedgate standing in for the member's kube-apiserver (the demo
mock, token-protected) and one agent joined to it."""
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import unittest

from harness import (ADMIN_POLICY, FEDGATE, Gateway, free_port, mock_member,
                     wait_for)

AGENT = os.path.join(os.path.dirname(FEDGATE), "fedgate-agent")


class Agent:
    """A fedgate-agent process for member NAME of HOST, calling MEMBER's
    gateway with its admin token as the service account's."""

    def __init__(self, host, member, name, token_file, host_ca=None,
                 state=None, extra=()):
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
                     "--serviceaccount-dir", self.sa, "--log-level", "debug",
                     *extra]
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


class AgentCase(unittest.TestCase):
    """Host, member and the agent of member "edge" (cls.agent). MEMBERS:
    the host's agent members, with MEMBER_KEYS more keys each, and
    MORE_MEMBERS sections as they are; TUNNEL:
    more [tunnel] keys; AGENT_ARGS: more
    fedgate-agent arguments for every agent started; MEMBER_POLICY: the
    member's [policy] (and [tls]) sections; MEMBER_SEED: its mock's seed
    (a name under conf.d/seeds or a path), MEMBER_START_S the seconds it
    has to load it and listen; HOST_FILES: more files in the host's
    conf.d ({relative path: text})."""
    MEMBERS = ("edge",)
    MEMBER_KEYS = ""
    MORE_MEMBERS = ()
    TUNNEL = ""
    AGENT_ARGS = ()
    MEMBER_POLICY = ADMIN_POLICY
    MEMBER_SEED = "demo.json"
    MEMBER_START_S = 30
    HOST_FILES = {}

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="fedgate-agent-it-")
        cls.prepare()
        cls.token_file = os.path.join(cls.dir, "edge.token")
        with open(cls.token_file, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        cls.member = Gateway(members=[mock_member("edge", cls.MEMBER_SEED)],
                             role="member", policy=cls.MEMBER_POLICY).start(
                                 timeout=cls.MEMBER_START_S)
        tunnel = free_port()
        cls.host = Gateway(
            members=[agent_member(m, cls.token_file) + cls.MEMBER_KEYS
                     for m in cls.MEMBERS] + list(cls.MORE_MEMBERS),
            extra_files=dict(cls.HOST_FILES, **{
                "30-tunnel.ini": "[tunnel]\nlisten = 127.0.0.1:%d\n%s" %
                                 (tunnel, cls.TUNNEL)}))
        cls.host.tunnel = tunnel
        cls.agents = []
        try:
            cls.host.start()
            cls.agent = cls.start_agent()
            wait_for(lambda: "joined (1 live" in cls.host.logs(), 30,
                     "the agent to join")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def prepare(cls):
        """Runs first, with cls.dir (removed at the end) made."""

    @classmethod
    def start_agent(cls, name="edge", token_file=None, **kw):
        a = Agent(cls.host, cls.member, name, token_file or cls.token_file,
                  extra=cls.AGENT_ARGS, **kw)
        cls.agents.append(a)
        return a.start()

    @classmethod
    def tearDownClass(cls):
        errors = []
        for a in cls.agents:
            if a.proc and a.proc.poll() is None:
                a.proc.send_signal(signal.SIGCONT)  # were it stopped
            code = a.stop()
            if code not in (0, None, -signal.SIGKILL):
                errors.append("fedgate-agent exited %s:\n%s" %
                              (code, a.logs()))
            a.cleanup()
        for gw in (cls.host, cls.member):
            code = gw.stop()
            if code not in (0, None):
                errors.append("fedgate exited %s:\n%s" % (code, gw.logs()))
            gw.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if errors:
            raise AssertionError("\n".join(errors))

    @classmethod
    def curl(cls, path, headers=False):
        """GET PATH of the host as its admin: (status, body), or with
        HEADERS (status, head and body)."""
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", cls.host.ca,
             "-H", "Authorization: Bearer " + cls.host.token,
             "-D" if headers else "-o", "-",
             "-w", "\n%{http_code}", cls.host.base + path],
            capture_output=True, text=True, timeout=30)
        body, _, code = out.stdout.rpartition("\n")
        return int(code or 0), body

    @classmethod
    def kube(cls, context, *args, stdin=None, gateway=None):
        """kubectl as the admin of GATEWAY (the host by default)."""
        gw = gateway or cls.host
        return subprocess.run(
            ["kubectl", "--kubeconfig", gw.kubeconfig, "--context", context,
             "--request-timeout=20s", *args], input=stdin,
            capture_output=True, text=True, timeout=60)

    def median_get(self, path, n):
        """Median seconds of N GETs of PATH of the host (each a 200)."""
        times = []
        for _ in range(n):
            t0 = time.monotonic()
            code, body = self.curl(path)
            times.append(time.monotonic() - t0)
            self.assertEqual(code, 200, body)
        return statistics.median(times)

    def assert_unavailable(self, member="edge"):
        """MEMBER answers 503 with Retry-After: 1 and a Status: returned."""
        code, out = self.curl("/clusters/%s/version" % member, headers=True)
        self.assertEqual(code, 503, out)
        # text mode reads CRLF as LF
        head, _, body = out.partition("\n\n")
        self.assertIn("retry-after: 1", head.lower())
        status = json.loads(body)
        self.assertEqual(status["kind"], "Status")
        return status
