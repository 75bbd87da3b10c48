"""Agent tunnels heal by themselves: with ping_interval = 1s on both
sides, a stalled agent (SIGSTOP: its socket stays open, nothing answers)
ends an open watch within the keepalive bound and new requests get 503 +
Retry-After; resumed or restarted, it joins again with no restart of the
host; a restarted host has every agent back within the backoff cap; agents
dialling at once beyond handshake_rate are shed and still all join. Every
process is stopped by its pid; every wait has a deadline."""
import json
import signal
import subprocess
import time
import unittest

from agent_harness import AgentCase
from harness import wait_for

PING_S = 1
# PINGs go out on a timer, so the deadline of 3 silent intervals runs from
# up to one interval after the stall; a second of slack for a loaded host.
DEAD_WITHIN_S = 4 * PING_S + 1
# The agents' backoff cap, plus a handshake.
BACK_WITHIN_S = 30 + 10


class AgentKeepaliveTest(AgentCase):
    TUNNEL = "ping_interval = %ds\nhandshake_rate = 2\n" % PING_S
    AGENT_ARGS = ("--ping-interval", str(PING_S))

    def wait_serving(self, timeout=30):
        wait_for(lambda: self.curl("/clusters/edge/version")[0] == 200,
                 timeout, "the member to be served through an agent")

    def watch(self):
        """A watch through the host, once its first event arrived."""
        proc = subprocess.Popen(
            ["curl", "-sS", "-N", "--http1.1", "--cacert", self.host.ca,
             "-H", "Authorization: Bearer " + self.host.token,
             self.host.base + "/clusters/edge/api/v1/namespaces?watch=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.addCleanup(proc.wait, 10)
        self.addCleanup(proc.stdout.close)
        first = proc.stdout.readline()
        self.assertEqual(json.loads(first)["type"], "ADDED")
        return proc

    def assert_ends_within(self, proc, seconds, since):
        try:
            proc.wait(seconds + 5)
        except subprocess.TimeoutExpired:
            self.fail("the watch did not end")
        self.assertLess(time.monotonic() - since, seconds)

    def test_stalled_agent_is_dead_within_the_bound_then_resumes(self):
        self.wait_serving()
        w = self.watch()
        self.agent.proc.send_signal(signal.SIGSTOP)
        stalled = time.monotonic()
        try:
            self.assert_ends_within(w, DEAD_WITHIN_S, stalled)
            self.assert_unavailable()
            self.assertIn("no answer to a PING within %d ms" % (3000 * PING_S),
                          self.host.logs())
        finally:
            self.agent.proc.send_signal(signal.SIGCONT)
        # the host closed its side: the agent sees it and dials again
        self.wait_serving()

    def test_killed_agent_restarted_resumes(self):
        self.wait_serving()
        w = self.watch()
        state = self.agent.state
        self.agent.proc.kill()
        killed = time.monotonic()
        self.agent.proc.wait(10)
        self.assert_ends_within(w, DEAD_WITHIN_S, killed)
        self.assert_unavailable()
        type(self).agent = self.start_agent(state=state)
        self.wait_serving()

    def test_restarted_host_has_every_agent_back_within_the_cap(self):
        self.wait_serving()
        more = [self.start_agent() for _ in range(3)]
        wait_for(lambda: "joined (4 live" in self.host.logs(), 30,
                 "four agents to join")
        self.assertEqual(self.host.stop(), 0)
        stopped = time.monotonic()
        self.host.start()
        wait_for(lambda: self.host.logs().count(" joined (") >= 4,
                 BACK_WITHIN_S, "every agent to join the restarted host")
        self.assertLess(time.monotonic() - stopped, BACK_WITHIN_S)
        self.wait_serving()
        for a in more:
            self.assertEqual(a.stop(), 0, a.logs())

    def test_agents_over_the_handshake_rate_are_shed_then_join(self):
        self.wait_serving()
        before = self.host.logs().count(" joined (")
        many = [self.start_agent() for _ in range(6)]
        wait_for(lambda: self.host.logs().count(" joined (") >= before + 6,
                 BACK_WITHIN_S, "six agents dialling at once to join")
        self.assertIn("over handshake_rate (2/s)", self.host.logs())
        for a in many:
            self.assertEqual(a.stop(), 0, a.logs())
            self.assertNotIn("refused", a.logs())


if __name__ == "__main__":
    unittest.main()
