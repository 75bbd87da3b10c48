"""Port-forward to the demo mock member's pods with real clients: kubectl
1.32 over its default WebSocket (SPDY/3.1 inside WebSocket messages) and
over plain SPDY/3.1 (KUBECTL_PORT_FORWARD_WEBSOCKETS=false), and the
Python client's kubernetes.stream.portforward (v4.channel.k8s.io). Each
through the host straight to the mock ("demo") and through a host whose
"edge" member is a member-role gateway reached with the direct driver.
A port named http answers a page naming the pod; another declared port
echoes bytes; an undeclared port is refused as kubelet refuses it. Every
process is stopped by its pid; every wait has a deadline."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import GatewayTest, load_seed
from test_direct_tour import Lines, PairTest, stop_proc

PODS = [o for o in load_seed("demo.json")["objects"] if o["kind"] == "Pod"]
FRONTEND = next(o["metadata"]["name"] for o in PODS
                if o["metadata"]["name"].startswith("frontend-"))
REDIS = "redis-0"  # declares 6379: an echo port


def recv_exactly(sock, n, timeout=20.0):
    sock.settimeout(timeout)
    got = b""
    while len(got) < n:
        chunk = sock.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def http_get(port):
    """One HTTP/1.1 request to 127.0.0.1:PORT with curl: (status, body)."""
    out = subprocess.run(
        ["curl", "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}",
         "http://127.0.0.1:%d/" % port],
        capture_output=True, text=True, timeout=30)
    body, _, code = out.stdout.rpartition("\n")
    return code, body + out.stderr


class Forward:
    """kubectl port-forward in the background: the local port it chose."""

    def __init__(self, test, pod, remote, websockets=True):
        env = dict(os.environ)
        env["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = \
            "true" if websockets else "false"
        gw, context = test.target()
        self.proc = subprocess.Popen(
            ["kubectl", "--kubeconfig", gw.kubeconfig, "--context", context,
             "--cache-dir", test.cache_dir, "-n", "shop", "port-forward",
             "pod/" + pod, ":%s" % remote, "--address", "127.0.0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)
        self.out = Lines(self.proc.stdout)
        self.err = Lines(self.proc.stderr)
        self.port = None

        def forwarding(line):
            m = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) ->", line)
            if m:
                self.port = int(m.group(1))
            return m is not None
        try:
            if not self.out.wait(forwarding, 30):
                raise AssertionError("kubectl port-forward ended: %r" %
                                     self.err.seen)
        except Exception:
            self.stop()
            raise

    def stop(self):
        stop_proc(self.proc)


class PortForwardCases:
    """The cases, for a class that says where kubectl and the client go
    (target(): the gateway and the kubeconfig context)."""

    def setUp(self):
        self.cache_dir = tempfile.mkdtemp(prefix="fedgate-kcache-")
        self.addCleanup(shutil.rmtree, self.cache_dir, ignore_errors=True)

    def forward(self, pod, remote, websockets=True):
        f = Forward(self, pod, remote, websockets)
        self.addCleanup(f.stop)
        return f

    def check_http(self, websockets):
        f = self.forward(FRONTEND, "http", websockets)
        for _ in range(3):  # one forwarded connection each
            code, body = http_get(f.port)
            self.assertEqual(code, "200", body)
            self.assertIn("Hello from pod %s in namespace shop" % FRONTEND,
                          body)
            self.assertIn("port 8080", body)

    def check_echo(self, websockets):
        f = self.forward(REDIS, "6379", websockets)
        data = os.urandom(300000)
        socks = [socket.create_connection(("127.0.0.1", f.port), timeout=20)
                 for _ in range(2)]
        try:
            for s in socks:  # two streams at once, each its own bytes back
                s.sendall(data[:1000])
            for s in socks:
                self.assertEqual(recv_exactly(s, 1000), data[:1000])
            socks[0].sendall(data)
            self.assertEqual(recv_exactly(socks[0], len(data)), data)
        finally:
            for s in socks:
                s.close()

    def check_refused(self, websockets):
        f = self.forward(REDIS, "9999", websockets)
        s = socket.create_connection(("127.0.0.1", f.port), timeout=20)
        try:
            s.settimeout(20)
            self.assertEqual(s.recv(100), b"")  # closed without a byte
        finally:
            s.close()
        self.assertTrue(f.err.wait(lambda l: "an error occurred forwarding "
                                   "%d -> 9999" % f.port in l, 30))
        self.assertIn("connect: connection refused", "".join(f.err.seen))

    def test_kubectl_http_over_websocket(self):
        self.check_http(True)

    def test_kubectl_http_over_spdy(self):
        self.check_http(False)

    def test_kubectl_echo_over_websocket(self):
        self.check_echo(True)

    def test_kubectl_echo_over_spdy(self):
        self.check_echo(False)

    def test_kubectl_refused_port_over_websocket(self):
        self.check_refused(True)

    def test_kubectl_refused_port_over_spdy(self):
        self.check_refused(False)

    def test_python_client_portforward(self):
        from kubernetes import client, config
        from kubernetes.stream import portforward
        gw, context = self.target()
        api = client.ApiClient(config.new_client_from_config(
            gw.kubeconfig, context=context).configuration)
        v1 = client.CoreV1Api(api)
        pf = portforward(v1.connect_get_namespaced_pod_portforward, FRONTEND,
                         "shop", ports="8080,9999", _request_timeout=20)
        try:
            s = pf.socket(8080)
            s.settimeout(20)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while b"served by" not in got:
                chunk = s.recv(4096)
                self.assertTrue(chunk, got)
                got += chunk
            self.assertTrue(got.startswith(b"HTTP/1.1 200 OK\r\n"), got)
            self.assertIn(("Hello from pod %s in namespace shop" %
                           FRONTEND).encode(), got)
            s.close()
            self.assertIn("connection refused", pf.error(9999) or "")
        finally:
            pf.close()
        pf = portforward(v1.connect_get_namespaced_pod_portforward, REDIS,
                         "shop", ports="6379", _request_timeout=20)
        try:
            s = pf.socket(6379)
            data = os.urandom(100000)
            s.sendall(data)
            self.assertEqual(recv_exactly(s, len(data)), data)
            s.close()
        finally:
            pf.close()


class MockPortForwardTest(PortForwardCases, GatewayTest):
    """Through the host to its mock member "demo"."""

    def target(self):
        return self.gw, "demo"


class DirectPortForwardTest(PortForwardCases, PairTest):
    """Through the host's direct member "edge" to a member-role gateway
    serving the demo mock."""


if __name__ == "__main__":
    unittest.main()
