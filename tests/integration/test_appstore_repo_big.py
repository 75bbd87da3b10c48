"""A big external index does not stop the app store (issue 22): a Repo
points at a local TLS static server (test_appstore_repo's) serving an
index.yaml of about 9 MB (400 charts of 40 versions, Helm's usual fields),
which takes the host seconds to parse and turn into objects. Once the
Repo was seen syncing, requests to the service (the Repo itself,
/helm/health) are sampled every 50 ms until the sync ends: none may take
longer than MAX_LATENCY_S (when the loop was blocked, the one sent during
the parse took the whole of it), and the sync still ends successful with
the newest version of each chart."""
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.request

from harness import ADMIN_POLICY, GatewayTest
from test_appstore_repo import Server
from test_direct import make_cert

CTX = "fedgate.fleet"
CHARTS, VERSIONS = 400, 40
# what one request to the service may take while the index is read
MAX_LATENCY_S = 1.0


def big_index():
    out = ["apiVersion: v1", "entries:"]
    for c in range(CHARTS):
        name = "chart%03d" % c
        out.append("  %s:" % name)
        for v in range(VERSIONS):
            out += [
                "  - apiVersion: v2",
                '    appVersion: "1.%d.0"' % v,
                '    created: "2024-01-0%dT10:00:00.000000000Z"' % (1 + v % 9),
                "    description: A Helm chart for Kubernetes that deploys "
                "something rather useful, version %d" % v,
                "    digest: " + hashlib.sha256(
                    ("%s-%d" % (name, v)).encode()).hexdigest(),
                "    home: https://example.com/" + name,
                "    icon: https://example.com/%s.png" % name,
                "    keywords:", "    - web", "    - server",
                "    maintainers:", "    - email: a@example.com",
                "      name: A",
                "    name: " + name,
                "    sources:", "    - https://github.com/example/" + name,
                "    urls:",
                "    - https://example.com/charts/%s-0.%d.0.tgz" % (name, v),
                "    version: 0.%d.0" % v]
    return "\n".join(out) + "\n"


class AppstoreRepoBigTest(GatewayTest):
    policy = ADMIN_POLICY + ('[plugin "appstore"]\nmax_versions_per_chart = 1'
                             '\nmax_index_bytes = 33554432\n')

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-repo-big-")
        cls.crt, cls.key = make_cert(cls.tmp, "repo")
        root = os.path.join(cls.tmp, "www")
        os.makedirs(os.path.join(root, "big"))
        with open(os.path.join(root, "big", "index.yaml"), "w") as f:
            f.write(big_index())
        cls.server = Server(root, cls.crt, cls.key)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def get(self, path):
        """GET PATH on the host as the admin: (seconds taken, JSON body)."""
        ctx = ssl.create_default_context(cafile=self.gw.ca)
        req = urllib.request.Request(
            self.gw.base + path,
            headers={"Authorization": "Bearer " + self.gw.token})
        started = time.monotonic()
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            body = r.read()
        return time.monotonic() - started, json.loads(body or b"null")

    def test_the_service_answers_during_a_big_sync(self):
        with open(self.crt) as f:
            pem = f.read()
        obj = {"apiVersion": "application.kubesphere.io/v2", "kind": "Repo",
               "metadata": {"name": "big"},
               "spec": {"url": "https://127.0.0.1:%d/big" % self.server.port,
                        "credential": {"caData": pem}}}
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context", CTX,
             "--request-timeout=20s", "create", "-f", "-"],
            input=json.dumps(obj), capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        path = "/apis/application.kubesphere.io/v2/repos/big"
        worst, samples, syncing_since = 0.0, 0, None
        deadline = time.monotonic() + 120
        while True:
            took, repo = self.get(path)
            took_health, _ = self.get("/helm/health")
            state = repo.get("status", {}).get("state")
            if syncing_since:  # the answers after it was seen syncing
                worst = max(worst, took, took_health)
            if state == "syncing":
                syncing_since = syncing_since or time.monotonic()
                samples += 1
            elif state in ("successful", "failed"):
                break
            self.assertLess(time.monotonic(), deadline, repo)
            time.sleep(0.05)
        print("syncing %.1f s, %d samples, the slowest answer %.3f s" % (
            time.monotonic() - syncing_since, samples, worst))
        self.assertEqual(state, "successful", repo["status"])
        self.assertIn("%d charts, %d versions" % (CHARTS, CHARTS),
                      repo["status"]["message"])
        self.assertGreater(samples, 10)  # it was seen syncing a while
        self.assertLess(worst, MAX_LATENCY_S)


if __name__ == "__main__":
    unittest.main()
