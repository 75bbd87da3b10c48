"""SIGTERM: the gateway stops accepting, lets a request in flight finish,
and exits 0; past the grace period it closes what is left."""
import re
import signal
import socket
import ssl
import subprocess
import time
import unittest

from harness import FEDGATE, Gateway, wait_for


def in_flight(gw):
    out = subprocess.run(
        ["curl", "-sS", "--max-time", "5", "--cacert", gw.ca, "-H",
         "Authorization: Bearer " + gw.token, gw.base + "/metrics"],
        capture_output=True, text=True, timeout=10)
    m = re.search(r"^fedgate_requests_in_flight (\d+)$", out.stdout, re.M)
    return int(m.group(1)) if m else -1


def refuses_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return False
    except OSError:
        return True


class ShutdownTest(unittest.TestCase):

    def run_with_open_request(self, extra_gateway=""):
        gw = Gateway(extra_gateway=extra_gateway).start()
        self.addCleanup(gw.cleanup)
        sock = socket.create_connection(("127.0.0.1", gw.port), 10)
        tls = gw.tls_context().wrap_socket(sock, server_hostname="localhost")
        self.addCleanup(tls.close)
        tls.sendall(("POST /clusters/demo/api/v1/namespaces HTTP/1.1\r\n"
                     "Host: localhost\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: 10\r\n\r\n12345" % gw.token).encode())
        # The metrics request itself is the second one in flight.
        wait_for(lambda: in_flight(gw) >= 2, 10, "the request to be in flight")
        gw.signal(signal.SIGTERM)
        wait_for(lambda: refuses_connections(gw.port), 10,
                 "the listener to close")
        return gw, tls

    def test_sigterm_while_starting_stops_cleanly(self):
        """The port accepts connections before the loop runs (members are
        still being made): a supervisor that sends SIGTERM as soon as it
        sees the port must get a clean stop (exit 0), not a kill."""
        gw = Gateway()
        self.addCleanup(gw.cleanup)
        for attempt in range(8):
            gw.log = open(gw.log_path, "w")
            gw.proc = subprocess.Popen(
                [FEDGATE, "-c", gw.conf], stdout=gw.log,
                stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", gw.port),
                                             0.2).close()
                    break
                except OSError:
                    time.sleep(0.001)
            gw.signal(signal.SIGTERM)
            self.assertEqual(gw.proc.wait(15), 0,
                             "attempt %d:\n%s" % (attempt, gw.logs()))
            gw.log.close()

    def test_request_in_flight_finishes(self):
        gw, tls = self.run_with_open_request()
        self.assertIsNone(gw.proc.poll(), "exited with a request in flight")
        tls.sendall(b"67890")
        raw = b""
        tls.settimeout(10)
        while True:
            try:
                chunk = tls.recv(65536)
            except (socket.timeout, ssl.SSLError, ConnectionError):
                break
            if not chunk:
                break
            raw += chunk
        self.assertTrue(raw.startswith(b"HTTP/1.1 "), raw[:200])
        self.assertIn(b"connection: close", raw.lower())
        self.assertIn(b'"kind":"Status"', raw)
        gw.proc.wait(20)
        self.assertEqual(gw.proc.returncode, 0, gw.logs())
        self.assertEqual(gw.stop(), 0)

    def test_grace_period_bounds_the_wait(self):
        gw, _ = self.run_with_open_request("shutdown_grace = 1s\n")
        start = time.monotonic()
        gw.proc.wait(20)
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(gw.proc.returncode, 0, gw.logs())
        self.assertIn("grace period over", gw.logs())
        self.assertEqual(gw.stop(), 0)


if __name__ == "__main__":
    unittest.main()
