"""systemd readiness (core/daemon/notify.c): a gateway started with NOTIFY_SOCKET
sends READY=1 once it serves, RELOADING=1 then READY=1 around a SIGHUP
reload, and STOPPING=1 when SIGTERM starts the drain; with no members too."""
import os
import signal
import socket
import subprocess
import unittest

from harness import Gateway, mock_member


class NotifyTest(unittest.TestCase):

    def setUp(self):
        self.gw = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(self.sock.close)
        self.sock.settimeout(20)

    def start(self, members, abstract=False):
        self.gw = Gateway(members=members)
        self.addCleanup(self.gw.cleanup)
        if abstract:
            # "@NAME": a socket in the abstract namespace, as systemd may use
            name = "fedgate-notify-%d" % os.getpid()
            self.sock.bind("\0" + name)
            self.gw.start(env={"NOTIFY_SOCKET": "@" + name})
        else:
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

    def test_abstract_socket(self):
        self.start([], abstract=True)
        self.assertEqual(self.next_message().get("READY"), "1")
        self.gw.signal(signal.SIGTERM)
        self.assertEqual(self.next_message(), {"STOPPING": "1"})
        self.assertEqual(self.gw.stop(), 0)

    def test_unusable_socket_is_logged_and_serving_goes_on(self):
        self.gw = Gateway(members=[])
        self.addCleanup(self.gw.cleanup)
        self.gw.start(env={"NOTIFY_SOCKET": os.path.join(self.gw.tmp,
                                                         "nobody-listens")})
        self.addCleanup(self.gw.stop)
        self.assertEqual(self.readyz(), "ok")
        self.assertEqual(self.gw.stop(), 0)
        self.assertIn("sd_notify: ", self.gw.logs())
        self.assertIn("nobody-listens", self.gw.logs())


if __name__ == "__main__":
    unittest.main()
