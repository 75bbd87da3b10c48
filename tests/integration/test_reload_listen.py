"""A reload that moves `listen` and rotates the [tls] certificate (issue
18): new connections go to the new port and see the new certificate,
rewritten in place under the same file names; a watch on a connection
accepted before goes on, on the old certificate, and sees events; the old
port stops accepting; the admin kubeconfig names the new port. A listen
address that cannot be bound refuses the reload and the running one keeps
serving.
"""
import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import unittest

from harness import Gateway, free_port, mock_member, wait_for

CONFIGMAPS = "/clusters/demo/api/v1/namespaces/default/configmaps"


def make_cert(directory, name):
    """A self-signed certificate for 127.0.0.1: (cert, key) paths."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def fingerprint_of(path):
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def any_cert():
    """The certificates are the test's own: it compares them itself."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class ReloadListenTest(unittest.TestCase):

    workers = 1

    def setUp(self):
        self.gw = Gateway(members=[mock_member("demo", "demo.json")])
        self.addCleanup(self.gw.cleanup)
        self.certs = os.path.join(self.gw.tmp, "certs")
        os.mkdir(self.certs)
        self.cert, self.key = make_cert(self.certs, "first")
        self.gateway_ini = os.path.join(self.gw.conf, "10-gateway.ini")
        with open(self.gateway_ini) as f:
            self.ini = f.read()
        self.ini = self.ini.replace(
            "[gateway]\n", "[gateway]\nreload_drain = 120s\nworkers = %d\n" %
            self.workers, 1) + \
            "[tls]\ncert_file = %s\nkey_file = %s\n" % (self.cert, self.key)
        self.gw.write("10-gateway.ini", self.ini)
        self.gw.start()
        self.token = self.gw.token

        def stop():
            code = self.gw.stop()
            self.assertEqual(code, 0, self.gw.logs())
        self.addCleanup(stop)
        wait_for(lambda: "serving" in self.gw.logs(), 20, "fedgate to serve")

    def connect(self, port):
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                           context=any_cert())
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True)
        return conn, hashlib.sha256(der).hexdigest()

    def request(self, port, method, path, body=None):
        conn, fp = self.connect(port)
        headers = {"Authorization": "Bearer " + self.token}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data, fp

    def reload(self, text, outcome):
        before = self.gw.logs().count(outcome)
        self.gw.write("10-gateway.ini", text)
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: self.gw.logs().count(outcome) > before, 20, outcome)

    def test_listen_moves_and_certificate_rotates(self):
        old_port = self.gw.port
        watch, first = self.connect(old_port)
        self.assertEqual(first, fingerprint_of(self.cert))
        watch.request("GET", CONFIGMAPS + "?watch=1",
                      headers={"Authorization": "Bearer " + self.token})
        resp = watch.getresponse()
        self.assertEqual(resp.status, 200)
        events = []
        reader = threading.Thread(target=lambda: events.extend(
            json.loads(line) for line in iter(resp.readline, b"")),
            daemon=True)
        reader.start()

        # the same file names, new contents; and a new port
        second_cert, second_key = make_cert(self.certs, "second")
        os.replace(second_cert, self.cert)
        os.replace(second_key, self.key)
        new_port = free_port()
        self.reload(self.ini.replace(":%d\n" % old_port, ":%d\n" % new_port),
                    "reload: serving")
        self.assertIn("listening on 127.0.0.1:%d" % new_port, self.gw.logs())
        self.assertEqual(self.gw.logs().count(
            "serving certificate loaded again"), 1)

        status, body, fp = self.request(new_port, "POST", CONFIGMAPS, {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "moved"}})
        self.assertEqual(status, 201, body)
        self.assertEqual(fp, fingerprint_of(self.cert))
        self.assertNotEqual(fp, first)
        wait_for(lambda: any(e["object"]["metadata"]["name"] == "moved"
                             for e in events), 10, "the old watch's event")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", old_port), 5).close()
        with open(self.gw.kubeconfig) as f:
            self.assertIn("https://127.0.0.1:%d" % new_port, f.read())
        self.assertTrue(reader.is_alive())  # the watch goes on
        watch.sock.shutdown(socket.SHUT_RDWR)
        reader.join(10)
        watch.close()

    def test_unbindable_listen_is_refused(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            self.reload(self.ini.replace(":%d\n" % self.gw.port,
                                         ":%d\n" % port), "reload refused")
        self.assertIn("reload refused: listen 127.0.0.1:%d: Address already "
                      "in use" % port, self.gw.logs())
        status, body, _ = self.request(self.gw.port, "GET", CONFIGMAPS)
        self.assertEqual(status, 200, body)
        # nothing of TLS changed: the context stays
        self.reload(self.ini, "reload: serving")
        self.assertNotIn("serving certificate loaded again", self.gw.logs())


class ReloadListenTwoWorkersTest(ReloadListenTest):
    """The same with two workers: each binds the new address and switches
    its own listener."""

    workers = 2


if __name__ == "__main__":
    unittest.main()
