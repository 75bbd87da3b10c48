"""Agents proving their member name with a client certificate: with
[tunnel] client_ca_file every agent must present a certificate from that
CA, and its CN is the member name it may join as, token or not; a member
without token_file takes certificate agents only. A certificate for
another member is refused with the reason in both logs; an agent without a
certificate never gets past TLS. Every process is stopped by its pid."""
import os
import subprocess
import tempfile
import unittest

from agent_harness import Agent, AgentCase
from harness import wait_for


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True,
                   timeout=30)


def make_pki(d, names):
    """A CA in D and a client certificate and key for each CN of NAMES:
    {name: (cert, key)}; the CA's path is D/ca.crt."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ca, ca_key = os.path.join(d, "ca.crt"), os.path.join(d, "ca.key")
    openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca,
            "-subj", "/CN=fedgate agents", "-days", "1")
    out = {}
    for name in names:
        key, csr, crt = (os.path.join(d, name + x)
                         for x in (".key", ".csr", ".crt"))
        openssl("req", *ec, "-keyout", key, "-out", csr, "-subj",
                "/CN=" + name)
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                "-CAcreateserial", "-out", crt, "-days", "1")
        out[name] = (crt, key)
    return out


class AgentCertTest(AgentCase):
    MORE_MEMBERS = ('[member "vault"]\ndriver = agent\n',)

    @classmethod
    def setUpClass(cls):
        cls.pki_dir = tempfile.mkdtemp(prefix="fedgate-agent-pki-")
        cls.certs = make_pki(cls.pki_dir, ("edge", "vault"))
        cls.TUNNEL = "client_ca_file = %s\n" % os.path.join(cls.pki_dir,
                                                           "ca.crt")
        cls.AGENT_ARGS = cls.cert_args("edge")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            subprocess.run(["rm", "-rf", cls.pki_dir])

    @classmethod
    def cert_args(cls, name):
        crt, key = cls.certs[name]
        return ("--cert-file", crt, "--key-file", key)

    def start_cert_agent(self, name, cert, token=False):
        """An agent for member NAME with CERT's certificate (or none), with
        the edge token or none."""
        a = Agent(self.host, self.member, name, self.token_file,
                  extra=self.cert_args(cert) if cert else ())
        if not token:
            at = a.args.index("--token-file")
            del a.args[at:at + 2]
        self.agents.append(a)  # stopped by tearDownClass
        return a.start()

    def test_certificate_alone_joins_its_member(self):
        self.start_cert_agent("vault", "vault")
        wait_for(lambda: 'member "vault": tunnel from' in self.host.logs(),
                 30, "the vault agent to join")
        wait_for(lambda: self.curl("/clusters/vault/version")[0] == 200, 30,
                 "vault to be served")

    def test_certificate_for_another_member_is_refused(self):
        a = self.start_cert_agent("edge", "vault", token=True)  # a valid token, too
        why = 'the client certificate is for member "vault", not "edge"'
        wait_for(lambda: why in self.host.logs() and why in a.logs(), 30,
                 "both sides to log the refusal")

    def test_no_certificate_no_tunnel(self):
        a = self.start_cert_agent("edge", None, token=True)
        # TLS 1.3: the host checks the certificate after the agent's side
        # of the handshake is done, so the agent sees its connection closed
        wait_for(lambda: a.logs().count("dialling the host again") >= 2, 30,
                 "the agent to be turned away twice:\n" + a.logs())
        self.assertNotIn("joined host", a.logs())

    def test_member_without_token_file_needs_client_ca_file(self):
        out = subprocess.run(
            [os.environ.get("FEDGATE_BIN", "fedgate"), "-c", self.host.conf,
             "--check", "--state-dir", self.host.state],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        os.rename(os.path.join(self.host.conf, "30-tunnel.ini"),
                  os.path.join(self.pki_dir, "tunnel.ini"))
        try:
            self.host.write("30-tunnel.ini", "[tunnel]\nlisten = 127.0.0.1:0\n")
            out = subprocess.run(
                [os.environ.get("FEDGATE_BIN", "fedgate"), "-c",
                 self.host.conf, "--check", "--state-dir", self.host.state],
                capture_output=True, text=True, timeout=30)
        finally:
            os.replace(os.path.join(self.pki_dir, "tunnel.ini"),
                       os.path.join(self.host.conf, "30-tunnel.ini"))
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("token_file is required unless [tunnel] client_ca_file",
                      out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
