"""The ratelimit policy plugin on a real gateway: a user's burst and rate
(429 TooManyRequests Status with Retry-After, at the configured rate over
seconds, refusals costing nothing), a member's rate across users,
the in-flight cap for long-running requests with a held watch (ordinary
requests still pass, the slot comes back when the watch ends), what kubectl
shows, and defaults that an ordinary kubectl session never meets."""
import http.client
import json
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import Gateway, wait_for

PODS = "/clusters/demo/api/v1/namespaces/shop/pods"


def chain(**keys):
    """The admin token authenticates; the [plugin "rl"] ratelimit section
    has KEYS, and exempts nobody unless KEYS say (the admin is in
    system:masters, exempt by default)."""
    keys.setdefault("exempt_groups", "none")
    text = ('\n[policy]\nchain = admin_token, rl\n[plugin "admin_token"]\n'
            '[plugin "rl"]\nplugin = ratelimit\n')
    return text + "".join("%s = %s\n" % kv for kv in keys.items())


class RateLimitTest(unittest.TestCase):

    def start(self, **keys):
        gw = Gateway(policy=chain(**keys))
        self.addCleanup(gw.cleanup)
        gw.start()

        def stop():
            self.assertEqual(gw.stop(), 0, gw.logs())
        self.addCleanup(stop)
        self.gw = gw
        return gw

    def conn(self):
        return http.client.HTTPSConnection(
            "127.0.0.1", self.gw.port, context=self.gw.tls_context(),
            timeout=20)

    def get(self, conn, path=PODS):
        conn.request("GET", path,
                     headers={"Authorization": "Bearer " + self.gw.token})
        r = conn.getresponse()
        return r.status, r.getheader("Retry-After"), r.read()

    def kubectl(self, *args, timeout=60):
        tmp = tempfile.mkdtemp(prefix="fedgate-rl-cache-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        return subprocess.run(
            ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
             "demo", "--cache-dir", tmp] + list(args),
            capture_output=True, text=True, timeout=timeout)

    def test_system_masters_is_exempt_by_default(self):
        self.start(user_qps="1", user_burst="1", max_in_flight="1",
                   exempt_groups="system:masters")
        c = self.conn()
        self.assertEqual([self.get(c)[0] for _ in range(20)], [200] * 20)

    def test_burst_then_rate_with_retry_after(self):
        self.start(user_qps="5", user_burst="10", max_in_flight="0")
        c = self.conn()
        codes = [self.get(c) for _ in range(15)]
        self.assertEqual([s for s, _, _ in codes], [200] * 10 + [429] * 5)
        status, retry, body = codes[-1]
        self.assertEqual(retry, "1")
        st = json.loads(body)
        self.assertEqual((st["kind"], st["reason"], st["code"]),
                         ("Status", "TooManyRequests", 429))
        self.assertEqual(st["message"],
                         'too many requests from user "fedgate:admin": at '
                         'most 5 per second (burst 10)')
        # the rate: as fast as possible for 3 s, about 5 a second pass
        ok, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 3.0:
            if self.get(c)[0] == 200:
                ok += 1
        self.assertGreaterEqual(ok, 13)
        self.assertLessEqual(ok, 17)
        # what is refused costs nothing: after a pause the burst is back
        time.sleep(2.1)
        self.assertEqual([self.get(c)[0] for _ in range(10)], [200] * 10)
        c.close()

    def test_member_rate_is_per_member(self):
        self.start(user_qps="0", member_qps="1", member_burst="3")
        c = self.conn()
        self.assertEqual([self.get(c)[0] for _ in range(4)],
                         [200, 200, 200, 429])
        status, retry, body = self.get(c)
        self.assertEqual((status, retry), (429, "1"))
        self.assertIn('too many requests to the cluster "demo"',
                      json.loads(body)["message"])
        # another member, and the gateway's own paths, have their own
        self.assertEqual(
            self.get(c, "/clusters/host/api/v1/namespaces")[0], 200)
        self.assertEqual(self.get(c, "/version")[0], 200)
        c.close()

    def test_held_watch_against_the_long_running_cap(self):
        self.start(max_long_running="1", max_in_flight="2")
        watch = self.conn()
        watch.request("GET", PODS + "?watch=1",
                      headers={"Authorization": "Bearer " + self.gw.token})
        r = watch.getresponse()
        self.assertEqual(r.status, 200)
        c = self.conn()
        status, retry, body = self.get(c, PODS + "?watch=1")
        self.assertEqual((status, retry), (429, "1"))
        self.assertIn("1 long-running requests", json.loads(body)["message"])
        # ordinary requests are counted apart
        self.assertEqual([self.get(c)[0] for _ in range(5)], [200] * 5)
        # kubectl shows the Status once client-go's retries are spent
        out = self.kubectl("get", "pods", "-n", "shop", "-w")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("Error from server (TooManyRequests): user "
                      "\"fedgate:admin\" has 1 long-running requests",
                      out.stderr)
        # the held watch ends: its slot is given back
        watch.close()
        wait_for(lambda: self.get(c, PODS + "?watch=1&timeoutSeconds=1")[0]
                 == 200, 10, "the slot of the closed watch")
        c.close()

    def test_kubectl_retries_a_short_limit(self):
        """client-go waits out Retry-After: a burst of one, too small for
        kubectl's discovery (two requests with aggregated discovery), slows
        it, and every command still succeeds."""
        self.start(user_qps="20", user_burst="1")
        t0 = time.monotonic()
        out = self.kubectl("get", "pods", "-n", "shop", "-v=6")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("429 Too Many Requests", out.stderr)
        self.assertLess(time.monotonic() - t0, 30)

    def test_defaults_never_meet_an_ordinary_session(self):
        self.start()
        for args in (["get", "pods", "-A"], ["get", "all", "-n", "shop"],
                     ["api-resources"], ["get", "deploy,svc,cm", "-A"]):
            out = self.kubectl(*args, "-v=6")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertNotIn(" 429 ", out.stderr)


if __name__ == "__main__":
    unittest.main()
