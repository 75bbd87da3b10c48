"""The policy chain on a real gateway: every phase's verdicts (allow, deny,
no opinion), asynchronous verdicts, cancellation when the client goes away
or no verdict comes in time, audit of every outcome, and configuration
errors at --check. The verdicts come from tests/plugins/policy_probe, which
writes down what it saw; it is linked into a plugin_dir of the test's own
beside the real plugins."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import FEDGATE, Gateway, plugin_dir, wait_for

PODS = "/clusters/demo/api/v1/namespaces/default/pods"
CONFIGMAPS = "/clusters/demo/api/v1/namespaces/default/configmaps"


def probe_section(log, name="probe", **keys):
    text = '[plugin "%s"]\nplugin = policy_probe\nlog_file = %s\n' % (name,
                                                                      log)
    return text + "".join("%s = %s\n" % kv for kv in keys.items())


class PolicyTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.plugins = plugin_dir("policy_probe.so", "audit_probe.so")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.plugins, ignore_errors=True)

    def start(self, policy, extra_gateway=""):
        """A gateway whose [policy] chain and [plugin] sections are POLICY
        (a function of the probe's log path)."""
        tmp = tempfile.mkdtemp(prefix="fedgate-policy-log-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        self.log = os.path.join(tmp, "probe.log")
        self.audit_log = os.path.join(tmp, "audit.log")
        gw = Gateway(plugin_dir=self.plugins, extra_gateway=extra_gateway,
                     policy=policy(self.log))
        self.addCleanup(gw.cleanup)
        gw.start()

        def stop():
            code = gw.stop()
            self.assertEqual(code, 0, gw.logs())
        self.addCleanup(stop)
        self.gw = gw
        return gw

    def probe_only(self, **keys):
        return self.start(lambda log: "[policy]\nchain = probe\n" +
                          probe_section(log, **keys))

    def lines(self, path=None):
        try:
            with open(path or self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_line(self, prefix, path=None, timeout=10):
        wait_for(lambda: any(l.startswith(prefix) for l in self.lines(path)),
                 timeout, "a probe line %r in %s" % (prefix, self.lines(path)))
        return [l for l in self.lines(path) if l.startswith(prefix)]

    def curl(self, path, *args, token=None, http="--http1.1", timeout=20):
        """Returns (code, headers lower-cased, body); code 0 when curl
        gave up (its exit status is then in headers["exit"])."""
        cmd = ["curl", "-sS", http, "--max-time", str(timeout), "--cacert",
               self.gw.ca, "-D", "-", "-o", "-"]
        if token:
            cmd += ["-H", "Authorization: Bearer " + token]
        out = subprocess.run(cmd + list(args) + [self.gw.base + path],
                             capture_output=True, timeout=timeout + 10)
        if out.returncode != 0:
            return 0, {"exit": out.returncode}, b""
        head, _, body = out.stdout.partition(b"\r\n\r\n")
        status, *fields = head.decode().split("\r\n")
        headers = {}
        for f in fields:
            k, _, v = f.partition(":")
            headers[k.strip().lower()] = v.strip()
        return int(status.split()[1]), headers, body

    def status(self, body):
        st = json.loads(body)
        self.assertEqual(st["kind"], "Status")
        return st

    # ---- every phase ----------------------------------------------------

    def test_allowed_request_and_what_plugins_see(self):
        self.start(lambda log: (
            "[policy]\nchain = probe, audit\n" +
            probe_section(log, authenticate="allow", authorize="allow") +
            '[plugin "audit"]\nplugin = audit_probe\nlog_file = %s\n' %
            self.audit_log))
        code, _, body = self.curl(PODS + "?limit=1")
        self.assertEqual(code, 200, body)
        authn = self.wait_line("authenticate ")[0]
        for want in ("method=GET", "path=" + PODS, "member=demo", "verb=list",
                     "resource=pods", "namespace=default", "user=-",
                     "authorization=-"):
            self.assertIn(want, authn.split())
        for phase in ("authorize ", "admit "):
            line = self.wait_line(phase)[0].split()
            self.assertIn("user=probe:user", line)
            self.assertIn("groups=2", line)
            self.assertIn("uid=probe-uid", line)
        self.assertIn("status=200", self.wait_line("audit ")[0].split())
        audit = self.wait_line("audit ", self.audit_log)[0].split()
        self.assertIn("status=200", audit)
        self.assertIn("user=probe:user", audit)
        # /metrics is the gateway's own, behind the same phases
        code, _, body = self.curl("/metrics")
        self.assertEqual(code, 200, body)
        self.wait_line("authorize method=GET path=/metrics member=-")
        wait_for(lambda: len([l for l in self.lines()
                              if l.startswith("audit ")]) == 2,
                 10, "the audit of /metrics")
        # the probes answer before any phase, unaudited
        n = len(self.lines())
        code, _, body = self.curl("/readyz")
        self.assertEqual((code, body), (200, b"ok"))
        time.sleep(0.2)
        self.assertEqual(len(self.lines()), n)

    def test_authenticate_deny_is_401_with_the_reason(self):
        self.probe_only(authenticate="deny", deny_message="bad credentials")
        code, _, body = self.curl(PODS)
        self.assertEqual(code, 401)
        st = self.status(body)
        self.assertEqual((st["reason"], st["message"]),
                         ("Unauthorized", "bad credentials"))
        audit = self.wait_line("audit ")[0].split()
        self.assertIn("status=401", audit)
        self.assertIn("denied_by=probe", audit)
        self.assertFalse([l for l in self.lines()
                          if l.startswith("authorize ")])

    def test_no_identity_is_401(self):
        self.probe_only(authenticate="none", authorize="allow")
        code, _, body = self.curl(PODS)
        self.assertEqual(code, 401)
        self.assertEqual(self.status(body)["message"], "Unauthorized")
        self.assertIn("denied_by=-", self.wait_line("audit ")[0].split())
        code, _, _ = self.curl("/metrics")
        self.assertEqual(code, 401)

    def test_authorize_deny_is_403_in_kubernetes_words(self):
        self.probe_only(authenticate="allow", authorize="deny",
                        deny_message="not on tuesdays")
        code, _, body = self.curl(PODS + "/web-1")
        self.assertEqual(code, 403)
        st = self.status(body)
        self.assertEqual(st["reason"], "Forbidden")
        self.assertEqual(
            st["message"],
            'pods "web-1" is forbidden: User "probe:user" cannot get '
            'resource "pods" in API group "" in the namespace "default" '
            'on the member cluster "demo": not on tuesdays')
        self.assertIn("status=403", self.wait_line("audit ")[0].split())
        code, _, body = self.curl("/metrics")
        self.assertEqual(code, 403)
        self.assertIn('cannot get path "/metrics"',
                      self.status(body)["message"])

    def test_authorize_without_opinion_is_403(self):
        self.probe_only(authenticate="allow", authorize="none")
        code, _, body = self.curl("/clusters/demo/api/v1/nodes")
        self.assertEqual(code, 403)
        self.assertIn('cannot list resource "nodes" in API group "" at the '
                      'cluster scope', self.status(body)["message"])

    def test_admit_limit_is_429_with_retry_after(self):
        self.probe_only(authenticate="allow", authorize="allow", admit="deny",
                        deny_code="429", retry_after="3",
                        deny_message="slow down")
        code, headers, body = self.curl(PODS)
        self.assertEqual(code, 429)
        self.assertEqual(headers.get("retry-after"), "3")
        st = self.status(body)
        self.assertEqual((st["reason"], st["message"], st["code"]),
                         ("TooManyRequests", "slow down", 429))
        audit = self.wait_line("audit ")[0].split()
        self.assertIn("status=429", audit)
        self.assertIn("denied_by=probe", audit)

    def test_admit_deny_defaults_to_403(self):
        self.probe_only(authenticate="allow", authorize="allow", admit="deny")
        code, headers, body = self.curl(PODS)
        self.assertEqual(code, 403)
        self.assertNotIn("retry-after", headers)
        self.assertEqual(self.status(body)["message"],
                         "the request was refused by policy")

    def test_admin_token_first_then_the_probe(self):
        """The shipped authenticate plugin in a chain: first ALLOW wins,
        the probe's authorize then decides for the admin too."""
        self.start(lambda log: (
            '[policy]\nchain = admin_token, probe\n[plugin "admin_token"]\n' +
            probe_section(log, authenticate="none", authorize="deny")))
        code, _, body = self.curl(PODS, token=self.gw.token)
        self.assertEqual(code, 403)
        self.assertIn('User "fedgate:admin"', self.status(body)["message"])
        authz = self.wait_line("authorize ")[0].split()
        self.assertIn("user=fedgate:admin", authz)
        self.assertIn("authorization=yes", authz)
        # a wrong token is no opinion: the probe has none either
        code, _, _ = self.curl(PODS, token="0" * 64)
        self.assertEqual(code, 401)
        # two credentials: refused, whatever they hold
        code, _, body = self.curl(PODS, "-H",
                                  "Authorization: Bearer " + self.gw.token,
                                  token=self.gw.token)
        self.assertEqual(code, 401)
        self.assertEqual(self.status(body)["message"],
                         "more than one Authorization header")

    # ---- asynchronous verdicts --------------------------------------------

    def test_async_allow_holds_the_body_until_the_verdict(self):
        self.probe_only(authenticate="allow", authorize="allow",
                        async_phase="authorize", delay="300ms")
        for http, name in (("--http1.1", "async-h1"), ("--http2", "async-h2")):
            cm = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": name},
                  "data": {"big": "x" * 200000}}
            body_file = os.path.join(self.gw.tmp, name + ".json")
            with open(body_file, "w") as f:
                json.dump(cm, f)
            began = time.monotonic()
            code, _, body = self.curl(
                CONFIGMAPS, "-X", "POST", "-H",
                "Content-Type: application/json", "--data-binary",
                "@" + body_file, http=http)
            self.assertEqual(code, 201, body)
            self.assertGreaterEqual(time.monotonic() - began, 0.3)
            code, _, body = self.curl(CONFIGMAPS + "/" + name, http=http)
            self.assertEqual(code, 200, body)
            self.assertEqual(len(json.loads(body)["data"]["big"]), 200000)
        self.assertEqual(len(self.wait_line("done authorize allow")), 4)
        audits = [l.split() for l in self.wait_line("audit ")]
        self.assertIn("bytes=0", audits[-1])
        self.assertTrue(any(int(w[6:]) > 200000 for a in audits for w in a
                            if w.startswith("bytes=")), audits)

    def test_async_deny(self):
        self.probe_only(authenticate="deny", async_phase="authenticate",
                        delay="200ms", deny_message="later, no")
        code, _, body = self.curl(PODS)
        self.assertEqual(code, 401)
        self.assertEqual(self.status(body)["message"], "later, no")
        self.wait_line("done authenticate deny")

    def test_done_from_inside_the_op_is_the_verdict(self):
        self.probe_only(authenticate="allow", authorize="allow",
                        async_phase="authenticate", done_inside="true")
        code, _, body = self.curl(PODS)
        self.assertEqual(code, 200, body)
        self.wait_line("done-inside authenticate allow")
        self.assertFalse([l for l in self.lines() if l.startswith("pending")])

    def test_client_gone_cancels_and_no_late_verdict(self):
        self.probe_only(authenticate="allow", authorize="allow",
                        async_phase="authorize", delay="3s")
        for http in ("--http1.1", "--http2"):
            code, headers, _ = self.curl(PODS, http=http, timeout=1)
            self.assertEqual(code, 0)
            self.assertEqual(headers["exit"], 28)  # curl's timeout
        wait_for(lambda: len([l for l in self.lines()
                              if l.startswith("cancel authorize")]) == 2,
                 10, "two cancels in %s" % self.lines())
        self.assertEqual(
            [l.split()[1] for l in self.wait_line("audit ")],
            ["status=499", "status=499"])
        time.sleep(3.5)  # past the delay: the cancelled verdicts never come
        self.assertFalse([l for l in self.lines() if l.startswith("done")],
                         self.lines())
        code, _, _ = self.curl("/healthz")
        self.assertEqual(code, 200)

    def test_no_verdict_in_time_is_504(self):
        self.start(lambda log: "[policy]\nchain = probe\n" + probe_section(
            log, authenticate="allow", async_phase="authenticate",
            delay="30s"), extra_gateway="body_timeout = 1s\n")
        began = time.monotonic()
        code, _, body = self.curl(PODS)
        self.assertEqual(code, 504)
        self.assertLess(time.monotonic() - began, 10)
        self.assertEqual(self.status(body)["reason"], "Timeout")
        self.wait_line("cancel authenticate")
        self.assertIn("status=504", self.wait_line("audit ")[0].split())
        self.assertFalse([l for l in self.lines() if l.startswith("done")])

    def test_sighup_reloads_policy_instances(self):
        self.probe_only(authenticate="allow")
        # the signal handlers are set once it serves
        wait_for(lambda: "serving" in self.gw.logs(), 20, "fedgate to serve")
        self.gw.signal(signal.SIGHUP)
        self.wait_line("reload")

    # ---- configuration errors -----------------------------------------------

    def check(self, policy):
        gw = Gateway(plugin_dir=self.plugins, policy=policy)
        self.addCleanup(gw.cleanup)
        out = subprocess.run([FEDGATE, "-c", gw.conf, "--check"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1, out.stdout)
        start = subprocess.run([FEDGATE, "-c", gw.conf], capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(start.returncode, 1, start.stderr)
        return os.path.join(gw.conf, "10-gateway.ini"), out.stderr, start.stderr

    def test_config_errors_name_file_and_line(self):
        # 10-gateway.ini: [gateway] and its 4 keys, then POLICY at line 6
        ini, out, start = self.check(
            '[policy]\nchain = probe\n[plugin "probe"]\n'
            'plugin = policy_probe\ncolour = blue\n')
        self.assertIn(ini + ':10: unknown key "colour" in [plugin "probe"]',
                      out)
        self.assertIn(ini + ':8: [plugin "probe"]: missing required key '
                      '"log_file"', out)
        self.assertIn(ini + ":10:", start)
        ini, out, _ = self.check('[policy]\nchain = admin_token, ghost\n'
                                 '[plugin "admin_token"]\n')
        self.assertIn(ini + ':7: chain: no [plugin "ghost"] section', out)
        ini, out, _ = self.check('[policy]\nchain = m\n[plugin "m"]\n'
                                 'plugin = mock\n')
        self.assertIn(ini + ':9: [plugin "m"]: "mock" is a driver plugin, '
                      'not a policy plugin', out)
        ini, out, _ = self.check('[policy]\nchain = a\n[plugin "a"]\n'
                                 'plugin = audit_probe\nlog_file = /dev/null\n')
        self.assertIn(ini + ":7: chain: no plugin in it authenticates", out)
        _, out, _ = self.check("")
        self.assertIn("no [policy] section", out)


if __name__ == "__main__":
    unittest.main()
