"""kubectl exec over SPDY/3.1 (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false:
a POST with Upgrade: SPDY/3.1 and X-Stream-Protocol-Version, one SPDY
stream per channel) to the demo mock member, straight through the host
and through a host whose "edge" member is a member-role gateway reached
with the direct driver: the same exec tour as over WebSocket, and the
upgrade seen to be SPDY's. Every process is stopped by its pid."""
import os
import subprocess
import unittest

from harness import GatewayTest, load_seed
from test_direct_tour import PairTest
from tours import kubectl_exec_tour

POD = next(o["metadata"]["name"] for o in load_seed("demo.json")["objects"]
           if o["kind"] == "Pod" and o["metadata"].get("namespace") == "shop")


class SpdyExecCases:
    """The cases, for a class whose target() names the gateway and the
    kubeconfig context."""

    def kubectl(self, *args, check=True, stdin=None, verbose=False):
        gw, context = self.target()
        env = dict(os.environ, KUBECTL_REMOTE_COMMAND_WEBSOCKETS="false")
        cmd = ["kubectl", "--kubeconfig", gw.kubeconfig, "--context",
               context, "--request-timeout=20s"] + (["-v=8"] if verbose
                                                     else []) + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, input=stdin,
                             timeout=60, env=env)
        if check:
            self.assertEqual(out.returncode, 0, out.stderr)
        return out

    def test_exec_tour_over_spdy(self):
        kubectl_exec_tour(self, self.kubectl, POD)

    def test_the_upgrade_is_spdy(self):
        out = self.kubectl("exec", "-n", "shop", POD, "--", "echo", "x",
                           verbose=True)
        self.assertEqual(out.stdout, "x\n")
        self.assertIn("Upgrade: SPDY/3.1", out.stderr)
        self.assertIn("X-Stream-Protocol-Version: v5.channel.k8s.io",
                      out.stderr)
        self.assertNotIn("Sec-Websocket", out.stderr)

    def test_stderr_and_unknown_command(self):
        out = self.kubectl("exec", "-n", "shop", POD, "--", "frobnicate",
                           check=False)
        self.assertEqual(out.returncode, 127, out.stderr)
        self.assertIn("frobnicate: command not found", out.stderr)


class MockSpdyExecTest(SpdyExecCases, GatewayTest):
    """Through the host to its mock member "demo"."""

    def target(self):
        return self.gw, "demo"


class DirectSpdyExecTest(SpdyExecCases, PairTest):
    """Through the host's direct member "edge" to a member-role gateway
    serving the demo mock."""


if __name__ == "__main__":
    unittest.main()
