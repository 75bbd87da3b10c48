"""Live reconfiguration (SIGHUP) with an agent member: edge's tunnel stays
up on the same connection while reloads add and remove another member and
rewrite another agent member's token file, and requests and a watch through
the tunnel keep working during and after."""
import json
import os
import re
import secrets
import signal
import subprocess
import time

import test_reload  # its HTTP/1.1 client, watch and metric reader
from agent_harness import AgentCase, agent_member
from harness import mock_member, wait_for

EDGE_PODS = "/clusters/edge/api/v1/namespaces/default/pods"
EDGE_CONFIGMAPS = "/clusters/edge/api/v1/namespaces/default/configmaps"
EXTRA_PODS = "/clusters/extra/api/v1/namespaces/default/pods"
RELOADS_FOR = 6.0


class ReloadAgentTest(AgentCase):

    def write_other_token(self):
        """The token file of "other", an agent member no agent joins."""
        with open(self.other_token, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        os.chmod(self.other_token, 0o600)

    def metrics(self):
        code, text = self.curl("/metrics")
        self.assertEqual(code, 200, text)
        return text

    def reload_count(self):
        m = self.metrics()
        return test_reload.metric(m, "fedgate_reloads_total") + \
            test_reload.metric(m, "fedgate_reload_failures_total")

    def hup_and_wait(self, what):
        before = self.reload_count()
        self.host.signal(signal.SIGHUP)
        wait_for(lambda: self.reload_count() > before, 20, what)

    def edge_gauge(self, name):
        m = re.search(r'^%s\{member="edge"\} (\d+)$' % name, self.metrics(),
                      re.M)
        return int(m.group(1)) if m else None

    def joins(self):
        return self.host.logs().count('member "edge": tunnel from')

    def assert_one_tunnel(self, joins):
        """Still the one connection: no new join on the host, none lost,
        and the agent did not dial again."""
        self.assertEqual(self.joins(), joins, self.host.logs()[-3000:])
        self.assertEqual(self.edge_gauge("fedgate_member_tunnels"), 1)
        self.assertEqual(self.agent.logs().count("joined host"), 1,
                         self.agent.logs()[-3000:])

    def start_load(self):
        """An HTTP/1.1 client asking edge (always 200) and extra (200 or
        404, as the configuration of the moment has it)."""
        client = test_reload.Http1Client(self.host, self.host.token)
        client.asks = [(EDGE_PODS, self.host.token, {200}),
                       (EXTRA_PODS, self.host.token, {200, 404})]
        client.start()
        return client

    def stop_load(self, client):
        client.stop_event.set()
        client.join(30)
        self.assertFalse(client.is_alive())
        self.assertEqual(client.failures, [],
                         "after %d requests" % client.count)
        self.assertEqual(client.seen[EDGE_PODS], {200})
        return client

    # ------------------------------------------------------------------

    def test_other_changes_keep_the_tunnel(self):
        joins = self.joins()
        self.other_token = os.path.join(self.dir, "other.token")
        self.write_other_token()
        self.host.write("28-other.ini",
                        agent_member("other", self.other_token))
        self.hup_and_wait("other added")
        watch = test_reload.Watch(self.host, self.host.token, EDGE_CONFIGMAPS)
        self.addCleanup(watch.close)
        wait_for(lambda: watch.lines, 10, "the watch's first events")
        client = self.start_load()
        deadline = time.monotonic() + RELOADS_FOR
        step = 0
        try:
            while time.monotonic() < deadline:
                kind = step % 3
                if kind == 0:
                    self.host.write("29-extra.ini",
                                    mock_member("extra", "demo.json"))
                elif kind == 1:
                    os.unlink(os.path.join(self.host.conf, "29-extra.ini"))
                else:
                    self.write_other_token()
                self.hup_and_wait("reload %d" % step)
                step += 1
                time.sleep(0.1)
        finally:
            self.stop_load(client)
        self.assertGreaterEqual(step, 6)
        self.assertEqual(client.seen[EXTRA_PODS], {200, 404})
        self.assertIn('member "other": changed', self.host.logs())
        self.assertNotIn('member "edge": changed', self.host.logs())
        self.assert_one_tunnel(joins)
        # after: the watch opened before still gets events through the
        # tunnel, and requests still go through
        self.assertIsNone(watch.ended, watch.lines[-3:])
        before = len(watch.lines)
        self.post_configmap("after-reloads")
        wait_for(lambda: any(l["object"]["metadata"]["name"] ==
                             "after-reloads" for l in watch.lines[before:]),
                 10, "the new configmap on the watch opened before")
        self.assertIsNone(watch.ended)
        wait_for(lambda: test_reload.metric(
            self.metrics(), "fedgate_config_generations_live") == 1, 20,
            "one generation left")

    def post_configmap(self, name):
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": name}})
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", self.host.ca,
             "-H", "Authorization: Bearer " + self.host.token,
             "-H", "Content-Type: application/json", "--data-binary", body,
             "-o", "/dev/null", "-w", "%{http_code}",
             self.host.base + EDGE_CONFIGMAPS],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout, "201", out.stderr)


class ChangedAgentMemberTest(AgentCase):
    """Edge's own section changes: a new instance each time, which carries
    over the tunnel (the agent's one connection stays up, no rejoin) and
    serves at once; a watch opened on the first instance goes on through
    the same tunnel and sees events; and the instance that opened the
    tunnel listener (the first) going away leaves the gateway serving (the
    core keeps every host handle it lent until the worker stops)."""

    def test_changed_section_keeps_the_tunnel(self):
        joins = self.host.logs().count('member "edge": tunnel from')
        watch = test_reload.Watch(self.host, self.host.token, EDGE_CONFIGMAPS)
        self.addCleanup(watch.close)
        wait_for(lambda: watch.lines, 10, "the watch's first events")
        for n in (2, 3, 4):
            self.host.write("20-member.ini",
                            agent_member("edge", self.token_file) +
                            "expected_tunnels = %d\n" % n)
            self.host.signal(signal.SIGHUP)
            wait_for(lambda: self.host.logs().count(
                'member "edge": 1 live tunnel(s) carried over') >= n - 1, 30,
                "reload %d to carry the tunnel over" % n)
            self.assertEqual(self.curl(EDGE_PODS)[0], 200)
        self.assertEqual(self.host.logs().count('member "edge": changed'), 3)
        self.assertEqual(
            self.host.logs().count('member "edge": tunnel from'), joins,
            self.host.logs()[-3000:])
        self.assertEqual(self.agent.logs().count("joined host"), 1,
                         self.agent.logs()[-3000:])
        before = len(watch.lines)
        ReloadAgentTest.post_configmap(self, "after-changes")
        wait_for(lambda: any(l["object"]["metadata"]["name"] ==
                             "after-changes" for l in watch.lines[before:]),
                 10, "the new configmap on the watch opened before")
        self.assertIsNone(watch.ended)
        watch.close()
        wait_for(lambda: test_reload.metric(
            ReloadAgentTest.metrics(self),
            "fedgate_config_generations_live") == 1, 20, "one generation left")
        self.assertEqual(self.curl(EDGE_PODS)[0], 200)
        self.assertIsNone(self.host.proc.poll())


if __name__ == "__main__":
    import unittest
    unittest.main()
