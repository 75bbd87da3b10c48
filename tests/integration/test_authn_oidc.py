"""OpenID Connect ID tokens end to end: a JWKS file and RS256 / ES256
tokens made here, sent by curl and by `kubectl --token` through a gateway
whose chain has authn_oidc (username and groups claims with prefixes,
seen by a probe authorizer). Tokens of our issuer that fail a check get a
401 Status saying why; bearer tokens that are no JWT, or another issuer's,
are left to the next authenticator (the admin token still works). SIGHUP
re-reads the key set, and a broken one keeps the keys read before."""
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature

from authn_case import AuthnTest, probe_section
from harness import Gateway, wait_for

ISSUER = "https://issuer.test/realms/fleet"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n):
    return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def jwk(key, kid):
    pub = key.public_key().public_numbers()
    if isinstance(key, rsa.RSAPrivateKey):
        return {"kty": "RSA", "kid": kid, "use": "sig", "n": uint(pub.n),
                "e": uint(pub.e)}
    return {"kty": "EC", "kid": kid, "crv": "P-256",
            "x": b64(pub.x.to_bytes(32, "big")),
            "y": b64(pub.y.to_bytes(32, "big"))}


def jwt(key, kid, claims, alg=None):
    alg = alg or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
    head = b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signing_input = ("%s.%s" % (head, body)).encode()
    if alg == "RS256":
        sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "ES256":
        r, s = decode_dss_signature(
            key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        sig = b""
    return "%s.%s.%s" % (head, body, b64(sig) or "AA")


def claims(**over):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": ["kubectl", "fedgate"], "sub": "1234",
         "email": "alice@example.com", "email_verified": True,
         "groups": ["dev", "ops"], "iat": now, "exp": now + 600}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


class OidcTest(AuthnTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jwks = os.path.join(cls.tmp, "jwks.json")
        cls.rsa = rsa.generate_private_key(public_exponent=65537,
                                           key_size=2048)
        cls.ec = ec.generate_private_key(ec.SECP256R1())
        cls.write_jwks([jwk(cls.rsa, "r1"), jwk(cls.ec, "e1")])
        policy = ("\n[policy]\nchain = admin_token, authn_oidc, probe\n"
                  "[plugin \"admin_token\"]\n"
                  "[plugin \"authn_oidc\"]\nissuer_url = %s\n"
                  "client_id = fedgate\njwks_file = %s\n"
                  "username_claim = email\nusername_prefix = oidc:\n"
                  "groups_claim = groups\ngroups_prefix = oidc:\n"
                  "required_claims = email_domain=example.com\n"
                  "clock_skew = 10s\n" % (ISSUER, cls.jwks) +
                  probe_section(cls.log))
        cls.gw = Gateway(plugin_dir=cls.plugins, policy=policy)
        cls.gw.start()

    @classmethod
    def write_jwks(cls, keys, raw=None):
        tmp = cls.jwks + ".new"
        with open(tmp, "w") as f:
            f.write(raw if raw is not None else json.dumps({"keys": keys}))
        os.replace(tmp, cls.jwks)

    def bearer(self, token):
        return self.curl("-H", "Authorization: Bearer " + token)

    def good(self, **over):
        return claims(email_domain="example.com", **over)

    def test_rs256_and_es256_with_curl(self):
        for key, kid in ((self.rsa, "r1"), (self.ec, "e1")):
            code, body = self.bearer(jwt(key, kid, self.good()))
            self.assertEqual(code, 200, body)
            self.assertEqual(self.authorized()[-1],
                             "user=oidc:alice@example.com groups=3")

    def test_kubectl_token(self):
        empty = os.path.join(self.tmp, "empty-kubeconfig")
        open(empty, "w").close()
        out = subprocess.run(
            ["kubectl", "--kubeconfig", empty, "--server",
             self.gw.base + "/clusters/demo", "--certificate-authority",
             self.gw.ca, "--token", jwt(self.ec, "e1", self.good()),
             "--request-timeout=20s", "get", "ns", "-o", "name"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("namespace/default", out.stdout)
        expired = jwt(self.rsa, "r1",
                      self.good(exp=int(time.time()) - 60))
        out = subprocess.run(
            ["kubectl", "--kubeconfig", empty, "--server",
             self.gw.base + "/clusters/demo", "--certificate-authority",
             self.gw.ca, "--token", expired, "--request-timeout=20s",
             "get", "ns"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("You must be logged in to the server (oidc: the "
                      "token expired", out.stderr)

    def expect_401(self, token, why):
        code, body = self.bearer(token)
        self.assertEqual(code, 401, body)
        status = json.loads(body)
        self.assertEqual((status["kind"], status["reason"]),
                         ("Status", "Unauthorized"))
        if why:
            self.assertTrue(status["message"].startswith("oidc: "), status)
            self.assertIn(why, status["message"])
        else:
            self.assertNotIn("oidc:", status["message"])

    def test_refused_with_a_reason(self):
        now = int(time.time())
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cases = [
            (jwt(self.rsa, "r1", self.good(exp=now - 60)), "expired"),
            (jwt(self.rsa, "r1", self.good(nbf=now + 600)), "not valid before"),
            (jwt(self.rsa, "r1", self.good(aud="kubectl")), "audience"),
            (jwt(other, "r1", self.good()), "invalid signature"),
            (jwt(self.rsa, "r9", self.good()), "no RS256 key with kid"),
            (jwt(self.rsa, "r1", self.good(), alg="none"), "not accepted"),
            (jwt(self.rsa, "r1", claims()), "required claim email_domain"),
            (jwt(self.rsa, "r1", self.good(email_verified=False)),
             "email not verified"),
            (jwt(self.rsa, "r1", self.good(groups=[1])), "groups claim"),
        ]
        for token, why in cases:
            self.expect_401(token, why)

    def test_not_ours_is_no_opinion(self):
        self.expect_401("not-a-jwt", None)
        self.expect_401(jwt(self.rsa, "r1",
                            self.good(iss="https://elsewhere.test")), None)
        self.expect_401("eyJhbGciOiJSUzI1NiJ9.e30.AA", None)
        self.expect_401("x" * 20000, None)
        # The next authenticator still judges what authn_oidc leaves.
        code, _ = self.bearer(self.gw.token)
        self.assertEqual(code, 200)

    def test_sighup_rereads_the_keys(self):
        new = ec.generate_private_key(ec.SECP256R1())
        old_token = jwt(self.rsa, "r1", self.good())
        new_token = jwt(new, "e2", self.good())
        self.assertEqual(self.bearer(new_token)[0], 401)
        try:
            self.write_jwks([jwk(new, "e2")])
            self.gw.signal(signal.SIGHUP)
            wait_for(lambda: self.bearer(new_token)[0] == 200, 20,
                     "the new key to be read")
            self.assertEqual(self.bearer(old_token)[0], 401)
            # A broken file keeps the keys read before.
            self.write_jwks(None, raw='{"keys": [')
            self.gw.signal(signal.SIGHUP)
            wait_for(lambda: "the keys read before stay in use" in
                     self.gw.logs(), 20, "the reload to be refused")
            self.assertEqual(self.bearer(new_token)[0], 200)
        finally:
            self.write_jwks([jwk(self.rsa, "r1"), jwk(self.ec, "e1")])
            self.gw.signal(signal.SIGHUP)
            wait_for(lambda: self.bearer(old_token)[0] == 200, 20,
                     "the first keys to be back")


class OidcConfigTest(unittest.TestCase):
    """What the gateway refuses to start with."""

    def start_fails(self, section, why):
        gw = Gateway(policy="\n[policy]\nchain = authn_oidc\n" + section)
        self.addCleanup(gw.cleanup)
        with self.assertRaises(AssertionError) as ctx:
            gw.start()
        gw.stop()
        self.assertIn(why, str(ctx.exception))

    def test_bad_configuration(self):
        tmp = tempfile.mkdtemp(prefix="fedgate-oidc-conf-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"keys": []}')
        self.start_fails('[plugin "authn_oidc"]\nissuer_url = http://x\n'
                         'client_id = c\njwks_file = %s\n' % bad,
                         "not an https:// URL")
        self.start_fails('[plugin "authn_oidc"]\nissuer_url = https://x\n'
                         'client_id = c\njwks_file = %s\n' % bad,
                         "no RS256 or ES256 signing key")
        self.start_fails('[plugin "authn_oidc"]\nissuer_url = https://x\n'
                         'client_id = c\njwks_file = %s\n'
                         'required_claims = a=b, nothing\n' % bad,
                         "is not CLAIM=VALUE")


if __name__ == "__main__":
    unittest.main()
