"""Client certificates end to end: `fedgatectl kubeconfig` issues a
certificate from the gateway's CA and a kubeconfig kubectl uses as is,
through a gateway whose chain has authn_x509 (CN user, O groups, seen by
a probe authorizer); certificates of another CA, or expired, get a 401
Status; fedgatectl warns about a configuration that would not accept what
it issues, and in token mode appends a line to an authn_token file."""
import base64
import csv
import datetime
import json
import os
import shutil
import stat
import subprocess
import unittest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from authn_case import AuthnTest, probe_section
from harness import ADMIN_POLICY, FEDGATE, Gateway

FEDGATECTL = os.path.join(os.path.dirname(FEDGATE), "fedgatectl")


def fedgatectl(*args, check=True):
    out = subprocess.run([FEDGATECTL, *args], capture_output=True, text=True,
                         timeout=60)
    if check and out.returncode != 0:
        raise AssertionError("fedgatectl %s: %d\n%s" % (
            " ".join(args), out.returncode, out.stderr))
    return out


def make_cert(ca_cert, ca_key, cn, not_before, not_after, orgs=()):
    """A client certificate (PEM cert, PEM key) signed by CA_KEY."""
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.COMMON_NAME, cn)] + [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name(names))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


class X509Test(AuthnTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        gw = Gateway(plugin_dir=cls.plugins)
        cls.gw = gw
        # The first start makes the CA; the operator then names it.
        gw.start()
        assert gw.stop() == 0, gw.logs()
        with open(gw.ca, "rb") as f:
            cls.ca_cert = x509.load_pem_x509_certificate(f.read())
        with open(os.path.join(gw.state, "ca.key"), "rb") as f:
            cls.ca_key = serialization.load_pem_private_key(f.read(), None)
        # TLS trusts another CA too; authn_x509 only the gateway's.
        cls.other_cert, cls.other_key = make_ca("other-ca")
        bundle = os.path.join(cls.tmp, "tls-clients.pem")
        with open(bundle, "wb") as f:
            f.write(cls.ca_cert.public_bytes(serialization.Encoding.PEM))
            f.write(cls.other_cert.public_bytes(serialization.Encoding.PEM))
        path = os.path.join(gw.conf, "10-gateway.ini")
        with open(path) as f:
            text = f.read().replace(ADMIN_POLICY, "")
        text += ("[tls]\nclient_ca_file = %s\n"
                 "[policy]\nchain = admin_token, authn_x509, probe\n"
                 "[plugin \"admin_token\"]\n"
                 "[plugin \"authn_x509\"]\nclient_ca_file = %s\n" %
                 (bundle, gw.ca) + probe_section(cls.log))
        gw.write("10-gateway.ini", text)
        gw.start()

    def kubeconfig(self, *args):
        out = fedgatectl("kubeconfig", "-c", self.gw.conf, *args)
        path = os.path.join(self.tmp, "kc-%d.yaml" % len(os.listdir(self.tmp)))
        with open(path, "w") as f:
            f.write(out.stdout)
        return path, json.loads(out.stdout), out.stderr

    def curl_cert(self, cert, key):
        certf = os.path.join(self.tmp, "c.pem")
        keyf = os.path.join(self.tmp, "k.pem")
        with open(certf, "wb") as f:
            f.write(cert)
        with open(keyf, "wb") as f:
            f.write(key)
        return self.curl("--cert", certf, "--key", keyf)

    def test_fedgatectl_certificate_kubeconfig(self):
        path, kc, err = self.kubeconfig("--user", "alice", "--group", "team-a",
                                        "--group", "team-b")
        self.assertEqual(err, "")  # the configuration accepts it
        self.assertEqual([c["name"] for c in kc["contexts"]],
                         ["host", "demo", "_all", "fedgate.fleet"])
        self.assertEqual([c["cluster"]["server"] for c in kc["clusters"]],
                         [self.gw.base + "/clusters/host",
                          self.gw.base + "/clusters/demo",
                          self.gw.base + "/clusters/*", self.gw.base])
        self.assertIn("client-certificate-data", kc["users"][0]["user"])
        for ctx in ("demo", "host"):
            out = subprocess.run(
                ["kubectl", "--kubeconfig", path, "--context", ctx,
                 "--request-timeout=20s", "get", "ns", "-o", "name"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("namespace/default", out.stdout)
        self.assertEqual(self.authorized()[-1], "user=alice groups=3")

    def test_ttl(self):
        _, kc, _ = self.kubeconfig("--user", "bob", "--ttl", "90m")
        cert = x509.load_pem_x509_certificate(base64.b64decode(
            kc["users"][0]["user"]["client-certificate-data"]))
        life = cert.not_valid_after - cert.not_valid_before
        # backdated five minutes against slow clocks
        self.assertEqual(life, datetime.timedelta(minutes=95))
        self.assertEqual(cert.subject.rfc4514_string(), "CN=bob")
        for bad in ("0s", "30s", "400d", "1x", "-1h"):
            out = fedgatectl("kubeconfig", "-c", self.gw.conf, "--user", "b",
                             "--ttl", bad, check=False)
            self.assertEqual(out.returncode, 2, bad)
            self.assertEqual(out.stdout, "")

    def test_bad_names_refused(self):
        for args in (["--user", ""], ["--user", "a\nb"], [],
                     ["--user", "a", "--group", "x,y"],
                     ["--user", "a", "--group", "tab\there"]):
            out = fedgatectl("kubeconfig", "-c", self.gw.conf, *args,
                             check=False)
            self.assertEqual(out.returncode, 2, args)
            self.assertEqual(out.stdout, "")

    def test_other_ca_is_401(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        cert, key = make_cert(self.other_cert, self.other_key, "mallory",
                              now - datetime.timedelta(hours=1),
                              now + datetime.timedelta(hours=1),
                              orgs=["system:masters"])
        code, body = self.curl_cert(cert, key)
        self.assertEqual(code, 401)
        status = json.loads(body)
        self.assertEqual(status["kind"], "Status")
        self.assertEqual(status["reason"], "Unauthorized")
        self.assertIn("x509: unable to get local issuer certificate",
                      status["message"])
        self.assertFalse([u for u in self.authorized() if "mallory" in u])

    def test_expired_is_401(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        cert, key = make_cert(self.ca_cert, self.ca_key, "old",
                              now - datetime.timedelta(days=2),
                              now - datetime.timedelta(days=1))
        code, body = self.curl_cert(cert, key)
        self.assertEqual(code, 401)
        self.assertEqual(json.loads(body)["code"], 401)
        # kubectl says what kube-apiserver's answer makes it say.
        kc = os.path.join(self.tmp, "expired.yaml")
        with open(kc, "w") as f:
            json.dump({
                "apiVersion": "v1", "kind": "Config",
                "clusters": [{"name": "demo", "cluster": {
                    "server": self.gw.base + "/clusters/demo",
                    "certificate-authority": self.gw.ca}}],
                "users": [{"name": "old", "user": {
                    "client-certificate-data": base64.b64encode(cert).decode(),
                    "client-key-data": base64.b64encode(key).decode()}}],
                "contexts": [{"name": "demo", "context": {
                    "cluster": "demo", "user": "old"}}],
                "current-context": "demo"}, f)
        out = subprocess.run(["kubectl", "--kubeconfig", kc,
                              "--request-timeout=20s", "get", "ns"],
                             capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("Unauthorized", out.stderr)
        self.assertFalse([u for u in self.authorized() if "=old" in u])

    def test_admin_token_still_works(self):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
             "demo", "--request-timeout=20s", "get", "ns", "-o", "name"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_warnings_for_a_configuration_that_would_refuse(self):
        conf = os.path.join(self.tmp, "bare.d")
        os.mkdir(conf)
        with open(os.path.join(conf, "10.ini"), "w") as f:
            f.write("[gateway]\nlisten = 0.0.0.0:%d\nstate_dir = %s\n"
                    "[policy]\nchain = admin_token\n[plugin \"admin_token\"]\n"
                    "[member \"only\"]\ndriver = mock\n" % (self.gw.port,
                                                           self.gw.state))
        out = fedgatectl("kubeconfig", "-c", conf, "--user", "carol")
        self.assertIn("[tls] client_ca_file is not set", out.stderr)
        self.assertIn("no authn_x509 plugin in the [policy] chain",
                      out.stderr)
        self.assertIn("wildcard address", out.stderr)
        kc = json.loads(out.stdout)
        self.assertEqual(kc["clusters"][0]["cluster"]["server"],
                         "https://localhost:%d/clusters/only" % self.gw.port)
        out = fedgatectl("kubeconfig", "-c", conf, "--user", "carol",
                         "--server", "https://gw.example:443/")
        self.assertEqual(json.loads(out.stdout)["clusters"][0]["cluster"]
                         ["server"], "https://gw.example:443/clusters/only")
        # Without the CA's key nothing is issued.
        empty = os.path.join(self.tmp, "nostate")
        os.mkdir(empty, 0o700)
        shutil.copy(self.gw.ca, os.path.join(empty, "ca.crt"))
        with open(os.path.join(conf, "10.ini")) as f:
            text = f.read().replace(self.gw.state, empty)
        with open(os.path.join(conf, "10.ini"), "w") as f:
            f.write(text)
        out = fedgatectl("kubeconfig", "-c", conf, "--user", "carol",
                         check=False)
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stdout, "")
        self.assertIn("ca.key", out.stderr)

    def test_token_mode_writes_the_token_file(self):
        tokens = os.path.join(self.tmp, "tokens.csv")
        with open(tokens, "w") as f:
            f.write("# operators\nexisting,ann,1")  # no final newline
        os.chmod(tokens, 0o600)
        _, kc, err = self.kubeconfig("--user", 'bob "the builder"', "--group",
                                     "dev", "--group", "ops", "--token-file",
                                     tokens)
        self.assertIn("no plugin of the [policy] chain reads", err)
        self.assertIn("SIGHUP", err)
        _, kc2, _ = self.kubeconfig("--user", "eve", "--token-file", tokens)
        with open(tokens, newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], ["# operators"])
        self.assertEqual(rows[1], ["existing", "ann", "1"])
        token, user, uid, groups = rows[2]
        self.assertRegex(token, "^[0-9a-f]{64}$")
        self.assertEqual(user, 'bob "the builder"')
        self.assertRegex(uid, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                              "[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual(groups, "dev,ops")
        self.assertEqual(rows[3][1:2] + rows[3][3:], ["eve", ""])
        self.assertEqual(len(rows), 4)
        self.assertEqual(kc["users"][0]["user"], {"token": token})
        self.assertEqual(kc2["users"][0]["user"], {"token": rows[3][0]})
        self.assertNotEqual(token, rows[3][0])
        self.assertEqual(stat.S_IMODE(os.stat(tokens).st_mode), 0o600)
        # A new file is created 0600.
        fresh = os.path.join(self.tmp, "fresh.csv")
        self.kubeconfig("--user", "f", "--token-file", fresh)
        self.assertEqual(stat.S_IMODE(os.stat(fresh).st_mode), 0o600)


if __name__ == "__main__":
    unittest.main()
