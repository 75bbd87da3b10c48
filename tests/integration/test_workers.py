"""Two workers, one cluster: the mock's driver has one instance on one owner
loop (FG_SCOPE_ONE_LOOP), and requests that arrive on the other worker are
delivered to it and answered back across loops. Each curl or kubectl run
is a new connection, and SO_REUSEPORT spreads new connections over both
workers, so a dozen of them land on both (all on one: 2^-11): writes made
through one must be seen through every other, and a watch opened on one
sees an object created on another."""
import json
import socket
import ssl
import subprocess
import threading
import time
import unittest

from harness import GatewayTest

CONNECTIONS = 12


class TwoWorkersTest(GatewayTest):
    extra_gateway = "workers = 2\n"

    def test_writes_are_seen_from_every_connection(self):
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "shared"},
                           "data": {"k": "v"}})
        code, _, out = self.curl(
            "/clusters/demo/api/v1/namespaces/shop/configmaps", "-X", "POST",
            "-H", "Content-Type: application/json", "--data", body)
        self.assertEqual(code, 201, out)
        for i in range(CONNECTIONS):
            http = "--http2" if i % 2 else "--http1.1"
            code, _, out = self.curl(
                "/clusters/demo/api/v1/namespaces/shop/configmaps/shared",
                http=http)
            self.assertEqual(code, 200, "connection %d: %s" % (i, out))
            self.assertEqual(json.loads(out)["data"], {"k": "v"})
        out = self.kubectl("delete", "configmap", "-n", "shop", "shared")
        for i in range(CONNECTIONS):
            code, _, _ = self.curl(
                "/clusters/demo/api/v1/namespaces/shop/configmaps/shared")
            self.assertEqual(code, 404, "connection %d" % i)

    def watch(self, rv, seen, ready):
        ctx = ssl.create_default_context(cafile=self.gw.ca)
        with socket.create_connection(("127.0.0.1", self.gw.port),
                                      timeout=15) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall((
                    "GET /clusters/demo/api/v1/namespaces/shop/configmaps"
                    "?watch=1&resourceVersion=%s HTTP/1.1\r\n"
                    "Host: x\r\nAuthorization: Bearer %s\r\n\r\n"
                    % (rv, self.gw.token)).encode())
                ready.release()
                data = b""
                deadline = time.monotonic() + 15
                while b'"watched"' not in data and time.monotonic() < deadline:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                seen.append(b'"ADDED"' in data and b'"watched"' in data)

    def test_watch_on_one_worker_sees_a_write_on_another(self):
        code, _, out = self.curl(
            "/clusters/demo/api/v1/namespaces/shop/configmaps")
        self.assertEqual(code, 200, out)
        rv = json.loads(out)["metadata"]["resourceVersion"]
        seen, ready = [], threading.Semaphore(0)
        threads = [threading.Thread(target=self.watch, args=(rv, seen, ready))
                   for _ in range(6)]
        for t in threads:
            t.start()
        for _ in threads:
            self.assertTrue(ready.acquire(timeout=15))
        time.sleep(0.3)  # the watches are registered before the write
        self.kubectl("create", "configmap", "-n", "shop", "watched",
                     "--from-literal=a=b")
        for t in threads:
            t.join(timeout=20)
        self.assertEqual(seen, [True] * len(threads))
        self.kubectl("delete", "configmap", "-n", "shop", "watched")

    def test_exec_and_logs_across_loops(self):
        pod = self.kubectl("get", "pods", "-n", "shop", "-o",
                           "jsonpath={.items[0].metadata.name}").stdout
        for i in range(4):
            out = self.kubectl("exec", "-n", "shop", pod, "--", "echo",
                               "run%d" % i)
            self.assertEqual(out.stdout, "run%d\n" % i, out.stderr)
            out = self.kubectl("logs", "-n", "shop", pod, "--tail=2")
            self.assertEqual(len(out.stdout.splitlines()), 2)

    def test_large_list_with_backpressure(self):
        # An answer far larger than the cross-loop window, read slowly.
        for i in range(3):
            body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "big%d" % i},
                               "data": {"k": "x" * (200 * 1024)}})
            code, _, out = self.curl(
                "/clusters/demo/api/v1/namespaces/shop/configmaps", "-X",
                "POST", "-H", "Content-Type: application/json",
                "--data-binary", "@-", input=body)
            self.assertEqual(code, 201, out[:200])
        for i in range(4):
            proc = subprocess.run(
                ["curl", "-sS", "--http1.1", "--limit-rate", "2M",
                 "--cacert", self.gw.ca, "-H",
                 "Authorization: Bearer " + self.gw.token,
                 self.gw.base + "/clusters/demo/api/v1/namespaces/shop/"
                 "configmaps"], capture_output=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertGreater(len(proc.stdout), 600 * 1024)
            names = [c["metadata"]["name"]
                     for c in json.loads(proc.stdout)["items"]]
            self.assertTrue({"big0", "big1", "big2"} <= set(names))
        for i in range(3):
            self.kubectl("delete", "configmap", "-n", "shop", "big%d" % i)

    def test_member_ready_from_every_worker(self):
        for i in range(CONNECTIONS // 2):
            code, _, out = self.curl("/metrics")
            self.assertEqual(code, 200)
            self.assertIn('fedgate_member_ready{member="demo"} 1', out)


if __name__ == "__main__":
    unittest.main()
