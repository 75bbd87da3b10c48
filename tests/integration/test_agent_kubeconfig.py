"""fedgate-agent reading its member's API server from a kubeconfig
(--kubeconfig) and its settings from an ini file (--config). The member
stand-in takes its admin token and client certificates of a CA made here:
agents with a kubeconfig holding an inline token, a tokenFile, or a client
certificate (all *-data, no token at all) join and serve requests through
the host; a kubeconfig or config file with a mistake stops the agent with
FILE:LINE and the key; the command line wins over the config file. Every
process is stopped by its pid."""
import base64
import json
import os
import re
import subprocess
import unittest

from agent_harness import AGENT, Agent, AgentCase
from test_agent_cert import make_pki
from harness import wait_for


def b64(data):
    return base64.b64encode(data).decode()


def kubeconfig(server, cluster, user):
    """A kubeconfig whose current context is CLUSTER and USER (dicts), with
    a decoy context, cluster and user that must not be used."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "member",
        "contexts": [
            {"name": "decoy", "context": {"cluster": "decoy",
                                          "user": "decoy"}},
            {"name": "member", "context": {"cluster": "member",
                                           "user": "agent"}}],
        "clusters": [
            {"name": "decoy", "cluster": {"server": "https://192.0.2.1",
                                          "certificate-authority": "/no"}},
            {"name": "member", "cluster": dict(server=server, **cluster)}],
        "users": [{"name": "decoy", "user": {"token": "decoy"}},
                  {"name": "agent", "user": user}]})


class KubeconfigAgentTest(AgentCase):

    @classmethod
    def prepare(cls):
        crt, key = make_pki(cls.dir, ("fedgate-agent",))["fedgate-agent"]
        with open(crt, "rb") as f:
            cls.cert = f.read()
        with open(key, "rb") as f:
            cls.key = f.read()
        ca = os.path.join(cls.dir, "ca.crt")
        cls.MEMBER_POLICY = (
            "[tls]\nclient_ca_file = %s\n"
            "[policy]\nchain = admin_token, authn_x509\n"
            "[plugin \"admin_token\"]\n"
            "[plugin \"authn_x509\"]\nclient_ca_file = %s\n" % (ca, ca))

    @classmethod
    def kubeconfig_agent(cls, cluster, user, name="edge", keep=True):
        """An agent (not started) of member NAME reading the member's API
        server from a kubeconfig in its directory (relative paths resolve
        there) instead of the service account; KEEP: tearDownClass stops it
        and checks its exit code."""
        a = Agent(cls.host, cls.member, name, cls.token_file)
        at = a.args.index("--serviceaccount-dir")
        del a.args[at:at + 2]
        path = os.path.join(a.tmp, "kubeconfig")
        with open(path, "w") as f:
            f.write(kubeconfig("https://127.0.0.1:%d" % cls.member.port,
                               cluster, user))
        a.args += ["--kubeconfig", path]
        a.env.pop("KUBERNETES_SERVICE_HOST")
        if keep:
            cls.agents.append(a)
        return a

    def served(self, agent):
        wait_for(lambda: "joined host" in agent.logs(), 30, "the agent to join")
        code, body = self.curl("/clusters/edge/api/v1/namespaces")
        self.assertEqual(code, 200, body)
        self.assertIn('"default"', body)
        self.assertIn("(from %s)" % agent.args[-1], agent.logs())

    def replace_agent(self, cluster, user):
        self.agent.stop()
        wait_for(lambda: self.curl("/clusters/edge/version")[0] == 503, 30,
                 "the first agent's tunnel to end")
        a = self.kubeconfig_agent(cluster, user)
        type(self).agent = a.start()
        self.served(a)

    def test_1_inline_token_relative_ca(self):
        with open(os.path.join(self.member.state, "admin.token")) as f:
            token = f.read().strip()
        # the kubeconfig is beside the agent's sa/ca.crt
        self.replace_agent({"certificate-authority": "sa/ca.crt"},
                           {"token": token})

    def test_2_token_file(self):
        self.replace_agent(
            {"certificate-authority": os.path.abspath(self.member.ca)},
            {"tokenFile": "sa/token"})

    def test_3_client_certificate_data(self):
        with open(self.member.ca, "rb") as f:
            ca = f.read()
        self.replace_agent({"certificate-authority-data": b64(ca)},
                           {"client-certificate-data": b64(self.cert),
                            "client-key-data": b64(self.key)})

    def test_4_a_wrong_kubeconfig_stops_the_agent(self):
        cases = [
            ({"certificate-authority": "sa/ca.crt"},
             {"exec": {"command": "aws"}},
             r":1: users\[agent\]\.user: exec is not supported"),
            ({}, {"token": "t"},
             r":1: clusters\[member\]\.cluster: certificate-authority\(-data\)"
             " is missing"),
            ({"certificate-authority": "sa/ca.crt"},
             {"client-certificate-data": b64(self.cert)},
             r":1: users\[agent\]\.user: client-certificate without "
             "client-key"),
        ]
        cases.append(({"certificate-authority": "sa/ca.crt"},
                      {"tokenFile": "missing"},
                      r": cannot read the kubeconfig's tokenFile .*/missing"))
        for cluster, user, message in cases:
            a = self.kubeconfig_agent(cluster, user, keep=False)
            try:
                a.start()
                a.proc.wait(30)
                self.assertEqual(a.proc.returncode, 1, a.logs())
                self.assertRegex(a.logs(), re.escape(a.args[-1]) + message)
            finally:
                a.stop()
                a.cleanup()


class ConfigFileTest(AgentCase):
    """The same keys in an [agent] section."""

    def config_agent(self, text, *args):
        a = Agent(self.host, self.member, "edge", self.token_file)
        path = os.path.join(a.tmp, "agent.ini")
        keys = dict(zip(a.args[1::2], a.args[2::2]))
        with open(path, "w") as f:
            f.write("; fedgate-agent settings\n[agent]\n")
            for k, v in keys.items():
                f.write("%s = %s\n" % (k[2:], v))
            f.write(text)
        a.args = [AGENT, "--config", path, *args]
        self.agents.append(a)
        return a, path

    def test_config_file_joins(self):
        self.agent.stop()
        wait_for(lambda: self.curl("/clusters/edge/version")[0] == 503, 30,
                 "the first agent's tunnel to end")
        # the command line's --state-dir wins over the file's
        a, _ = self.config_agent("", "--state-dir", self.dir)
        a.start()
        wait_for(lambda: "joined host" in a.logs(), 30, "the agent to join")
        wait_for(lambda: self.curl("/clusters/edge/version")[0] == 200, 30,
                 "edge to be served")
        self.assertTrue(os.path.exists(os.path.join(self.dir, "host-id")))
        self.assertFalse(os.path.exists(os.path.join(a.state, "host-id")))

    def test_config_file_mistakes(self):
        for text, message in [
                ("pingg = 3\n", ":%d: pingg: unknown key"),
                ("ping-interval = 0\n", ":%d: ping-interval: 1 to 3600"),
                ("name = Edge_1\n", ":%d: name: set twice"),
                ("[other]\n", ":%d: [other]: unknown section"),
                ("  indented = 1\n", ":%d: ")]:
            a, path = self.config_agent(text)
            out = subprocess.run(a.args, capture_output=True, text=True,
                                 timeout=30, env=a.env)
            a.cleanup()
            self.assertEqual(out.returncode, 2, out.stderr)
            # the comment, [agent] and 7 keys come first
            self.assertIn(path + message % 10, out.stderr)
        out = subprocess.run([AGENT, "--config", "/nonexistent/agent.ini"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn("/nonexistent/agent.ini", out.stderr)


if __name__ == "__main__":
    unittest.main()
