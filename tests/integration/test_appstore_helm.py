"""The app store's Helm chart repository on a real host gateway with the
shipped chain (admin_token, the token file, rbac) and a rule file for the
repository: charts pushed with curl as ChartMuseum's clients push them (raw
body and multipart chart + prov, Basic auth with the token as password, as
Helm sends it), index.yaml read with PyYAML and checked by Helm's rules,
downloads whose SHA-256 is the index's digest, 409 and ?force, delete, each
class of bad chart refused with a 400 naming it and nothing left behind,
403 for users without the right verb, and a reload (SIGHUP) and a
restart that keep it all."""
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import unittest

import yaml

from harness import GatewayTest, wait_for
from test_rbac import POLICY as RBAC_POLICY, bind_group, shipped_rules

TOKENS = {
    "ada": ("ada-token-0123456789abcdef", "platform-admins"),
    "pia": ("pia-token-0123456789abcdef", "chart-pushers"),
    "ron": ("ron-token-0123456789abcdef", "chart-readers"),
    "nob": ("nob-token-0123456789abcdef", "nobody"),
}

RULES = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: chart-pusher
rules:
- apiGroups: ["application.kubesphere.io"]
  resources: ["repos"]
  resourceNames: ["main"]
  verbs: ["get", "create", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: chart-reader
rules:
- apiGroups: ["application.kubesphere.io"]
  resources: ["repos"]
  verbs: ["get"]
- nonResourceURLs: ["/helm/health"]
  verbs: ["get"]
"""
RULES += """---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: public-pull
rules:
- apiGroups: ["application.kubesphere.io"]
  resources: ["repos"]
  resourceNames: ["team"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: public-pull
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: public-pull
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:unauthenticated
"""
RULES += "".join("---\n" + bind_group(role, group) for role, group in (
    ("chart-pusher", "chart-pushers"),
    ("chart-reader", "chart-readers"),
))

POLICY = RBAC_POLICY + """[plugin "appstore"]
repositories = main, team
max_chart_bytes = 262144
max_file_bytes = 65536
max_expanded_bytes = 1048576
"""

# Helm's repo.ChartVersion fields (Metadata + urls, created, removed,
# digest): index.yaml is read strictly, anything else fails `helm repo add`.
CHART_VERSION_FIELDS = {
    "name", "home", "sources", "version", "description", "keywords",
    "maintainers", "icon", "apiVersion", "condition", "tags", "appVersion",
    "deprecated", "annotations", "kubeVersion", "dependencies", "type",
    "urls", "created", "removed", "digest"}


def chart_yaml(name, version, app="1.0"):
    return ("apiVersion: v2\nname: %s\nversion: %s\nappVersion: %s\n"
            "description: a test chart\n" % (name, version, app)).encode()


def tgz(entries, fmt=tarfile.PAX_FORMAT):
    """ENTRIES: (name, bytes) files, or (name, TarInfo type, linkname)."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=fmt) as tf:
        for e in entries:
            ti = tarfile.TarInfo(e[0])
            if len(e) == 2:
                ti.size = len(e[1])
                tf.addfile(ti, io.BytesIO(e[1]))
            else:
                ti.type = e[1]
                ti.linkname = e[2]
                tf.addfile(ti)
    return gzip.compress(bio.getvalue(), mtime=0)


def chart(name, version, app="1.0"):
    return tgz([(name + "/Chart.yaml", chart_yaml(name, version, app)),
                (name + "/values.yaml", b"replicas: 1\n"),
                (name + "/templates/cm.yaml", b"kind: ConfigMap\n")])


def prov(name, version, archive):
    """A provenance file as `helm package --sign` writes it (the signature
    is the client's to check; the repository checks it names ARCHIVE)."""
    return ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n%s\n...\n"
            "files:\n  %s-%s.tgz: sha256:%s\n-----BEGIN PGP SIGNATURE-----\n"
            "\nwsBcBAEBCgAQ\n-----END PGP SIGNATURE-----\n"
            % (chart_yaml(name, version).decode(), name, version,
               hashlib.sha256(archive).hexdigest())).encode()


class AppstoreHelmTest(GatewayTest):
    policy = POLICY
    extra_files = dict(shipped_rules(), **{
        "rbac/50-charts.yaml": RULES,
        "tokens.csv": "".join('%s,%s,%d,"%s"\n' % (t, u, 1000 + i, g)
                              for i, (u, (t, g)) in enumerate(TOKENS.items()))
    })

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files = tempfile.mkdtemp(prefix="fedgate-charts-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.files, ignore_errors=True)
        super().tearDownClass()

    def file(self, name, data):
        path = os.path.join(self.files, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def call(self, method, path, user="pia", args=(), basic=True):
        """curl as USER (Basic with the token as password, as Helm sends
        it; else Bearer): (status, body bytes)."""
        cmd = ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca,
               "-X", method, "-o", "-", "-w", "\n%{http_code}"]
        if user and basic:
            cmd += ["-u", "%s:%s" % (user, TOKENS[user][0])]
        elif user:
            cmd += ["-H", "Authorization: Bearer " + TOKENS[user][0]]
        if method == "HEAD":
            cmd[cmd.index("-X"):cmd.index("-X") + 2] = ["-I"]
        out = subprocess.run(cmd + list(args) + [self.gw.base + path],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, code = out.stdout.rpartition(b"\n")
        return int(code), body

    def push(self, data, user="pia", query="", repo="main"):
        path = self.file("push.tgz", data)
        return self.call("POST", "/helm/api/%s/charts%s" % (repo, query), user,
                         ["--data-binary", "@" + path, "-H",
                          "Content-Type: application/gzip"])

    def index(self, repo="main", user="ron"):
        code, body = self.call("GET", "/helm/%s/index.yaml" % repo, user)
        self.assertEqual(code, 200, body)
        return body, yaml.safe_load(body)

    def blobs(self):
        return sorted(os.listdir(os.path.join(self.gw.state, "appstore",
                                              "blobs")))

    def check_index(self, doc, repo="main"):
        """Helm's rules for a repository index."""
        self.assertEqual(set(doc), {"apiVersion", "entries", "generated",
                                    "serverInfo"})
        self.assertEqual(doc["apiVersion"], "v1")
        self.assertEqual(doc["serverInfo"], {"contextPath": "/helm/" + repo})
        for name, versions in doc["entries"].items():
            for v in versions:
                self.assertLessEqual(set(v), CHART_VERSION_FIELDS)
                self.assertEqual(v["name"], name)
                self.assertIsInstance(v["version"], str)
                for url in v["urls"]:
                    self.assertFalse(url.startswith("/") or "://" in url, url)
                # the digest is the downloaded file's SHA-256
                code, data = self.call("GET", "/helm/%s/%s" % (repo,
                                                               v["urls"][0]),
                                       "ron")
                self.assertEqual(code, 200)
                self.assertEqual(hashlib.sha256(data).hexdigest(),
                                 v["digest"])
            keys = [tuple(int(x) for x in v["version"].split("-")[0]
                          .split(".")) for v in versions]
            self.assertEqual(keys, sorted(keys, reverse=True))

    def test_01_push_pull_force_delete(self):
        self.assertEqual(self.call("GET", "/helm/health", None)[0], 401)
        code, body = self.call("GET", "/helm/health", "ron")
        self.assertEqual((code, json.loads(body)), (200, {"healthy": True}))
        a, b = chart("web", "1.9.0"), chart("web", "1.10.0", "1.10")
        self.assertEqual(self.push(a), (201, b'{"saved":true}'))
        # multipart, with a provenance file, as helm cm-push sends them
        code, body = self.call("POST", "/helm/api/main/charts", "pia", [
            "-F", "chart=@" + self.file("b.tgz", b),
            "-F", "prov=@" + self.file("b.prov", prov("web", "1.10.0", b))])
        self.assertEqual((code, body), (201, b'{"saved":true}'))
        self.assertEqual(self.push(chart("api", "0.1.0-rc.1"))[0], 201)
        raw, doc = self.index()
        self.check_index(doc)
        self.assertEqual([v["version"] for v in doc["entries"]["web"]],
                         ["1.10.0", "1.9.0"])
        self.assertIn(b'appVersion: "1.10"', raw)
        self.assertEqual(doc["entries"]["web"][0]["appVersion"], "1.10")
        code, data = self.call("GET", "/helm/main/charts/web-1.10.0.tgz", "ron")
        self.assertEqual((code, data), (200, b))
        code, data = self.call("GET", "/helm/main/charts/web-1.10.0.tgz.prov",
                               "ron", basic=False)
        self.assertEqual((code, data), (200, prov("web", "1.10.0", b)))
        # a provenance file for other bytes than the chart's is refused
        code, body = self.call("POST", "/helm/api/main/prov?force", "pia", [
            "--data-binary", "@" + self.file("x.prov",
                                             prov("web", "1.10.0", a))])
        self.assertEqual(code, 400, body)
        self.assertIn("is not the chart's", json.loads(body)["error"])
        # the same version again: 409; ?force replaces it
        code, body = self.push(chart("web", "1.9.0", "2"))
        self.assertEqual((code, json.loads(body)),
                         (409, {"error": "web-1.9.0.tgz already exists"}))
        self.assertEqual(self.push(chart("web", "1.9.0", "2"),
                                   query="?force")[0], 201)
        _, doc = self.index()
        self.assertEqual(doc["entries"]["web"][1]["appVersion"], "2")
        # the chart API
        code, body = self.call("GET", "/helm/api/main/charts", "ron")
        self.assertEqual(sorted(json.loads(body)), ["api", "web"])
        code, body = self.call("GET", "/helm/api/main/charts/web/1.10.0",
                               "ron")
        self.assertEqual(json.loads(body)["digest"],
                         hashlib.sha256(b).hexdigest())
        self.assertEqual(self.call("HEAD", "/helm/api/main/charts/web",
                                   "ron")[0], 200)
        self.assertEqual(self.call("HEAD", "/helm/api/main/charts/nope",
                                   "ron")[0], 404)
        # delete
        code, body = self.call("DELETE", "/helm/api/main/charts/api/0.1.0-rc.1")
        self.assertEqual((code, body), (200, b'{"deleted":true}'))
        self.assertEqual(self.call("GET", "/helm/api/main/charts/api",
                                   "ron")[0], 404)
        _, doc = self.index()
        self.assertEqual(sorted(doc["entries"]), ["web"])
        self.check_index(doc)
        # the other repository is its own
        self.assertEqual(self.index("team", "ada")[1]["entries"], {})

    def test_02_bad_charts_leave_nothing(self):
        cy = chart_yaml("bad", "1.0.0")
        big = os.urandom(70000)
        cases = [
            (b"not a chart", "not gzip"),
            (tgz([("bad/Chart.yaml", cy), ("/etc/x", b"x")]), "absolute"),
            (tgz([("bad/Chart.yaml", cy), ("bad/../../x", b"x")]), '".."'),
            (tgz([("bad/Chart.yaml", cy), ("bad\\..\\x", b"x")]),
             "backslash"),
            (tgz([("bad/Chart.yaml", cy),
                  ("bad/l", tarfile.SYMTYPE, "/etc/passwd")]),
             "only regular files"),
            (tgz([("bad/Chart.yaml", cy),
                  ("bad/h", tarfile.LNKTYPE, "bad/Chart.yaml")]),
             "only regular files"),
            (tgz([("bad/Chart.yaml", cy), ("other/x", b"x")]),
             "more than one top-level folder"),
            (tgz([("bad/values.yaml", b"a: 1\n")]), "Chart.yaml is missing"),
            (tgz([("bad/Chart.yaml", chart_yaml("bad", "1.0"))]), "SemVer"),
            (tgz([("bad/Chart.yaml", b"apiVersion: v3\nname: bad\n"
                   b"version: 1.0.0\n")]), "v1 or v2"),
            (tgz([("bad/Chart.yaml", b"apiVersion: v2\nname: a/b\n"
                   b"version: 1.0.0\n")]), "is invalid"),
            (tgz([("bad/Chart.yaml", cy), ("bad/big", big)]),
             "max_file_bytes"),
            (tgz([("bad/Chart.yaml", cy)] + [("bad/z%d" % i, bytes(60000))
                                            for i in range(20)]),
             "max_expanded_bytes"),
            (tgz([("bad/Chart.yaml", cy)] + [("bad/r%d" % i,
                                             os.urandom(60000))
                                            for i in range(5)]),
             "max_chart_bytes"),
            (tgz([("bad/Chart.yaml", cy)], tarfile.GNU_FORMAT)[:-12],
             "chart archive"),
        ]
        before_index = self.index()[1]["entries"]
        before_blobs = self.blobs()
        for data, want in cases:
            code, body = self.push(data)
            self.assertEqual(code, 400, (want, body))
            self.assertIn(want, json.loads(body)["error"])
            self.assertEqual(self.index()[1]["entries"], before_index)
            self.assertEqual(self.blobs(), before_blobs)
        # multipart with a bad chart: also nothing
        code, body = self.call("POST", "/helm/api/main/charts", "pia", [
            "-F", "chart=@" + self.file("bad.tgz", cases[1][0])])
        self.assertEqual(code, 400, body)
        self.assertEqual(self.blobs(), before_blobs)

    def test_03_rights(self):
        data = chart("ro", "1.0.0")
        for user, basic in (("ron", True), ("nob", False)):
            code, body = self.push(data, user)
            self.assertEqual(code, 403, body)
            status = json.loads(body)
            self.assertEqual((status["kind"], status["reason"]),
                             ("Status", "Forbidden"))
            self.assertIn("repos", status["message"])
        code, body = self.call("GET", "/helm/main/index.yaml", "nob")
        self.assertEqual(code, 403, body)
        # pia pushes to main only; ron deletes nothing
        self.assertEqual(self.push(data, "pia", repo="team")[0], 403)
        self.assertEqual(self.call("DELETE",
                                   "/helm/api/main/charts/web/1.9.0",
                                   "ron")[0], 403)
        # no credentials: pulls are system:anonymous's, as RBAC says (the
        # team repository is public); anything else needs a login
        self.assertEqual(self.call("GET", "/helm/team/index.yaml", None)[0],
                         200)
        code, body = self.call("GET", "/helm/main/index.yaml", None)
        self.assertEqual(code, 403, body)
        self.assertIn("system:anonymous", json.loads(body)["message"])
        self.assertEqual(self.call("GET", "/helm/api/team/charts", None)[0],
                         401)
        self.assertEqual(self.push(data, None, repo="team")[0], 401)
        # a wrong password is no token: 401
        out = subprocess.run(
            ["curl", "-sS", "--cacert", self.gw.ca, "-u", "pia:wrong", "-o",
             "/dev/null", "-w", "%{http_code}",
             self.gw.base + "/helm/main/index.yaml"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout, "401")

    def test_04_reload_and_restart_keep_everything(self):
        _, before = self.index()
        blobs = self.blobs()
        mark = len(self.gw.logs())
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: "reload" in self.gw.logs()[mark:], 10, "the reload")
        self.assertEqual(self.index()[1]["entries"], before["entries"])
        self.assertEqual(self.gw.stop(), 0)
        self.gw.start()
        _, after = self.index()
        self.assertEqual(after["entries"], before["entries"])
        self.assertEqual(self.blobs(), blobs)
        self.check_index(after)


if __name__ == "__main__":
    unittest.main()
