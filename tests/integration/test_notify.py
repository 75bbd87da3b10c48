"""systemd readiness (core/daemon/notify.c): a gateway started with NOTIFY_SOCKET
sends READY=1 once it serves, RELOADING=1 then READY=1 around a SIGHUP
reload, and STOPPING=1 when SIGTERM starts the drain; with no members too."""
import os
import signal
import socket
import subprocess
import unittest

from harness import FEDGATE, Gateway, mock_member


def built_with_libsystemd():
    out = subprocess.run(["ldd", FEDGATE], capture_output=True, text=True)
    return "libsystemd" in out.stdout


@unittest.skipUnless(built_with_libsystemd(), "built with FG_SYSTEMD=OFF")
class NotifyTest(unittest.TestCase):

    def setUp(self):
        self.gw = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(self.sock.close)
        self.sock.settimeout(20)

    def start(self, members):
        self.gw = Gateway(members=members)
        self.addCleanup(self.gw.cleanup)
        path = os.path.join(self.gw.tmp, "notify.sock")
        self.sock.bind(path)
        self.gw.start(env={"NOTIFY_SOCKET": path})
        self.addCleanup(self.gw.stop)

    def next_message(self):
        return dict(line.split("=", 1) for line in
                    self.sock.recv(4096).decode().splitlines())

    def readyz(self):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "5", "--cacert", self.gw.ca,
             self.gw.base + "/readyz"], capture_output=True, text=True,
            timeout=10)
        return out.stdout

    def test_ready_reload_stop(self):
        self.start([mock_member("demo", "demo.json")])
        msg = self.next_message()
        self.assertEqual(msg.get("READY"), "1", msg)
        self.assertEqual(msg.get("STATUS"), "serving 1 member(s) on "
                         "127.0.0.1:%d" % self.gw.port)
        self.assertEqual(self.readyz(), "ok")

        self.gw.signal(signal.SIGHUP)
        msg = self.next_message()
        self.assertEqual(msg.get("RELOADING"), "1", msg)
        self.assertGreater(int(msg["MONOTONIC_USEC"]), 0)
        self.assertEqual(self.next_message().get("READY"), "1")

        self.gw.signal(signal.SIGTERM)
        self.assertEqual(self.next_message(), {"STOPPING": "1"})
        self.assertEqual(self.gw.stop(), 0)

    def test_host_without_members_is_ready(self):
        self.start([])
        msg = self.next_message()
        self.assertEqual(msg.get("READY"), "1", msg)
        self.assertIn("serving 0 member(s)", msg["STATUS"])
        self.assertEqual(self.readyz(), "ok")
        self.assertEqual(self.gw.stop(), 0)


if __name__ == "__main__":
    unittest.main()
