"""The audit policy plugin on a real gateway: one audit.k8s.io/v1 Event per
request (ResponseComplete for every one, counted against the gateway's own
fedgate_requests_total; ResponseStarted as well for watch and exec), across
a kubectl tour; the file moved away and SIGHUP under load loses nothing and
writes nothing twice; a full disk (the log is a link to /dev/full) is
reported with counts, never slows a request, and once the path is writable
again SIGHUP writes what was held; an audit Policy file chooses levels and
stages, is re-read on SIGHUP, and its mistakes name file and line."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Gateway, load_seed, wait_for

PODS = "/clusters/demo/api/v1/namespaces/shop/pods"
POD = next(o["metadata"]["name"] for o in load_seed("demo.json")["objects"]
           if o["kind"] == "Pod" and o["metadata"].get("namespace") == "shop")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def audit_section(path, **keys):
    text = ('\n[policy]\nchain = admin_token, audit\n[plugin "admin_token"]\n'
            '[plugin "audit"]\npath = %s\n' % path)
    return text + "".join("%s = %s\n" % kv for kv in keys.items())


class AuditTest(unittest.TestCase):

    def start(self, prepare=None, **keys):
        """A gateway whose audit plugin has KEYS; PREPARE runs before it
        starts, once self.path is known."""
        self.tmp = tempfile.mkdtemp(prefix="fedgate-audit-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.path = os.path.join(self.tmp, "audit.log")
        if prepare:
            prepare()
        gw = Gateway(policy=audit_section(self.path, **keys))
        self.addCleanup(gw.cleanup)
        gw.start()

        def stop():
            self.assertEqual(gw.stop(), 0, gw.logs())
        self.addCleanup(stop)
        self.gw = gw
        return gw

    def events(self, *paths):
        out = []
        for p in paths or (self.path,):
            try:
                with open(p) as f:
                    out += [json.loads(line) for line in f]
            except FileNotFoundError:
                pass
        return out

    def complete(self, *paths):
        return [e for e in self.events(*paths)
                if e["stage"] == "ResponseComplete"]

    def curl(self, path, *args, timeout=20):
        out = subprocess.run(
            ["curl", "-sS", "--http1.1", "--max-time", str(timeout),
             "--cacert", self.gw.ca, "-H",
             "Authorization: Bearer " + self.gw.token, "-o", "/dev/null",
             "-w", "%{http_code}"] + list(args) + [self.gw.base + path],
            capture_output=True, text=True, timeout=timeout + 10)
        return int(out.stdout or 0)

    def kubectl(self, *args, check=True):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
             "demo", "--cache-dir", os.path.join(self.tmp, "cache")] +
            list(args), capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(out.returncode, 0, out.stderr)
        return out

    def requests_answered(self):
        """fedgate_requests_total over every member, verb and code; the
        /metrics request asking is not in it yet."""
        ctx = self.gw.tls_context()
        conn = http.client.HTTPSConnection("127.0.0.1", self.gw.port,
                                           context=ctx, timeout=10)
        conn.request("GET", "/metrics",
                     headers={"Authorization": "Bearer " + self.gw.token})
        body = conn.getresponse().read().decode()
        conn.close()
        return sum(int(line.rsplit(" ", 1)[1]) for line in body.splitlines()
                   if line.startswith("fedgate_requests_total{"))

    def wait_events(self, n, *paths, what="events"):
        wait_for(lambda: len(self.complete(*paths)) >= n, 15,
                 "%d %s (have %d)" % (n, what, len(self.complete(*paths))))
        time.sleep(0.2)
        return self.complete(*paths)

    # ---- one event per request -------------------------------------------

    def test_kubectl_tour_one_event_per_request(self):
        self.start()
        self.kubectl("get", "pods", "-n", "shop")
        self.kubectl("get", "pods", "-n", "shop", "-w", "--request-timeout=2s",
                     check=False)
        out = self.kubectl("exec", "-n", "shop", POD, "--", "echo", "hi")
        self.assertEqual(out.stdout, "hi\n")
        self.kubectl("create", "configmap", "audited", "-n", "shop",
                     "--from-literal=a=b")
        self.kubectl("delete", "configmap", "audited", "-n", "shop")
        self.assertEqual(self.curl("/clusters/demo/version"), 200)
        answered = self.requests_answered()
        events = self.wait_events(answered + 1)
        # every request once: the tour, then /metrics itself
        self.assertEqual(len(events), answered + 1)
        ids = [e["auditID"] for e in events]
        self.assertEqual(len(set(ids)), len(ids))
        for e in self.events():
            self.assertEqual((e["kind"], e["apiVersion"], e["level"]),
                             ("Event", "audit.k8s.io/v1", "Metadata"))
            self.assertEqual(e["user"]["username"], "fedgate:admin")
            self.assertIn("system:masters", e["user"]["groups"])
            self.assertEqual(e["sourceIPs"], ["127.0.0.1"])
            self.assertRegex(e["requestReceivedTimestamp"], TIME)
            self.assertRegex(e["stageTimestamp"], TIME)
            self.assertGreaterEqual(e["stageTimestamp"],
                                    e["requestReceivedTimestamp"])
            if e["requestURI"].startswith("/clusters/demo/"):
                self.assertEqual(e["annotations"]["fedgate.io/cluster"],
                                 "demo")
            else:
                self.assertNotIn("annotations", e)
        by_verb = {}
        for e in events:
            by_verb.setdefault(e["verb"], []).append(e)
        self.assertIn("list", by_verb)
        create = [e for e in by_verb["create"]
                  if e["objectRef"]["resource"] == "configmaps"][0]
        self.assertEqual(create["objectRef"]["namespace"], "shop")
        self.assertEqual(create["responseStatus"]["code"], 201)
        self.assertTrue(create["userAgent"].startswith("kubectl/"))
        delete = by_verb["delete"][0]
        self.assertEqual(delete["objectRef"]["name"], "audited")
        # watch and exec: ResponseStarted too, with the same receive time
        started = {e["auditID"]: e for e in self.events()
                   if e["stage"] == "ResponseStarted"}
        watch = [e for e in by_verb["watch"]][0]
        exec_ = [e for e in events
                 if e.get("objectRef", {}).get("subresource") == "exec"][0]
        for e in (watch, exec_):
            self.assertIn(e["auditID"], started)
            s = started[e["auditID"]]
            self.assertEqual(s["requestReceivedTimestamp"],
                             e["requestReceivedTimestamp"])
            self.assertLessEqual(s["stageTimestamp"], e["stageTimestamp"])
        self.assertEqual(started[exec_["auditID"]]["responseStatus"]["code"],
                         101)
        self.assertEqual(len(started), 2)
        self.assertEqual(exec_["objectRef"]["name"], POD)

    def test_refused_requests_are_audited(self):
        self.start()
        out = subprocess.run(
            ["curl", "-sS", "--cacert", self.gw.ca, "-o", "/dev/null", "-w",
             "%{http_code}", "-H", "X-Forwarded-For: 203.0.113.9",
             self.gw.base + PODS], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout, "401")
        e = self.wait_events(1)[0]
        self.assertEqual(e["responseStatus"]["code"], 401)
        self.assertEqual(e["user"], {"username": ""})
        self.assertEqual(e["sourceIPs"], ["203.0.113.9", "127.0.0.1"])
        self.assertEqual(e["verb"], "list")

    def test_impersonated_requests_name_both_users(self):
        self.start()
        self.kubectl("get", "pods", "-n", "shop", "--as", "jane",
                     "--as-group", "team-a")
        e = [e for e in self.wait_events(1)
             if e.get("objectRef", {}).get("resource") == "pods"][0]
        self.assertEqual(e["user"]["username"], "fedgate:admin")
        self.assertEqual(e["impersonatedUser"]["username"], "jane")
        self.assertIn("team-a", e["impersonatedUser"]["groups"])
        self.assertNotIn("system:masters", e["impersonatedUser"]["groups"])
        self.kubectl("get", "pods", "-n", "shop")
        plain = self.wait_events(2)[-1]
        self.assertNotIn("impersonatedUser", plain)

    # ---- SIGHUP -----------------------------------------------------------

    def load(self, stop, counts):
        """Requests on one keep-alive connection until STOP is set; counts
        each answer in COUNTS[0]."""
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.gw.port, context=self.gw.tls_context(),
            timeout=10)
        while not stop.is_set():
            conn.request("GET", PODS,
                         headers={"Authorization": "Bearer " + self.gw.token})
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            counts[0] += 1
        conn.close()

    def test_move_and_sighup_under_load_lose_nothing(self):
        self.start()
        stop, counts = threading.Event(), [0]
        t = threading.Thread(target=self.load, args=(stop, counts))
        t.start()
        try:
            moved = []
            for i in range(3):
                wait_for(lambda: counts[0] > 50 * (i + 1), 20, "requests")
                moved.append(self.path + ".moved%d" % i)
                os.rename(self.path, moved[-1])
                self.gw.signal(signal.SIGHUP)
                wait_for(lambda: os.path.exists(self.path), 10,
                         "the log reopened")
        finally:
            stop.set()
            t.join(30)
        files = moved + [self.path]
        events = self.wait_events(counts[0], *files)
        self.assertEqual(len(events), counts[0])
        self.assertEqual(len({e["auditID"] for e in events}), counts[0])
        for p in files:  # each file got some, every line whole
            self.assertTrue(self.complete(p), p)
        self.assertIn("reopening the audit log", self.gw.logs())

    # ---- a full disk --------------------------------------------------------

    def test_full_disk_is_counted_and_recovered(self):
        self.start(lambda: os.symlink("/dev/full", self.path), queue="8",
                   retry="100ms")
        n = 0

        def request():
            nonlocal n
            t0 = time.monotonic()
            self.assertEqual(self.curl(PODS), 200)
            self.assertLess(time.monotonic() - t0, 5)
            n += 1
        request()
        wait_for(lambda: request() or
                 "No space left on device" in self.gw.logs(), 20,
                 "the full disk in the log")
        self.assertRegex(self.gw.logs(),
                         r"audit\.log: cannot write: No space left on device; "
                         r"\d+ events held and retried every 100ms")
        for _ in range(12):  # past the queue of 8: dropped and counted
            request()
        self.assertRegex(self.gw.logs(),
                         r"the queue of 8 events is full: \d+ events dropped")
        os.unlink(self.path)  # the disk has room again
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: os.path.exists(self.path) and
                 len(self.complete()) == 8, 15, "the held events written")
        request()
        wait_for(lambda: "writing again" in self.gw.logs(), 10,
                 "the recovery in the log")
        # the counts add up: each request is in the file or dropped
        self.wait_events(9)
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: "reopening the audit log: 9 events" in
                 self.gw.logs(), 10, "the counts at SIGHUP")
        m = re.search(r"reopening the audit log: 9 events written, "
                      r"(\d+) dropped, (\d+) failed attempts", self.gw.logs())
        self.assertEqual(9 + int(m.group(1)), n)
        self.assertGreater(int(m.group(2)), 1)
        self.assertEqual(len(self.complete()), 9)

    # ---- the policy -------------------------------------------------------

    def test_policy_levels_stages_and_reload(self):
        policy = os.path.join(tempfile.mkdtemp(prefix="fedgate-audit-pol-"),
                              "policy.yaml")
        self.addCleanup(shutil.rmtree, os.path.dirname(policy))
        with open(policy, "w") as f:
            f.write("apiVersion: audit.k8s.io/v1\nkind: Policy\n"
                    "omitStages: [RequestReceived]\nrules:\n"
                    "- level: None\n  nonResourceURLs: [\"/version*\"]\n"
                    "- level: None\n  resources:\n"
                    "  - group: \"\"\n    resources: [configmaps]\n"
                    "- level: Metadata\n  verbs: [watch]\n"
                    "  omitStages: [ResponseStarted]\n"
                    "- level: Request\n")
        self.start(policy_file=policy)
        self.assertIn("recorded as Metadata", self.gw.logs())
        self.assertEqual(self.curl("/clusters/demo/version"), 200)
        self.assertEqual(
            self.curl("/clusters/demo/api/v1/namespaces/shop/configmaps"), 200)
        self.curl(PODS + "?watch=1&timeoutSeconds=1")
        self.assertEqual(self.curl(PODS), 200)
        events = self.wait_events(2)
        self.assertEqual([(e["verb"], e["level"]) for e in events],
                         [("watch", "Metadata"), ("list", "Metadata")])
        self.assertEqual(len(self.events()), 2)  # no ResponseStarted
        # a mistake on SIGHUP keeps the policy read before
        with open(policy, "w") as f:
            f.write("rules:\n- level: Metadata\n  verb: [get]\n")
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: "policy.yaml:3: unknown field \"verb\" in a rule; "
                 "the policy read before stays" in self.gw.logs(), 10,
                 "the mistake in the log")
        self.curl("/clusters/demo/version")
        # a new policy on SIGHUP: everything at Metadata
        with open(policy, "w") as f:
            f.write('{"rules": [{"level": "Metadata"}]}')
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: self.gw.logs().count("reopening the audit log") == 2,
                 10, "the reload")
        time.sleep(0.3)
        self.assertEqual(self.curl("/clusters/demo/version"), 200)
        events = self.wait_events(3)
        self.assertEqual(events[-1]["requestURI"], "/clusters/demo/version")

    def test_policy_mistakes_stop_the_start(self):
        tmp = tempfile.mkdtemp(prefix="fedgate-audit-check-")
        self.addCleanup(shutil.rmtree, tmp)
        policy = os.path.join(tmp, "policy.yaml")
        with open(policy, "w") as f:
            f.write("kind: Policy\nrules:\n- level: Everything\n")
        gw = Gateway(policy=audit_section(os.path.join(tmp, "a.log"),
                                          policy_file=policy))
        self.addCleanup(gw.cleanup)
        self.addCleanup(gw.stop)
        with self.assertRaises(AssertionError) as cm:
            gw.start()
        self.assertIn('policy.yaml:3: level "Everything" is not one of',
                      str(cm.exception))

if __name__ == "__main__":
    unittest.main()
