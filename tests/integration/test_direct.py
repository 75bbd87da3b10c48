"""The direct driver: the host calls a member's API server itself.

Members are a member-role fedgate (kubectl end to end, over an HTTP/2 and
an HTTP/1.1 upstream) and direct_upstream.py, a recording HTTPS server
(what exactly a member receives; upgrade refusals; streams cut by a
SIGKILL; token rotation). Every process is stopped by its pid."""
import json
import os
import signal
import subprocess
import tempfile
import shutil
import unittest

from harness import Gateway, free_port, mock_member, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
UPSTREAM = os.path.join(HERE, "direct_upstream.py")
# RFC 9110 7.6.1 and the names a proxy never passes on.
HOP_BY_HOP = ("connection", "keep-alive", "proxy-connection",
              "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate", "http2-settings",
              "content-length")


def make_cert(directory, name):
    """A self-signed certificate for 127.0.0.1, its own CA."""
    crt = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=upstream", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=30)
    return crt, key


class Upstream:
    def __init__(self, tmp, crt, key, *args):
        self.tmp = tmp
        self.record = tempfile.mktemp(dir=tmp, suffix=".jsonl")
        self.portfile = self.record + ".port"
        self.args = [crt, key, self.portfile, self.record] + list(args)
        self.proc = None
        self.port = None

    def start(self, port=None):
        args = list(self.args)
        if port:
            args += ["--port", str(port)]
        if os.path.exists(self.portfile):
            os.unlink(self.portfile)
        self.proc = subprocess.Popen(["/usr/bin/python3", UPSTREAM] + args,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(self.portfile), 20, "the upstream")
        with open(self.portfile) as f:
            self.port = int(f.read())
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def records(self):
        try:
            with open(self.record) as f:
                return [json.loads(line) for line in f if line.strip()]
        except OSError:
            return []


def direct_member(name, port, ca, token_file, extra=""):
    return ('[member "%s"]\ndriver = direct\nserver = https://127.0.0.1:%d\n'
            'ca_file = %s\ntoken_file = %s\nconnect_timeout = 3s\n%s' %
            (name, port, ca, token_file, extra))


class Base(unittest.TestCase):
    def curl(self, gw, path, *args, http="--http1.1", token=True):
        cmd = ["curl", "-sS", http, "--max-time", "20", "--cacert", gw.ca,
               "-D", "-", "-o", "-", "-w", "\n%{http_code}"]
        if token:
            cmd += ["-H", "Authorization: Bearer " + gw.token]
        cmd += list(args) + [gw.base + path]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=40)
        text, _, code = out.stdout.rpartition("\n")
        return int(code or 0), text, out

    def kubectl(self, gw, context, *args, check=True):
        cmd = ["kubectl", "--kubeconfig", gw.kubeconfig, "--context", context,
               "--request-timeout=20s"] + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(out.returncode, 0, out.stderr)
        return out

    @classmethod
    def start_host(cls, upstreams, members):
        """Starts cls.host on MEMBERS; kills UPSTREAMS if it fails."""
        cls.upstreams = upstreams
        cls.host = Gateway(members=members)
        try:
            cls.host.start()
        except Exception:
            for u in upstreams:
                u.kill()
            raise

    @classmethod
    def stop_host(cls):
        """Stops cls.host (checked), its upstreams and cls.tmp."""
        try:
            cls.stop_checked(cls.host)
        finally:
            for u in cls.upstreams:
                u.kill()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def stop_checked(gw):
        code = gw.stop()
        logs = gw.logs()
        gw.cleanup()
        if code not in (0, None):
            raise AssertionError("fedgate exited %s:\n%s" % (code, logs))


class MemberBehindHost(Base):
    """A member-role fedgate (the mock, "edge") and a host with a direct
    member to it for each (name, extra config) in EDGES."""

    edges = (("edge", ""),)

    @classmethod
    def setUpClass(cls):
        cls.member = Gateway(members=[mock_member("edge", "demo.json")],
                             role="member").start()
        token = os.path.join(cls.member.state, "admin.token")
        cls.host = Gateway(members=[
            direct_member(name, cls.member.port, cls.member.ca, token, extra)
            for name, extra in cls.edges])
        try:
            cls.host.start()
        except Exception:
            cls.stop_checked(cls.member)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stop_checked(cls.host)
        finally:
            cls.member.stop()
            cls.member.cleanup()


class ThroughMemberGateway(MemberBehindHost):
    """kubectl through the host to a member-role fedgate."""

    edges = (("edge", ""), ("edge1", "http2 = false\n"))

    def test_kubectl_both_protocols(self):
        own = json.loads(self.kubectl(self.member, "edge", "get", "deploy",
                                      "-n", "shop", "-o", "json").stdout)
        for ctx in ("edge", "edge1"):
            out = self.kubectl(self.host, ctx, "get", "pods", "-A")
            self.assertIn("kube-system", out.stdout)
            out = self.kubectl(self.host, ctx, "get", "nodes")
            self.assertIn("Ready", out.stdout)
            got = json.loads(self.kubectl(self.host, ctx, "get", "deploy",
                                          "-n", "shop", "-o", "json").stdout)
            self.assertEqual(got, own, ctx)

    def test_health_in_metrics(self):
        def ready():
            code, text, _ = self.curl(self.host, "/metrics")
            return (code == 200 and
                    'fedgate_member_ready{member="edge"} 1' in text and
                    'fedgate_member_ready{member="edge1"} 1' in text and
                    'fedgate_member_info{member="edge",version="' in text)
        wait_for(ready, 30, "both members ready in /metrics")
        _, text, _ = self.curl(self.host, "/metrics")
        self.assertIn('fedgate_member_probe_rtt_seconds{member="edge"}', text)


class Identity(Base):
    """What a member receives, whatever the client tries to smuggle."""

    TOKEN = "upstream-token-1"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-direct-")
        crt, key = make_cert(cls.tmp, "up")
        cls.up = Upstream(cls.tmp, crt, key, "--token", cls.TOKEN).start()
        tok = os.path.join(cls.tmp, "token")
        with open(tok, "w") as f:
            f.write(cls.TOKEN + "\n")
        cls.start_host([cls.up], [
            direct_member("up2", cls.up.port, crt, tok),
            direct_member("up1", cls.up.port, crt, tok, "http2 = false\n")])

    @classmethod
    def tearDownClass(cls):
        cls.stop_host()

    def check_last(self, path, proto, user="fedgate:admin",
                   groups=("system:authenticated", "system:masters"),
                   own=()):
        """The member saw the gateway's credential and USER in GROUPS,
        with the impersonation headers the gateway built (OWN: more of
        those) and none of the client's."""
        recs = [r for r in self.up.records() if r.get("path") == path]
        self.assertEqual(len(recs), 1, recs)
        rec = recs[0]
        self.assertEqual(rec["proto"], proto)
        names = [n for n, _ in rec["headers"]]
        vals = lambda n: [v for k, v in rec["headers"] if k == n]
        self.assertEqual(vals("authorization"), ["Bearer " + self.TOKEN])
        self.assertEqual(vals("impersonate-user"), [user])
        self.assertEqual(sorted(vals("impersonate-group")), sorted(groups))
        for n in names:
            # the same names in any spelling: a proxy in front of the
            # member may fold "_" into "-"
            f = n.lower().replace("_", "-")
            self.assertFalse(f.startswith("x-remote-"), n)
            if f in ("authorization", "impersonate-user",
                     "impersonate-group", "content-length") + tuple(own):
                self.assertEqual(n, f)  # the gateway's own, spelt as such
                continue
            self.assertNotIn(f, HOP_BY_HOP + ("impersonate-extra-scopes",
                                              "impersonate-uid", "x-named"))
        self.assertEqual(vals("x-keep"), ["yes"])
        return rec

    def test_smuggling(self):
        # (Impersonate-* spelt as Kubernetes spells it is impersonation,
        # honoured: test_impersonation_is_the_gateways_own)
        variants = [
            ["-H", "X-Remote-User: root", "-H", "Proxy-Authorization: x"],
            # the same class spelt with "_" and in other cases
            ["-H", "Impersonate_User: system:admin"],
            ["-H", "IMPERSONATE_GROUP: system:masters",
             "-H", "impersonate_Extra_Scopes: x", "-H", "Impersonate_UID: 0"],
            ["-H", "X_Remote_User: root", "-H", "x_REMOTE-group: g"],
            ["-H", "Proxy_Authorization: x", "-H", "Proxy_Connection: x",
             "-H", "Keep_Alive: 1", "-H", "tE: trailers",
             "-H", "HTTP2_Settings: x", "-H", "Transfer_Encoding: chunked",
             "-H", "TRAILER: x"],
            ["-H", "Content_Length: 5", "-H", "UPGRADE: x",
             "-H", "Proxy_Authenticate: x"],
        ]
        n = 0
        for member, proto in (("up2", "h2"), ("up1", "http/1.1")):
            for http in ("--http1.1", "--http2"):
                for v in variants:
                    extra = list(v)
                    if http == "--http1.1":
                        extra += ["-H", "Connection: Impersonate-User, "
                                  "X_Named", "-H", "Keep-Alive: timeout=5",
                                  "-H", "X-Named: 1"]
                    n += 1
                    path = "/api/v1/namespaces?n=%d" % n
                    code, text, out = self.curl(
                        self.host, "/clusters/%s%s" % (member, path),
                        "-H", "X-Keep: yes", *extra, http=http)
                    self.assertEqual(code, 200, out.stderr + text)
                    self.check_last(path, proto)

    def test_impersonation_is_the_gateways_own(self):
        # kubectl --as: the chain (no authorizer here) lets the admin
        # impersonate; the member gets the identity the gateway built,
        # as the driver writes it, never the client's headers
        for n, http in enumerate(("--http1.1", "--http2")):
            path = "/api/v1/namespaces?as=%d" % n
            code, text, out = self.curl(
                self.host, "/clusters/up2" + path, "-H", "X-Keep: yes",
                "-H", "Impersonate-User: bob", "-H", "impersonate-group: g",
                "-H", "IMPERSONATE-UID: 7", "-H", "Impersonate-Extra-Scopes: x",
                http=http)
            self.assertEqual(code, 200, out.stderr + text)
            rec = self.check_last(path, "h2", user="bob",
                                  groups=("g", "system:authenticated"),
                                  own=("impersonate-uid",
                                       "impersonate-extra-scopes"))
            vals = lambda k: [v for n, v in rec["headers"] if n == k]
            self.assertEqual(vals("impersonate-uid"), ["7"])
            self.assertEqual(vals("impersonate-extra-scopes"), ["x"])

    def test_protected_answer_headers(self):
        # what a member answers is filtered by the same folded names
        n = 0
        for member in ("up2", "up1"):
            for http in ("--http1.1", "--http2"):
                n += 1
                code, text, out = self.curl(
                    self.host, "/clusters/%s/api?answer=protected&n=%d" %
                    (member, n), http=http)
                self.assertEqual(code, 200, out.stderr + text)
                head = text.split("\n\n", 1)[0]  # curl -D, text mode
                self.assertIn("content-type:", head.lower())
                for line in head.split("\n")[1:]:
                    name = line.split(":", 1)[0].lower().replace("_", "-")
                    self.assertFalse(name.startswith(("x-remote-",
                                                      "impersonate-")), line)
                    self.assertNotIn(name, ("proxy-authenticate", "x-named",
                                            "transfer-encoding",
                                            "keep-alive"), line)


class Failures(Base):
    """Unreachable, untrusted, cut and restarted members; token rotation."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-direct-")
        cls.crt, key = make_cert(cls.tmp, "up")
        other, _ = make_cert(cls.tmp, "other")
        cls.up = Upstream(cls.tmp, cls.crt, key).start()
        cls.rot = Upstream(cls.tmp, cls.crt, key, "--token", "new-token")
        cls.rot.start()
        cls.ref = Upstream(cls.tmp, cls.crt, key, "--upgrade-403").start()
        cls.tok = os.path.join(cls.tmp, "token")
        with open(cls.tok, "w") as f:
            f.write("old-token\n")
        cls.gone_port = free_port()
        cls.start_host([cls.up, cls.rot, cls.ref], [
            direct_member("gone", cls.gone_port, cls.crt, cls.tok),
            direct_member("wrongca", cls.up.port, other, cls.tok),
            direct_member("s2", cls.up.port, cls.crt, cls.tok),
            direct_member("s1", cls.up.port, cls.crt, cls.tok,
                          "http2 = false\n"),
            direct_member("rot", cls.rot.port, cls.crt, cls.tok),
            direct_member("ref", cls.ref.port, cls.crt, cls.tok)])

    @classmethod
    def tearDownClass(cls):
        cls.stop_host()

    def status(self, text):
        return json.loads(text[text.index("{"):])

    def test_unreachable_is_503_with_retry_after(self):
        code, text, _ = self.curl(self.host, "/clusters/gone/api")
        self.assertEqual(code, 503, text)
        self.assertIn("retry-after: 1", text.lower())
        st = self.status(text)
        self.assertEqual(st["kind"], "Status")
        self.assertEqual(st["reason"], "ServiceUnavailable")
        self.assertEqual(st["message"], 'the member cluster "gone" is '
                         'unavailable: connection refused')

    def test_wrong_ca_is_503(self):
        for http in ("--http1.1", "--http2"):
            code, text, _ = self.curl(self.host, "/clusters/wrongca/api",
                                      http=http)
            self.assertEqual(code, 503, text)
            self.assertIn("certificate verify failed",
                          self.status(text)["message"])

    def test_upgrade_refused_closes_both_sides(self):
        req = ("GET /clusters/ref/api/v1/namespaces/d/pods/p/exec?command=sh "
               "HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Connection: Upgrade\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % self.host.token)
        out = self.host.raw_request(req.encode() + b"client bytes " * 100,
                                    timeout=10)
        self.assertTrue(out.startswith(b"HTTP/1.1 403"), out[:200])
        self.assertIn(b"forbidden", out)
        self.assertNotIn(b"extra", out)
        self.assertNotIn(b"200 OK", out)
        wait_for(lambda: any("late" in r for r in self.ref.records()), 15,
                 "the upstream to see the connection end")
        late = [r["late"] for r in self.ref.records() if "late" in r]
        self.assertEqual(late, [0] * len(late))

    def test_stream_cut_then_recovery(self):
        for member in ("s2", "s1"):
            for http in ("--http1.1", "--http2"):
                cmd = ["curl", "-sS", http, "--max-time", "30", "--cacert",
                       self.host.ca, "-N", "-H",
                       "Authorization: Bearer " + self.host.token,
                       self.host.base + "/clusters/%s/stream" % member]
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
                try:
                    first = proc.stdout.readline()
                    self.assertIn(b'"n"', first)
                    port = self.up.port
                    self.up.kill()
                    _, err = proc.communicate(timeout=30)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait(10)
                # a cut stream must not look complete
                self.assertNotEqual(proc.returncode, 0, err)
                code, text, _ = self.curl(self.host,
                                          "/clusters/%s/api" % member)
                self.assertEqual(code, 503, text)
                self.up.start(port=port)
                code, text, _ = self.curl(self.host,
                                          "/clusters/%s/api" % member)
                self.assertEqual(code, 200, text)

    def test_sighup_rotates_the_token(self):
        code, _, _ = self.curl(self.host, "/clusters/rot/api")
        self.assertEqual(code, 401)
        with open(self.tok, "w") as f:
            f.write("new-token\n")
        # the token file changed: a new driver instance for the member
        before = self.host.logs().count('member "rot": changed')
        self.host.signal(signal.SIGHUP)
        wait_for(lambda: self.host.logs().count('member "rot": changed') >
                 before, 20, "the reload")
        code, text, _ = self.curl(self.host, "/clusters/rot/api")
        self.assertEqual(code, 200, text)
        with open(self.tok, "w") as f:
            f.write("old-token\n")
        self.host.signal(signal.SIGHUP)


class MemberKilled(Base):
    """The member-role gateway dies and comes back on the same port."""

    def test_kill_and_recover(self):
        member = Gateway(members=[mock_member("edge", "demo.json")],
                         role="member").start()
        token = os.path.join(member.state, "admin.token")
        host = Gateway(members=[
            direct_member("edge", member.port, member.ca, token)])
        try:
            host.start()
            self.assertIn("shop", self.kubectl(host, "edge", "get", "ns").stdout)
            member.signal(signal.SIGKILL)
            member.proc.wait(10)
            code, text, _ = self.curl(host, "/clusters/edge/api/v1/namespaces")
            self.assertEqual(code, 503, text)
            self.assertIn("retry-after", text.lower())
            member.log.close()
            member.start()
            code, text, _ = self.curl(host, "/clusters/edge/api/v1/namespaces")
            self.assertEqual(code, 200, text)
        finally:
            try:
                self.stop_checked(host)
            finally:
                member.stop()
                member.cleanup()


if __name__ == "__main__":
    unittest.main()
