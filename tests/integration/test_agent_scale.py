"""Many agents and a host restart: COUNT fedgate-agent processes, one per
member, join the host; the host is stopped and started again (same state,
so the same host id), and every tunnel is back within the agents' backoff
cap (30 s) plus the time the handshake rate limit needs to admit them all,
with no refusal but the rate limit's in either side's log; requests
through a sample of members work afterwards. Every process is stopped by
its pid; every wait has a deadline."""
import random
import re
import time
import unittest

from agent_harness import AgentCase
from harness import wait_for

# 200 processes: each agent is its own process, as in a fleet. An ASan
# build of the agent stays under ~40 MiB resident, so 200 fit there too.
COUNT = 200
RATE = 40  # [tunnel] handshake_rate: admitting COUNT takes COUNT / RATE s
BACKOFF_CAP_S = 30
# Time a loaded machine (2 cores, other tests, ASan) adds to the bound.
SLACK_S = 30
MEMBERS = tuple(["edge"] + ["m%03d" % i for i in range(1, COUNT)])


class AgentScaleTest(AgentCase):
    MEMBERS = MEMBERS
    TUNNEL = "handshake_rate = %d\n" % RATE
    AGENT_ARGS = ("--log-level", "info")

    def live(self):
        """The members with a live tunnel, from the host's /metrics."""
        code, text = self.curl("/metrics")
        if code != 200:
            return set()
        return set(re.findall(
            r'^fedgate_member_tunnels\{member="([a-z0-9-]+)"\} [1-9]',
            text, re.M))

    def wait_all(self, timeout, what):
        start = time.monotonic()
        wait_for(lambda: len(self.live()) == COUNT, timeout, what)
        return time.monotonic() - start

    def refusals(self, text):
        """Lines of a log that refuse or fail a tunnel for any reason but
        the rate limit (and, in an agent's, the host being down: its port
        refusing connections)."""
        return [line for line in text.splitlines()
                if re.search(r"refused|TLS handshake with|certificate", line)
                and "cannot reach the host: connection refused" not in line]

    def test_restart_with_many_agents(self):
        t0 = time.monotonic()
        for name in MEMBERS[1:]:
            self.start_agent(name)
        joined = time.monotonic() - t0 + self.wait_all(BACKOFF_CAP_S + COUNT / RATE + SLACK_S + 60,
                               "%d agents to join" % COUNT)
        self.assertEqual(self.refusals(self.host.logs()), [])

        self.assertEqual(self.host.stop(), 0, self.host.logs())
        down = time.monotonic()
        self.host.start()
        down = time.monotonic() - down
        bound = BACKOFF_CAP_S + COUNT / RATE + SLACK_S
        back = self.wait_all(bound, "every agent back after the restart")
        logs = self.host.logs()
        print("\n%d agents joined in %.1f s; after the restart (the host "
              "started in %.1f s) all back in %.1f s (bound %.0f s); %s" % (
                  COUNT, joined, down, back, bound,
                  "; ".join(re.findall(r"\d+ tunnels closed over "
                                       r"handshake_rate", logs)[:3])))
        self.assertEqual(self.refusals(logs), [])
        for a in self.agents:
            self.assertIsNone(a.proc.poll(), a.logs())
            self.assertEqual(self.refusals(a.logs()), [], a.logs())
        for name in random.Random(17).sample(MEMBERS, 12):
            code, body = self.curl("/clusters/%s/api/v1/namespaces/default"
                                   % name)
            self.assertEqual(code, 200, body)
            self.assertIn('"default"', body)


if __name__ == "__main__":
    unittest.main()
