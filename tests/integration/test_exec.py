"""kubectl exec and the Python client's stream() through the gateway to the
demo mock member: HTTP/1.1 upgrades become a byte pipe in the core, and the
mock answers pods/exec over WebSocket with the Kubernetes channel protocol.
Raw sockets check the core's side of the contract: h2c is not an upgrade,
bytes sent before the 101 never reach the member, and a refused upgrade
closes the connection after its answer."""
import base64
import os
import socket
import struct
import subprocess
import time
import unittest

from harness import GatewayTest, load_seed
from tours import python_exec_tour

POD = next(o["metadata"]["name"] for o in load_seed("demo.json")["objects"]
           if o["kind"] == "Pod" and o["metadata"].get("namespace") == "shop")


def client_frame(op, payload, fin=True):
    """A masked client frame (RFC 6455 5.2)."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | op])
    if n < 126:
        head += bytes([0x80 | n])
    elif n <= 0xffff:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


def server_frames(data):
    """Splits unmasked server frames: [(opcode, payload)], rest."""
    out = []
    while len(data) >= 2:
        n, at = data[1] & 0x7f, 2
        if n == 126:
            if len(data) < 4:
                break
            n, at = struct.unpack(">H", data[2:4])[0], 4
        elif n == 127:
            if len(data) < 10:
                break
            n, at = struct.unpack(">Q", data[2:10])[0], 10
        if len(data) < at + n:
            break
        out.append((data[0] & 0x0f, data[at:at + n]))
        data = data[at + n:]
    return out, data


class ExecTest(GatewayTest):

    def exec_(self, *args, stdin=None):
        return self.kubectl_input(["exec", "-n", "shop", POD] + list(args),
                                  stdin)

    def kubectl_input(self, args, stdin):
        cmd = ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
               "demo", "--request-timeout=20s"] + args
        return subprocess.run(cmd, capture_output=True, text=True,
                              input=stdin, timeout=60)

    # ---- kubectl ---------------------------------------------------------

    def test_kubectl_echo(self):
        out = self.exec_("--", "echo", "hi", "there")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "hi there\n")

    def test_kubectl_cat_with_stdin(self):
        text = "line one\nline two\n" + "x" * 100000 + "\n"
        out = self.exec_("-i", "--", "cat", stdin=text)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, text)

    def test_kubectl_exit_code(self):
        out = self.exec_("--", "sh", "-c", "exit 3")
        self.assertEqual(out.returncode, 3, out.stderr)
        out = self.exec_("--", "exit", "42")
        self.assertEqual(out.returncode, 42, out.stderr)

    def test_kubectl_unknown_command(self):
        out = self.exec_("--", "frobnicate", "--now")
        self.assertEqual(out.returncode, 127, out.stderr)
        self.assertIn("frobnicate: command not found", out.stderr)

    def test_kubectl_hostname_and_env(self):
        out = self.exec_("--", "hostname")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, POD + "\n")
        out = self.exec_("--", "env")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("HOSTNAME=%s\n" % POD, out.stdout)

    def test_kubectl_missing_pod_and_container(self):
        out = self.kubectl_input(["exec", "-n", "shop", "nope", "--", "echo"],
                                 None)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('pods "nope" not found', out.stderr)
        out = self.exec_("-c", "nope", "--", "echo")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("container nope is not valid for pod " + POD, out.stderr)

    # ---- the Python client ---------------------------------------------

    def test_python_client_stream(self):
        python_exec_tour(self, self.gw.kubeconfig, "demo", POD)

    # ---- raw HTTP/1.1 ----------------------------------------------------

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.gw.port), 10)
        return self.gw.tls_context().wrap_socket(s, server_hostname="localhost")

    def exec_head(self, pod, query, extra=""):
        key = base64.b64encode(os.urandom(16)).decode()
        return ("GET /clusters/demo/api/v1/namespaces/shop/pods/%s/exec?%s "
                "HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
                "Connection: Upgrade\r\nUpgrade: websocket\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n"
                "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n%s\r\n" %
                (pod, query, self.gw.token, key, extra)).encode()

    def read_until_closed(self, t, timeout=10.0):
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = t.recv(65536)
            except (socket.timeout, ConnectionError):
                break
            if not chunk:
                return out, True
            out += chunk
        return out, False

    def test_eager_bytes_never_reach_the_member(self):
        with self.connect() as t:
            # The frame rides in the same TLS record as the head: it was
            # sent before the 101 and must be dropped.
            t.sendall(self.exec_head(POD, "command=cat&stdin=true&stdout=true")
                      + client_frame(2, b"\x00EAGER\n"))
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = t.recv(65536)
                self.assertTrue(chunk, head)
                head += chunk
            head, _, rest = head.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
            self.assertIn(b"\r\nupgrade: websocket", head.lower())
            self.assertIn(b"sec-websocket-protocol: v5.channel.k8s.io", head)
            t.sendall(client_frame(2, b"\x00LATER\n") +
                      client_frame(2, b"\xff\x00"))
            frames = []
            while not frames or frames[-1][0] != 8:
                chunk = t.recv(65536)
                self.assertTrue(chunk, frames)
                more, rest = server_frames(rest + chunk)
                frames += more
            # The server closes first, right after its close frame.
            data, closed = self.read_until_closed(t, 5.0)
            self.assertTrue(closed)
            self.assertEqual(rest + data, b"")
            stdout = b"".join(p[1:] for op, p in frames
                              if op == 2 and p[:1] == b"\x01")
            self.assertEqual(stdout, b"LATER\n")
            status = [p[1:] for op, p in frames if op == 2 and p[:1] == b"\x03"]
            self.assertEqual(status, [b'{"metadata":{},"status":"Success"}'])
            self.assertEqual(frames[-1][0], 8)  # close

    def test_refused_upgrade_closes_after_the_answer(self):
        second = ("GET /clusters/demo/version HTTP/1.1\r\nHost: localhost\r\n"
                  "Authorization: Bearer %s\r\n\r\n" % self.gw.token).encode()
        with self.connect() as t:
            t.sendall(self.exec_head("nope", "command=echo") + second)
            data, closed = self.read_until_closed(t)
        self.assertTrue(closed, data)
        self.assertTrue(data.startswith(b"HTTP/1.1 404 "), data)
        self.assertIn(b"connection: close", data.lower())
        self.assertIn(b'pods \\"nope\\" not found', data)
        self.assertEqual(data.count(b"HTTP/1.1 "), 1, data)

    def test_h2c_is_not_an_upgrade(self):
        req = ("GET /clusters/demo/version HTTP/1.1\r\nHost: localhost\r\n"
               "Authorization: Bearer %s\r\nConnection: Upgrade, "
               "HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: "
               "AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n" % self.gw.token).encode()
        last = req.replace(b"Connection: Upgrade,", b"Connection: close,")
        data = self.gw.raw_request(req + last)
        self.assertEqual(data.count(b"HTTP/1.1 200 "), 2, data)
        self.assertNotIn(b" 101 ", data)
        self.assertIn(b"gitVersion", data)

    def test_upgrade_with_a_body_is_refused(self):
        head = self.exec_head(POD, "command=echo",
                              "Content-Length: 5\r\n") + b"hello"
        data = self.gw.raw_request(head)
        self.assertTrue(data.startswith(b"HTTP/1.1 400 "), data)
        self.assertIn(b"must not have a body", data)

    def test_without_upgrade_is_a_400(self):
        code, _, body = self.curl(
            "/clusters/demo/api/v1/namespaces/shop/pods/%s/exec?command=echo"
            % POD)
        self.assertEqual(code, 400, body)
        self.assertIn("Upgrade request required", body)


if __name__ == "__main__":
    unittest.main()
