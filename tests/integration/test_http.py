"""The gateway over HTTP/1.1 (curl, raw TLS) and HTTP/2 (curl, nghttp):
routing, the admin token, the gateway's own endpoints, path normalisation,
and the strict HTTP/1.1 pass that refuses what could be read two ways."""
import json
import re
import socket
import ssl
import subprocess
import time
import unittest

from harness import GatewayTest


def status_of(raw):
    head = raw.split(b"\r\n", 1)[0]
    return int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else None


class RoutingTest(GatewayTest):

    def test_member_over_http1_and_http2(self):
        for http, version in (("--http1.1", "1.1"), ("--http2", "2")):
            code, got, body = self.curl("/clusters/demo/api/v1/namespaces",
                                        http=http)
            self.assertEqual((code, got), (200, version), body)
            self.assertEqual(json.loads(body)["kind"], "NamespaceList")

    def test_unknown_member_is_a_404_status(self):
        code, _, body = self.curl("/clusters/nope/api")
        self.assertEqual(code, 404)
        status = json.loads(body)
        self.assertEqual(status["kind"], "Status")
        self.assertEqual(status["reason"], "NotFound")
        self.assertEqual(status["message"], 'clusters "nope" not found')
        self.assertEqual(status["details"], {"name": "nope", "kind": "clusters"})

    def test_no_token_is_401_but_probes_are_open(self):
        code, _, body = self.curl("/clusters/demo/api", token=False)
        self.assertEqual(code, 401)
        self.assertEqual(json.loads(body)["reason"], "Unauthorized")
        code, _, body = self.curl("/clusters/demo/api", "-H",
                                  "Authorization: Bearer " + "0" * 64,
                                  token=False)
        self.assertEqual(code, 401)
        for probe in ("/healthz", "/livez", "/readyz"):
            code, _, body = self.curl(probe, token=False)
            self.assertEqual((code, body), (200, "ok"))

    def test_version_and_metrics(self):
        code, _, body = self.curl("/version")
        self.assertEqual(code, 200)
        self.assertIn("gitVersion", json.loads(body))
        self.curl("/clusters/demo/api/v1/nodes")
        code, _, body = self.curl("/metrics")
        self.assertEqual(code, 200)
        self.assertIn('fedgate_requests_total{member="demo",verb="GET",'
                      'code="200"', body)
        self.assertIn("fedgate_members_configured 2", body)
        self.assertIn("fedgate_request_duration_seconds_bucket", body)
        self.assertIn("fedgate_requests_in_flight", body)

    def test_member_is_the_name_as_sent(self):
        # Within a member, dot segments and encodings resolve before the
        # request is passed on; the member itself is the segment after
        # /clusters/ as sent, and nothing moves a request to another one.
        code, _, body = self.curl(
            "/clusters/demo/api/./v1//namespaces/x/../shop", "--path-as-is")
        self.assertEqual(code, 200, body)
        self.assertEqual(json.loads(body)["metadata"]["name"], "shop")
        for bad in ("/clusters/host/../demo/api/v1/namespaces/shop",
                    "/clusters/%64emo/api/v1/namespaces/shop",
                    "//clusters//demo//api/v1/namespaces/shop",
                    "/clusters/de%2Fmo/api", "/clusters/demo/%2e%2e/%2e%2e/x",
                    "/clusters/demo/api/%00", "/.."):
            code, _, body = self.curl(bad, "--path-as-is")
            self.assertEqual(code, 400, bad)
            self.assertEqual(json.loads(body)["kind"], "Status", bad)
        code, _, body = self.curl("/clusters/DEMO/api")
        self.assertEqual(code, 404)

    def test_unprefixed_paths_are_not_found_on_the_host(self):
        code, _, body = self.curl("/api/v1/namespaces")
        self.assertEqual(code, 404)
        self.assertEqual(json.loads(body)["kind"], "Status")

    def test_nghttp(self):
        out = subprocess.run(
            ["nghttp", "-v", "-H", "authorization: Bearer " + self.gw.token,
             self.gw.base + "/clusters/host/api/v1/nodes"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(":status: 200", out.stdout)
        self.assertIn('"kind":"NodeList"', out.stdout.replace(" ", ""))

    def test_data_frames_fill_one_tls_record(self):
        """Each DATA frame leaves in one TLS record: its 9-byte header and
        payload fit the record's 16,384 bytes, so a long answer comes in
        frames of at most 16,375 bytes (nghttp2 would send 16,384)."""
        out = subprocess.run(
            ["nghttp", "-v", "-H", "authorization: Bearer " + self.gw.token,
             self.gw.base + "/clusters/demo/api/v1/pods"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        sizes = [int(m) for m in re.findall(
            r"recv DATA frame <length=(\d+)", out.stdout)]
        self.assertGreater(sum(sizes), 16384, out.stdout[-2000:])
        self.assertLessEqual(max(sizes), 16375, sizes)
        self.assertIn(16375, sizes)

    def test_keep_alive_serves_several_requests(self):
        req = ("GET /clusters/demo/api HTTP/1.1\r\nHost: localhost\r\n"
               "Authorization: Bearer %s\r\n\r\n" % self.gw.token).encode()
        last = req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
        raw = self.gw.raw_request(req + req + last)
        self.assertEqual(raw.count(b"HTTP/1.1 200"), 3, raw[:400])


    def test_last_answer_survives_unread_input(self):
        """Input that arrives at a closed socket makes the kernel send a
        reset that destroys the answer still queued (kubectl exec lost its
        output to its WebSocket close reply this way): the gateway
        half-closes and reads on instead. The client reads slowly through a
        small window, so most of the answer is still queued when the
        gateway is done with the connection."""
        req = ("GET /clusters/demo/api/v1/pods HTTP/1.1\r\nHost: localhost\r\n"
               "Authorization: Bearer %s\r\nConnection: close\r\n\r\n"
               % self.gw.token).encode()
        for _ in range(3):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(10)
            s.connect(("127.0.0.1", self.gw.port))
            with self.gw.tls_context().wrap_socket(
                    s, server_hostname="localhost") as t:
                t.sendall(req)
                # The gateway has queued its whole answer and is done with
                # the connection when these bytes arrive.
                time.sleep(0.3)
                t.sendall(b"bytes after the last request")
                time.sleep(0.3)
                out = b""
                while True:
                    try:
                        chunk = t.recv(4096)
                    except (ssl.SSLError, ConnectionError) as e:
                        self.fail("%r after %d bytes" % (e, len(out)))
                    if not chunk:
                        break
                    out += chunk
            head, body = out.split(b"\r\n\r\n", 1)
            self.assertIn(b"transfer-encoding: chunked", head.lower())
            self.assertTrue(body.endswith(b"0\r\n\r\n"), body[-100:])
            self.assertGreater(len(body), 16384)


class SmugglingTest(GatewayTest):
    """Requests that two parsers could read two ways are refused whole."""

    def request(self, head, body=b""):
        tok = "Authorization: Bearer %s\r\n" % self.gw.token
        data = head.replace("\r\n\r\n", "\r\n" + tok + "\r\n", 1).encode()
        return self.gw.raw_request(data + body)

    def assertRefused(self, raw, code=400):
        self.assertEqual(status_of(raw), code, raw[:300])
        body = raw.split(b"\r\n\r\n", 1)[1]
        self.assertIn(b'"kind":"Status"', body)
        # Nothing else is answered: the connection is closed after it.
        self.assertEqual(raw.count(b"HTTP/1.1 "), 1, raw)

    def test_content_length_and_chunked(self):
        self.assertRefused(self.request(
            "POST /clusters/demo/api HTTP/1.1\r\nHost: a\r\nContent-Length: 5"
            "\r\nTransfer-Encoding: chunked\r\n\r\n", b"0\r\n\r\nGET / HTTP/1.1"
            b"\r\n\r\n"))

    def test_two_lengths(self):
        self.assertRefused(self.request(
            "POST /clusters/demo/api HTTP/1.1\r\nHost: a\r\nContent-Length: 1"
            "\r\nContent-Length: 1\r\n\r\n", b"x"))

    def test_obs_fold(self):
        self.assertRefused(self.request(
            "GET /clusters/demo/api HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"))
        self.assertRefused(self.request(
            "POST /clusters/demo/api HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:"
            "\r\n chunked\r\n\r\n", b"0\r\n\r\n"))

    def test_space_before_colon(self):
        self.assertRefused(self.request(
            "POST /clusters/demo/api HTTP/1.1\r\nHost: a\r\nContent-Length : 1"
            "\r\n\r\n", b"x"))

    def test_bare_lf_and_cr(self):
        self.assertRefused(self.request(
            "GET /clusters/demo/api HTTP/1.1\nHost: a\r\n\r\n"))
        self.assertRefused(self.request(
            "GET /clusters/demo/api HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"))

    def test_two_hosts(self):
        self.assertRefused(self.request(
            "GET /clusters/demo/api HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"))

    def test_chunked_on_http10(self):
        self.assertRefused(self.request(
            "POST /clusters/demo/api HTTP/1.0\r\nHost: a\r\nTransfer-Encoding:"
            " chunked\r\n\r\n", b"0\r\n\r\n"))

    def test_unknown_coding(self):
        raw = self.request("POST /clusters/demo/api HTTP/1.1\r\nHost: a\r\n"
                           "Transfer-Encoding: gzip, chunked\r\n\r\n",
                           b"0\r\n\r\n")
        self.assertIn(status_of(raw), (400, 501))

    def test_target_with_tab(self):
        self.assertRefused(self.request(
            "GET /clusters/demo/a\tpi HTTP/1.1\r\nHost: a\r\n\r\n"))

    def test_head_too_large(self):
        raw = self.request("GET /clusters/demo/api HTTP/1.1\r\nHost: a\r\n" +
                           "X-Big: %s\r\n\r\n" % ("a" * 70000))
        self.assertEqual(status_of(raw), 431, raw[:200])


if __name__ == "__main__":
    unittest.main()
