"""External Helm repositories on a real host gateway: Repo objects applied
with kubectl point at a local TLS static server (python's http.server in
ssl, its own CA given as caData) serving index.yaml files and charts. A
sync ends successful with the charts' newest versions (capped by
max_versions_per_chart) as active Applications and ApplicationVersions
pulled from the charts' absolute URLs; Basic credentials reach the server; redirects are followed (relative,
absolute-path, another host, which gets no credentials), but not to
http:// nor more than 5 in a row;
a version the index drops goes on the next sync; every failure (HTTP
status, an index that is not Helm's, one past max_index_bytes, a server
that never answers, one that is not trusted, one that went away) ends failed with a message, never syncing; a period under
180 s, an http:// URL and a hosted repository's name are 422; a restart
keeps the objects and re-runs a sync it cut short. With mirror the kept versions are downloaded, checked
against the index's digests, and served by the host under /helm/REPO/,
also after a restart; a digest mismatch fails naming the chart."""
import base64
import hashlib
import functools
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

from harness import ADMIN_POLICY, GatewayTest, wait_for
from test_appstore_helm import chart
from test_direct import make_cert

CTX = "fedgate.fleet"
REPO_LABEL = "application.kubesphere.io/repo-name"
SYNC = "application.kubesphere.io/sync-requested"
MAX_INDEX = 4096


def index_yaml(charts, digests=None):
    """CHARTS: [(name, version)] as Helm's index.yaml, urls relative, with
    DIGESTS[(name, version)] when given."""
    out = ["apiVersion: v1", "entries:"]
    names = sorted({n for n, _ in charts})
    for name in names:
        out.append("  %s:" % name)
        for n, v in charts:
            if n == name:
                out += ["  - name: %s" % n, "    version: %s" % v,
                        "    description: chart %s" % n,
                        "    urls: [%s-%s.tgz]" % (n, v)]
                if digests and (n, v) in digests:
                    out.append("    digest: %s" % digests[(n, v)])
    return "\n".join(out) + "\n"


class Server:
    """A TLS static file server on 127.0.0.1 in this process; it records
    the Authorization header of each request, and answers a path in
    REDIRECTS with a 302 to its location."""

    def __init__(self, root, crt, key):
        self.root = root
        self.auth = []
        self.redirects = {}
        owner = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.auth.append(self.headers.get("Authorization"))
                if self.path in owner.redirects:
                    self.send_response(302)
                    self.send_header("Location", owner.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=root))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                            server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1})
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


class AppstoreRepoTest(GatewayTest):
    policy = ADMIN_POLICY + ('[plugin "appstore"]\nmax_versions_per_chart = 2'
                             '\nmax_index_bytes = %d\nrepo_connect_timeout = 6s'
                             '\nrepo_request_timeout = 8s\n' % MAX_INDEX)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-repo-test-")
        cls.crt, cls.key = make_cert(cls.tmp, "repo")
        cls.root = os.path.join(cls.tmp, "www")
        charts = [("web", "1.0.0"), ("web", "1.1.0"), ("web", "2.0.0"),
                  ("db", "0.1.0")]
        cls.write("charts/index.yaml", index_yaml(charts, {
            c: hashlib.sha256(chart(*c)).hexdigest() for c in charts}))
        for n, v in charts:
            cls.write("charts/%s-%s.tgz" % (n, v), chart(n, v))
            cls.write("tampered/%s-%s.tgz" % (n, v), chart(n, v))
        cls.write("tampered/index.yaml", index_yaml(
            [("web", "2.0.0")], {("web", "2.0.0"): "ab" * 32}))
        cls.write("bad/index.yaml", "apiVersion: v2\nentries: {}\n")
        cls.write("big/index.yaml", index_yaml(
            [("c%d" % i, "1.0.0") for i in range(MAX_INDEX // 40)]))
        cls.server = Server(cls.root, cls.crt, cls.key)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    @classmethod
    def write(cls, path, data):
        path = os.path.join(cls.root, path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)

    def pem(self):
        with open(self.crt, "rb") as f:
            return f.read()

    def run_kubectl(self, *args, stdin=None):
        cmd = ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
               CTX, "--request-timeout=20s"] + list(args)
        return subprocess.run(cmd, input=stdin, capture_output=True,
                              text=True, timeout=60)

    def ok(self, *args, stdin=None):
        out = self.run_kubectl(*args, stdin=stdin)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def apply_repo(self, name, url, **spec):
        spec = dict({"url": url, "credential": {"caData": self.pem().decode()}},
                    **spec)
        obj = {"apiVersion": "application.kubesphere.io/v2", "kind": "Repo",
               "metadata": {"name": name}, "spec": spec}
        return self.run_kubectl("apply", "-f", "-", stdin=json.dumps(obj))

    def url(self, path, port=None):
        return "https://127.0.0.1:%d/%s" % (port or self.server.port, path)

    def repo(self, name):
        return json.loads(self.ok("get", "repo", name, "-o", "json"))

    def settled(self, name, after=""):
        """The Repo's status once a sync after AFTER (a lastUpdateTime or
        message) ended."""
        seen = {}

        def done():
            st = self.repo(name).get("status", {})
            seen.update(st)
            return st.get("state") in ("successful", "failed") and \
                st.get("message") != after
        wait_for(done, 30, "repo %s to sync (%s)" % (name, seen))
        return seen

    def sync(self, name, value):
        before = self.repo(name).get("status", {}).get("message", "")
        self.ok("annotate", "--overwrite", "repo", name,
                "%s=%s" % (SYNC, value))
        return before

    def versions(self, repo):
        out = json.loads(self.ok("get", "appver", "-l",
                                 "%s=%s" % (REPO_LABEL, repo), "-o", "json"))
        return {i["metadata"]["name"]: i for i in out["items"]}

    def test_sync_of_an_index(self):
        out = self.apply_repo("ext", self.url("charts/"),
                              description="a test repository")
        self.assertEqual(out.returncode, 0, out.stderr)
        st = self.settled("ext")
        self.assertEqual(st["state"], "successful", st)
        self.assertIn("2 charts, 3 versions (1 older", st["message"])
        self.assertIn("lastUpdateTime", st)
        got = self.versions("ext")
        self.assertEqual(sorted(got),
                         ["ext-db-0.1.0", "ext-web-1.1.0", "ext-web-2.0.0"])
        web = got["ext-web-2.0.0"]
        self.assertEqual(web["status"]["state"], "active")
        self.assertEqual(web["spec"]["pullUrl"],
                         self.url("charts/web-2.0.0.tgz"))
        self.assertEqual(web["metadata"]["labels"][
            "application.kubesphere.io/app-id"], "ext-web")
        apps = self.ok("get", "app", "-l", "%s=ext" % REPO_LABEL,
                       "--no-headers")
        self.assertEqual(sorted(line.split()[0] for line in apps.splitlines()),
                         ["ext-db", "ext-web"])
        # (the objects kit answers a Table for lists, not for one object)
        table = self.ok("get", "repo").splitlines()
        self.assertEqual(table[0].split(),
                         ["NAME", "URL", "STATE", "LAST", "UPDATE", "AGE"])
        row = [line.split() for line in table if line.startswith("ext ")]
        self.assertEqual(row[0][:3], ["ext", self.url("charts/"),
                                      "successful"])
        # a version the index no longer lists goes with the next sync
        self.write("charts/index.yaml",
                   index_yaml([("web", "2.0.0"), ("web", "1.1.0")]))
        try:
            before = self.sync("ext", "1")
            st = self.settled("ext", before)
            self.assertEqual(st["state"], "successful", st)
            self.assertEqual(sorted(self.versions("ext")),
                             ["ext-web-1.1.0", "ext-web-2.0.0"])
            out = self.run_kubectl("get", "app", "ext-db")
            self.assertIn("NotFound", out.stderr)
        finally:
            self.write("charts/index.yaml", index_yaml(
                [("web", "1.0.0"), ("web", "1.1.0"), ("web", "2.0.0"),
                 ("db", "0.1.0")]))

    def test_credentials_reach_the_server(self):
        del self.server.auth[:]
        out = self.apply_repo("private", self.url("charts"), credential={
            "username": "ann", "password": "s3cret",
            "caData": base64.b64encode(self.pem()).decode()})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.settled("private")["state"], "successful")
        self.assertIn("Basic " + base64.b64encode(b"ann:s3cret").decode(),
                      self.server.auth)

    def test_redirects(self):
        other = Server(self.root, self.crt, self.key)
        basic = "Basic " + base64.b64encode(b"ann:s3cret").decode()
        creds = {"username": "ann", "password": "s3cret",
                 "caData": self.pem().decode()}
        self.server.redirects.update({
            # relative, then absolute-path: two in a row
            "/r1/index.yaml": "index2.yaml",
            "/r1/index2.yaml": "/charts/index.yaml",
            "/away/index.yaml": "https://127.0.0.1:%d/charts/index.yaml"
                                % other.port,
            "/plain/index.yaml": "http://127.0.0.1:%d/charts/index.yaml"
                                 % self.server.port,
            "/loop/index.yaml": "/loop/index.yaml",
        })
        try:
            del self.server.auth[:]
            self.assertEqual(self.apply_repo("hops", self.url("r1"),
                                             credential=creds).returncode, 0)
            st = self.settled("hops")
            self.assertEqual(st["state"], "successful", st)
            self.assertIn("2 charts, 3 versions", st["message"])
            # the Repo's own host gets the credentials at every hop
            self.assertEqual(self.server.auth, [basic] * 3)
            # another host (another port) never does
            del other.auth[:]
            self.assertEqual(self.apply_repo("away", self.url("away"),
                                             credential=creds).returncode, 0)
            self.assertEqual(self.settled("away")["state"], "successful")
            self.assertEqual(other.auth, [None])
            for name, why in (("plain", "only https:// is fetched"),
                              ("loop", "more than 5 redirects")):
                self.assertEqual(self.apply_repo(
                    name, self.url(name)).returncode, 0)
                st = self.settled(name)
                self.assertEqual(st["state"], "failed", st)
                self.assertIn(why, st["message"])
            self.ok("delete", "repo", "hops", "away", "plain", "loop")
        finally:
            other.stop()
            self.server.redirects.clear()

    def test_failures_end_failed_with_a_message(self):
        for name, path, why in (
                ("missing", "nothing/", "HTTP status 404"),
                ("notv1", "bad", "apiVersion \"v2\" is not v1"),
                ("big", "big", "larger than max_index_bytes (%d)"
                 % MAX_INDEX)):
            out = self.apply_repo(name, self.url(path))
            self.assertEqual(out.returncode, 0, out.stderr)
            st = self.settled(name)
            self.assertEqual(st["state"], "failed", st)
            self.assertIn(why, st["message"])
        # a server that takes the connection and never answers
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(4)
            out = self.apply_repo("silent", self.url(
                "r", silent.getsockname()[1]))
            self.assertEqual(out.returncode, 0, out.stderr)
            st = self.settled("silent")
            self.assertEqual(st["state"], "failed", st)
            self.assertIn("GET " + self.url("r/index.yaml",
                                            silent.getsockname()[1]),
                          st["message"])
        # a server that is not trusted
        out = self.run_kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "application.kubesphere.io/v2", "kind": "Repo",
            "metadata": {"name": "untrusted"},
            "spec": {"url": self.url("charts")}}))
        self.assertEqual(out.returncode, 0, out.stderr)
        st = self.settled("untrusted")
        self.assertEqual(st["state"], "failed", st)

    def test_a_server_that_goes_away(self):
        tmp = tempfile.mkdtemp(prefix="fedgate-repo-gone-")
        try:
            os.makedirs(os.path.join(tmp, "r"))
            with open(os.path.join(tmp, "r", "index.yaml"), "w") as f:
                f.write(index_yaml([("solo", "1.0.0")]))
            server = Server(tmp, self.crt, self.key)
            try:
                out = self.apply_repo("gone", self.url("r", server.port))
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(self.settled("gone")["state"], "successful")
            finally:
                server.stop()
            before = self.sync("gone", "after-stop")
            st = self.settled("gone", before)
            self.assertEqual(st["state"], "failed", st)
            self.assertIn("GET " + self.url("r/index.yaml", server.port),
                          st["message"])
            # what the last good sync made stays
            self.assertEqual(sorted(self.versions("gone")),
                             ["gone-solo-1.0.0"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_refused_specs(self):
        for name, spec, why in (
                ("fast", {"syncPeriod": 100}, "spec.syncPeriod"),
                ("plain", {"url": "http://127.0.0.1/x"}, "TLS only"),
                ("query", {"url": self.url("x?y=1")}, "spec.url"),
                ("main", {}, "hosted repository")):
            out = self.apply_repo(name, spec.pop("url", self.url("charts")),
                                  **spec)
            self.assertNotEqual(out.returncode, 0, name)
            self.assertIn(why, out.stderr)
        out = self.apply_repo("slow", self.url("charts"), syncPeriod=180)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.settled("slow")["state"], "successful")
        # the status is the service's
        out = self.run_kubectl("patch", "repo", "slow", "--subresource",
                               "status", "--type", "merge", "-p",
                               '{"status":{"state":"successful"}}')
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(SYNC, out.stderr)

    def test_mirror(self):
        out = self.apply_repo("copy", self.url("charts"), mirror=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        st = self.settled("copy")
        self.assertEqual(st["state"], "successful", st)
        self.assertIn("mirrored under /helm/copy/", st["message"])
        got = self.versions("copy")
        self.assertEqual(sorted(got),
                         ["copy-db-0.1.0", "copy-web-1.1.0", "copy-web-2.0.0"])
        self.assertEqual(got["copy-web-2.0.0"]["spec"]["pullUrl"],
                         "/helm/copy/charts/web-2.0.0.tgz")
        self.assertEqual(got["copy-web-2.0.0"]["status"]["state"], "active")
        self.assert_mirrored("copy")
        # the copy changes with its source only
        code, _, body = self.curl("/helm/api/copy/charts", "--data-binary",
                                  "@-", input="x")
        self.assertEqual(code, 409, body)
        self.assertIn("mirrors the Repo", body)

    def assert_mirrored(self, repo):
        code, _, body = self.curl("/helm/%s/index.yaml" % repo)
        self.assertEqual(code, 200, body)
        self.assertIn("\"charts/web-2.0.0.tgz\"", body)
        self.assertNotIn("web-1.0.0", body)
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca, "-H",
             "Authorization: Bearer " + self.gw.token, "-o", "-",
             self.gw.base + "/helm/%s/charts/web-2.0.0.tgz" % repo],
            capture_output=True, timeout=30)
        self.assertEqual(out.stdout, chart("web", "2.0.0"), out.stderr)

    def test_mirror_digest_mismatch(self):
        out = self.apply_repo("tampered", self.url("tampered"), mirror=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        st = self.settled("tampered")
        self.assertEqual(st["state"], "failed", st)
        self.assertIn("chart web-2.0.0: its SHA-256 %s is not the digest"
                      % hashlib.sha256(chart("web", "2.0.0")).hexdigest(),
                      st["message"])
        self.assertEqual(self.versions("tampered"), {})

    def test_zz_restart_keeps_the_objects(self):
        out = self.apply_repo("kept", self.url("charts"), mirror=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.settled("kept")["state"], "successful")
        before = self.versions("kept")
        self.assertEqual(self.gw.stop(), 0)
        self.gw.start()
        st = self.settled("kept")
        self.assertEqual(st["state"], "successful", st)
        self.assertEqual(sorted(self.versions("kept")), sorted(before))
        self.assert_mirrored("kept")
        out = self.ok("delete", "repo", "kept")
        self.assertIn("deleted", out)
        wait_for(lambda: not self.versions("kept"), 20,
                 "the deleted repo's versions to go")
        code, _, body = self.curl("/helm/kept/charts/web-2.0.0.tgz")
        self.assertEqual(code, 404, body)


if __name__ == "__main__":
    unittest.main()
