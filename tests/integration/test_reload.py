"""Live reconfiguration (SIGHUP) on a real gateway under load: h2load over
HTTP/2 and a separate HTTP/1.1 client keep asking while the configuration
changes every 250 ms for 20 s, in turn adding a member, removing it,
changing the token file (authn_token) and changing the rbac rules. No
request may fail except those the configuration of the moment refuses on
purpose (404 for the member not there, 401 for the token not there, 403
for the rule not there); a watch on an unchanged member stays open on the
same connection across every reload; a removed member's watch ends
cleanly; an invalid configuration is refused, logged and counted while the
old one serves; and at the end only one generation is left."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

import test_rbac  # its chain and rules; a module, so its tests stay there
from harness import FEDGATE, Gateway, free_port, mock_member, wait_for

ADMIN_PODS = "/clusters/demo/api/v1/namespaces/default/pods"
EXTRA_PODS = "/clusters/extra/api/v1/namespaces/default/pods"
EXTRA_CONFIGMAPS = "/clusters/extra/api/v1/namespaces/default/configmaps"
HOST_PODS = "/clusters/host/api/v1/namespaces/kube-system/pods"
VIC = "vic-token-0123456789abcdef"    # demo-viewers: not on host ...
LATE = "late-token-0123456789abcdef"  # in the token file half of the time
TOKENS = '%s,vic,1001,"demo-viewers,everyone"\n' % VIC
LATE_LINE = "%s,late,2000,demo-viewers\n" % LATE
# ... unless this rule is there
VIC_ON_HOST = ("apiVersion: rbac.authorization.k8s.io/v1\n"
               "kind: ClusterRoleBinding\n"
               "metadata:\n  name: vic-on-host\n"
               "  annotations: {fedgate.io/clusters: host}\n"
               "roleRef: {kind: ClusterRole, name: cluster-viewer}\n"
               "subjects: [{kind: User, name: vic}]\n")
RELOADS_FOR = 20.0
RELOAD_EVERY = 0.25
REMOVED = "removed from the gateway's configuration"
FEDGATECTL = os.path.join(os.path.dirname(FEDGATE), "fedgatectl")


def metric(text, name):
    m = re.search(r"^%s (\d+)$" % name, text, re.M)
    return int(m.group(1)) if m else None


class Http1Client(threading.Thread):
    """Keeps asking over one keep-alive HTTP/1.1 connection (a new one only
    when the gateway closed it cleanly) until stopped. Each request's
    allowed answers are given; anything else is recorded as a failure."""

    def __init__(self, gw, admin_token):
        super().__init__(daemon=True)
        self.gw = gw
        self.stop_event = threading.Event()
        self.asks = [
            (ADMIN_PODS, admin_token, {200}),
            (EXTRA_PODS, admin_token, {200, 404}),
            ("/clusters/demo/api/v1/namespaces/shop/pods", LATE, {200, 401}),
            (HOST_PODS, VIC, {200, 403}),
        ]
        self.seen = {}
        self.failures = []
        self.count = 0

    def connect(self):
        return http.client.HTTPSConnection(
            "127.0.0.1", self.gw.port, timeout=20,
            context=self.gw.tls_context())

    def run(self):
        conn = self.connect()
        i = 0
        while not self.stop_event.is_set():
            path, token, allowed = self.asks[i % len(self.asks)]
            i += 1
            try:
                conn.request("GET", path,
                             headers={"Authorization": "Bearer " + token})
                resp = conn.getresponse()
                body = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError) as e:
                self.failures.append((path, "connection: %r" % e))
                conn.close()
                conn = self.connect()
                continue
            except Exception as e:  # noqa: BLE001 - any other is a failure
                self.failures.append((path, repr(e)))
                break
            self.count += 1
            self.seen.setdefault(path, set()).add(resp.status)
            on_purpose = resp.status == 503 and path == EXTRA_PODS and \
                REMOVED.encode() in body
            if resp.status not in allowed and not on_purpose:
                self.failures.append((path, resp.status, body[:300]))
            if resp.getheader("connection", "").lower() == "close":
                conn.close()
                conn = self.connect()
        conn.close()


class Watch:
    """A watch held open over its own HTTP/1.1 connection; lines are read
    on a thread. Ended says whether the gateway ended the chunked body
    cleanly (the terminating chunk), as opposed to a reset."""

    def __init__(self, gw, token, path):
        self.conn = http.client.HTTPSConnection(
            "127.0.0.1", gw.port, timeout=60, context=gw.tls_context())
        self.conn.request("GET", path + "?watch=1",
                          headers={"Authorization": "Bearer " + token})
        self.resp = self.conn.getresponse()
        self.sock = self.conn.sock
        self.lines = []
        self.ended = None  # True: clean end; an exception text: broken
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                self.lines.append(json.loads(line))
            self.ended = True
        except Exception as e:  # noqa: BLE001
            self.ended = repr(e)

    def close(self):
        # the reader holds the response's lock: unblock it first
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(10)
        self.conn.close()


class ReloadTest(unittest.TestCase):

    workers = 1
    reloads_for = RELOADS_FOR

    def setUp(self):
        files = dict(test_rbac.shipped_rules(), **{"tokens.csv": TOKENS})
        self.gw = Gateway(
            members=[mock_member("host", "host.json"),
                     mock_member("demo", "demo.json")],
            policy=test_rbac.POLICY, extra_files=files,
            extra_gateway="reload_drain = 5s\n" +
            ("workers = %d\n" % self.workers if self.workers > 1 else ""))
        self.addCleanup(self.gw.cleanup)
        self.gw.start()
        self.token = self.gw.token

        def stop():
            code = self.gw.stop()
            self.assertEqual(code, 0, self.gw.logs())
        self.addCleanup(stop)

    def curl(self, path, token=None):
        cmd = ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca,
               "-o", "-", "-w", "\n%{http_code}", "-H",
               "Authorization: Bearer " + (token or self.token)]
        out = subprocess.run(cmd + [self.gw.base + path], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), body

    def metrics(self):
        code, body = self.curl("/metrics")
        self.assertEqual(code, 200, body)
        return body

    def hup_and_wait(self, reloads):
        """SIGHUP, then waits until the gateway counted it (taken or
        refused)."""
        before = self.reload_count()
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: self.reload_count() > before, 20, reloads)

    def reload_count(self):
        m = self.metrics()
        return metric(m, "fedgate_reloads_total") + \
            metric(m, "fedgate_reload_failures_total")

    def write(self, name, text):
        self.gw.write(name, text)
        if name == "tokens.csv":
            os.chmod(os.path.join(self.gw.conf, name), 0o600)

    def remove(self, name):
        try:
            os.unlink(os.path.join(self.gw.conf, name))
        except FileNotFoundError:
            pass

    # ------------------------------------------------------------------

    def test_reloads_under_load(self):
        watch = Watch(self.gw, self.token,
                      "/clusters/demo/api/v1/namespaces/default/configmaps")
        self.addCleanup(watch.close)
        wait_for(lambda: watch.lines, 10, "the watch's first events")
        h1 = Http1Client(self.gw, self.token)
        h2 = subprocess.Popen(
            ["h2load", "-D", str(int(self.reloads_for) + 2), "-c", "4", "-m",
             "8",
             "-H", "Authorization: Bearer " + self.token,
             self.gw.base + ADMIN_PODS],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        h1.start()
        try:
            steps = self.reload_every_250ms()
        finally:
            h1.stop_event.set()
            h1.join(30)
            try:
                out, _ = h2.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                h2.kill()
                h2.wait(10)
                raise
        self.assertGreaterEqual(steps, self.reloads_for / RELOAD_EVERY * 0.75)
        # HTTP/2: every request answered 200
        m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, "
                      r"(\d+) succeeded, (\d+) failed, (\d+) errored, "
                      r"(\d+) timeout", out)
        self.assertIsNotNone(m, out)
        done, succeeded = int(m.group(2)), int(m.group(3))
        self.assertGreater(done, 50 * self.reloads_for, out)
        self.assertEqual(done, succeeded, out)
        self.assertEqual(m.group(4, 5, 6), ("0", "0", "0"), out)
        self.assertRegex(out, r"status codes: \d+ 2xx, 0 3xx, 0 4xx, 0 5xx")
        # HTTP/1.1: only answers a configuration gave on purpose, and each
        # configuration was seen
        self.assertEqual(h1.failures, [], "after %d requests" % h1.count)
        self.assertEqual(h1.seen[EXTRA_PODS] & {200, 404}, {200, 404})
        self.assertEqual(h1.seen[HOST_PODS], {200, 403})
        # the watch on demo (unchanged) is still open on its connection
        self.assertIsNone(watch.ended, watch.lines[-3:])
        before = len(watch.lines)
        code, body = self.post_configmap("demo", "after-reloads")
        self.assertEqual(code, 201, body)
        wait_for(lambda: any(l["object"]["metadata"]["name"] ==
                             "after-reloads" for l in watch.lines[before:]),
                 10, "the new configmap on the watch opened before")
        self.assertIsNone(watch.ended)
        # nothing leaked: the requests on replaced generations are gone
        wait_for(lambda: metric(self.metrics(),
                                "fedgate_config_generations_live") == 1,
                 20, "one generation left")
        self.assertGreaterEqual(metric(self.metrics(), "fedgate_reloads_total"),
                                steps)

    def reload_every_250ms(self):
        """Alternates the four changes, SIGHUP after each; returns how many
        reloads were sent."""
        start = time.monotonic()
        deadline = start + self.reloads_for
        step = 0
        while time.monotonic() < deadline:
            kind = step % 4
            if kind == 0:
                self.write("21-extra.ini", mock_member("extra", "demo.json"))
            elif kind == 1:
                self.remove("21-extra.ini")
            elif kind == 2:
                self.write("tokens.csv",
                           TOKENS + (LATE_LINE if step % 8 == 2 else ""))
            else:
                if step % 8 == 3:
                    self.write("rbac/50-vic.yaml", VIC_ON_HOST)
                else:
                    self.remove("rbac/50-vic.yaml")
            self.gw.signal(signal.SIGHUP)
            step += 1
            # on a schedule, so a slow step (a loaded machine) does not
            # lower the rate
            time.sleep(max(0.0, start + step * RELOAD_EVERY -
                           time.monotonic()))
        return step

    def test_member_added_changed_and_removed(self):
        self.assertEqual(self.curl(EXTRA_PODS)[0], 404)
        self.write("21-extra.ini", mock_member("extra", "demo.json"))
        self.hup_and_wait("the member added")
        self.assertEqual(self.curl(EXTRA_PODS)[0], 200)
        with open(self.gw.kubeconfig) as f:
            contexts = [c["name"] for c in json.load(f)["contexts"]]
        self.assertIn("extra", contexts)
        # a changed member: a new instance (the mock's store starts again
        # from its seed); unchanged demo keeps its store
        for cluster in ("extra", "demo"):
            code, body = self.post_configmap(cluster, "kept")
            self.assertEqual(code, 201, body)
        watch = Watch(self.gw, self.token, EXTRA_CONFIGMAPS)
        self.addCleanup(watch.close)
        wait_for(lambda: watch.lines, 10, "the watch on extra")
        self.write("21-extra.ini", mock_member("extra", "host.json"))
        self.hup_and_wait("the member changed")
        self.assertEqual(self.curl(
            "/clusters/extra/api/v1/namespaces/default/configmaps/kept")[0],
            404)
        self.assertEqual(self.curl(
            "/clusters/demo/api/v1/namespaces/default/configmaps/kept")[0],
            200)
        # the old stream drains on the old instance until reload_drain
        self.assertIsNone(watch.ended)
        self.assertEqual(metric(self.metrics(),
                                "fedgate_config_generations_live"), 2)
        wait_for(lambda: watch.ended is not None, 20, "reload_drain")
        self.assertIs(watch.ended, True)
        wait_for(lambda: metric(self.metrics(),
                                "fedgate_config_generations_live") == 1,
                 10, "the old generation freed")
        # removed: its watch ends cleanly, new requests get 404
        watch = Watch(self.gw, self.token, EXTRA_CONFIGMAPS)
        self.addCleanup(watch.close)
        wait_for(lambda: watch.lines, 10, "the watch on extra")
        self.remove("21-extra.ini")
        self.hup_and_wait("the member removed")
        wait_for(lambda: watch.ended is not None, 10, "the watch's end")
        self.assertIs(watch.ended, True)
        code, body = self.curl(EXTRA_PODS)
        self.assertEqual(code, 404, body)
        self.assertEqual(json.loads(body)["reason"], "NotFound")
        with open(self.gw.kubeconfig) as f:
            contexts = [c["name"] for c in json.load(f)["contexts"]]
        self.assertNotIn("extra", contexts)
        wait_for(lambda: metric(self.metrics(),
                                "fedgate_config_generations_live") == 1,
                 10, "one generation left")

    def plugins_mapped(self):
        """The plugins the gateway has mapped: from plugin_dir, or the
        private copies a reload loads from (memfd:NAME.so)."""
        names = set()
        with open("/proc/%d/maps" % self.gw.proc.pid) as f:
            for line in f:
                path = line.split(None, 5)[5].strip() if \
                    len(line.split(None, 5)) == 6 else ""
                path = path.replace(" (deleted)", "")
                if path.endswith(".so") and ("/plugins/" in path or
                                             "memfd:" in path):
                    names.add(os.path.basename(path)[:-3].replace(
                        "memfd:", ""))
        return names

    def test_only_the_plugins_named_are_loaded(self):
        named = {"admin_token", "authn_token", "rbac", "mock"}
        self.assertEqual(self.plugins_mapped(), named)
        token = os.path.join(self.gw.conf, "member.token")
        self.write("member.token", "x\n")
        self.write("22-direct.ini",
                   '[member "far"]\ndriver = direct\n'
                   "server = https://127.0.0.1:%d\nca_file = %s\n"
                   "token_file = %s\n" % (free_port(), self.gw.ca, token))
        self.hup_and_wait("a direct member added")
        self.assertEqual(self.plugins_mapped(), named | {"direct"})
        self.assertRegex(self.gw.logs(), r"plugin direct \S+: loaded from ")
        self.remove("22-direct.ini")
        self.hup_and_wait("the direct member removed")
        wait_for(lambda: self.plugins_mapped() == named, 20,
                 "direct.so unloaded with the generation that used it")
        self.assertEqual(self.curl(ADMIN_PODS)[0], 200)

    def post_configmap(self, cluster, name):
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": name}})
        cmd = ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca,
               "-o", "-", "-w", "\n%{http_code}", "-H",
               "Authorization: Bearer " + self.token, "-H",
               "Content-Type: application/json", "--data-binary", body,
               self.gw.base +
               "/clusters/%s/api/v1/namespaces/default/configmaps" % cluster]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        text, _, code = out.stdout.rpartition("\n")
        return int(code), text

    def test_fedgatectl_reload(self):
        pid_file = os.path.join(self.gw.state, "fedgate.pid")
        with open(pid_file) as f:
            self.assertEqual(int(f.read()), self.gw.proc.pid)
        self.write("21-extra.ini", mock_member("extra", "demo.json"))
        out = subprocess.run([FEDGATECTL, "reload", "-c", self.gw.conf],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("pid %d" % self.gw.proc.pid, out.stdout)
        wait_for(lambda: self.curl(EXTRA_PODS)[0] == 200, 20,
                 "the member added by fedgatectl reload")
        self.remove("21-extra.ini")
        out = subprocess.run([FEDGATECTL, "reload", "--pid",
                              str(self.gw.proc.pid)],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        wait_for(lambda: self.curl(EXTRA_PODS)[0] == 404, 20,
                 "the member removed by fedgatectl reload --pid")
        # a pid that is not a fedgate's, and pids that are not pids
        for pid, code in ((str(os.getpid()), 1), ("0", 2), ("12x", 2),
                          ("-5", 2), ("", 2)):
            out = subprocess.run([FEDGATECTL, "reload", "--pid", pid],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, code, (pid, out.stderr))
        self.assertEqual(self.gw.stop(), 0, self.gw.logs())
        self.assertFalse(os.path.exists(pid_file))

    def test_invalid_configuration_is_refused(self):
        # the grammar of refusals: a bad value, an unknown key, a driver
        # that is not there, a key only a restart can change; each keeps
        # the running configuration, is logged and counted
        bad = [
            ("22-bad.ini", '[member "bad"]\ndriver = mock\nseed = /nonexistent\n',
             "22-bad.ini:3: "),
            ("22-bad.ini", '[member "bad"]\ndriver = mock\ncolour = red\n',
             "22-bad.ini:3: "),
            ("22-bad.ini", '[member "bad"]\ndriver = nope\n', "22-bad.ini:2: "),
            ("22-bad.ini", '[member "Bad_Name"]\ndriver = mock\n',
             "22-bad.ini:1: "),
            ("10-gateway.ini", "[gateway]\nworkers = 2\n", "10-gateway.ini:2: "),
        ]
        with open(os.path.join(self.gw.conf, "10-gateway.ini")) as f:
            gateway = f.read()
        for i, (name, text, where) in enumerate(bad):
            if name == "10-gateway.ini":  # a key only a restart changes
                text = gateway.replace("[gateway]\n", text, 1)
            self.write(name, text)
            self.hup_and_wait("the refusal of %r" % text)
            self.assertIn(where, self.gw.logs())
            self.assertEqual(metric(self.metrics(),
                                    "fedgate_reload_failures_total"), i + 1)
            code, body = self.curl("/readyz?verbose")
            self.assertEqual(code, 200, body)
            self.assertIn("the last reload was refused: ", body)
            self.assertIn(where, body)
            self.assertEqual(self.curl(ADMIN_PODS)[0], 200)
            # what --check says of the same directory
            out = subprocess.run([self.gw.proc.args[0], "-c", self.gw.conf,
                                  "--check"], capture_output=True, text=True,
                                 timeout=30)
            if "workers" not in text:
                self.assertEqual(out.returncode, 1)
                self.assertIn(where, out.stderr)
            self.remove("22-bad.ini")
            self.write("10-gateway.ini", gateway)
        self.hup_and_wait("a valid configuration again")
        code, body = self.curl("/readyz?verbose")
        self.assertNotIn("refused", body)
        self.assertEqual(metric(self.metrics(), "fedgate_reloads_total"), 1)


class ReloadTwoWorkersTest(ReloadTest):
    """The same load with two workers: each builds its own view on its own
    loop, and the mock members (one instance, on the first worker) are
    reached from the second through proxies that follow their owner."""

    workers = 2
    reloads_for = 8.0
    test_member_added_changed_and_removed = None
    test_fedgatectl_reload = None
    test_invalid_configuration_is_refused = None


if __name__ == "__main__":
    unittest.main()
