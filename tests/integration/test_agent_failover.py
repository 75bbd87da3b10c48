"""Two agents for one member (expected_tunnels = 2): the host spreads new
streams over both, shows fedgate_member_tunnels against
fedgate_member_tunnels_expected, and when one agent dies (killed: its
connection closes; stalled: the PING deadline) no request fails after the
failover window, and the member stays Ready on the other. Every process is
stopped by its pid; every wait has a deadline."""
import re
import signal
import time
import unittest

from agent_harness import AgentCase
from harness import wait_for

PING_S = 1
# A stalled tunnel is passed over once a PING of it went unanswered for an
# interval: at most two intervals after the stall, plus slack.
FAILOVER_S = 2 * PING_S + 1


class AgentFailoverTest(AgentCase):
    MEMBER_KEYS = "expected_tunnels = 2\n"
    TUNNEL = "ping_interval = %ds\n" % PING_S
    AGENT_ARGS = ("--ping-interval", str(PING_S))

    def gauges(self):
        code, text = self.curl("/metrics")
        self.assertEqual(code, 200, text)
        found = {}
        for name in ("fedgate_member_tunnels", "fedgate_member_tunnels_expected",
                     "fedgate_member_ready"):
            m = re.search(r'^%s\{member="edge"\} (\d+)$' % name, text, re.M)
            found[name] = int(m.group(1)) if m else None
        return found

    def wait_tunnels(self, n):
        wait_for(lambda: self.gauges()["fedgate_member_tunnels"] == n, 30,
                 "%d tunnels in /metrics" % n)

    def two_agents(self):
        """Returns two agents whose tunnels are live."""
        live = [a for a in self.agents if a.proc.poll() is None]
        while len(live) < 2:
            live.append(self.start_agent())
        self.wait_tunnels(2)
        return live[:2]

    def assert_every_request_served(self, n=20):
        for _ in range(n):
            code, body = self.curl("/clusters/edge/version")
            self.assertEqual(code, 200, body)

    def test_metrics_show_live_against_expected(self):
        self.two_agents()
        g = self.gauges()
        self.assertEqual(g["fedgate_member_tunnels_expected"], 2)
        self.assertEqual(g["fedgate_member_ready"], 1)

    def test_killed_agent_fails_over(self):
        gone, _ = self.two_agents()
        gone.proc.kill()
        gone.proc.wait(10)
        self.wait_tunnels(1)
        self.assert_every_request_served()
        g = self.gauges()
        self.assertEqual(g["fedgate_member_ready"], 1)
        self.assertEqual(g["fedgate_member_tunnels_expected"], 2)
        self.assertIn("lost (1 left of 2 expected)", self.host.logs())

    def test_stalled_agent_fails_over_within_the_window(self):
        stalled, _ = self.two_agents()
        stalled.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(FAILOVER_S)
            self.assert_every_request_served()
            self.wait_tunnels(1)
            self.assertEqual(self.gauges()["fedgate_member_ready"], 1)
        finally:
            stalled.proc.send_signal(signal.SIGCONT)
        # resumed, it finds its tunnel closed and joins again
        self.wait_tunnels(2)


if __name__ == "__main__":
    unittest.main()
