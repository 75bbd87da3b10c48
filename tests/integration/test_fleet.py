"""The host's own API: Cluster objects of cluster.kubesphere.io/v1alpha1.

A host with two mock members (one of them the host's own cluster) and a
direct member that is a member-role fedgate; driven with kubectl (get as
a Table, -o yaml, -o wide, explain, -w), curl (discovery, Status answers,
watch from a resourceVersion) and the Python client's CustomObjectsApi
(list and watch). Stopping the direct member turns its Ready condition
False within the configured bound, seen by both watches. Every process
is stopped by its pid."""
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import yaml

from harness import FEDGATE, Gateway, mock_member, wait_for

CTX = "fedgate.fleet"
FEDGATECTL = os.path.join(os.path.dirname(FEDGATE), "fedgatectl")
GROUP, VERSION = "cluster.kubesphere.io", "v1alpha1"
# health_interval 300ms, 3 failures: Ready turns False about 1 s after the
# driver sees the member gone; the direct driver probes every 10 s.
HEALTH = ("host_cluster = host\nhealth_interval = 300ms\n"
          "health_failures = 3\nhealth_successes = 1\n")
FALSE_BOUND_S = 10 + 3 * 0.33 + 8  # probe period, hysteresis, slack


def direct_member(name, gw, extra=""):
    return ('[member "%s"]\ndriver = direct\nserver = https://127.0.0.1:%d\n'
            'ca_file = %s\ntoken_file = %s\nconnect_timeout = 2s\n'
            'labels = env=edge, fedgate.io/zone=lab\nprovider = kind\n%s' %
            (name, gw.port, gw.ca, os.path.join(gw.state, "admin.token"),
             extra))


def ready_of(obj):
    for c in obj.get("status", {}).get("conditions", []):
        if c["type"] == "Ready":
            return c["status"]
    return None


class Fleet(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.member = Gateway(members=[mock_member("edge", "demo.json")],
                             role="member").start()
        cls.host = Gateway(members=[
            mock_member("host", "host.json"),
            mock_member("demo", "demo.json") + "labels = env=demo\n",
            direct_member("edge", cls.member)], extra_gateway=HEALTH)
        try:
            cls.host.start()
        except Exception:
            cls.member.stop()
            cls.member.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.host.stop()
            logs = cls.host.logs()
            cls.host.cleanup()
            if code not in (0, None):
                raise AssertionError("fedgate exited %s:\n%s" % (code, logs))
        finally:
            cls.member.stop()
            cls.member.cleanup()

    def kubectl(self, *args, check=True, context=CTX):
        out = subprocess.run(["kubectl", "--kubeconfig", self.host.kubeconfig,
                              "--context", context, "--request-timeout=20s"]
                             + list(args), capture_output=True, text=True,
                             timeout=60)
        if check:
            self.assertEqual(out.returncode, 0, out.stderr)
        return out

    def curl(self, path, *args):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", self.host.ca,
             "-H", "Authorization: Bearer " + self.host.token, "-D", "-",
             "-o", "-", "-w", "\n%{http_code}"] + list(args) +
            [self.host.base + path], capture_output=True, text=True,
            timeout=40)
        text, _, code = out.stdout.rpartition("\n")
        head, _, body = text.partition("\n\n")  # text mode: CRLF read as LF
        return int(code or 0), head.lower(), body

    def clusters(self):
        return {c["metadata"]["name"]: c for c in json.loads(
            self.kubectl("get", "clusters", "-o", "json").stdout)["items"]}

    def wait_all_ready(self):
        wait_for(lambda: all(ready_of(c) == "True"
                             for c in self.clusters().values()), 40,
                 "every Cluster Ready")

    def test_1_table_and_versions(self):
        self.wait_all_ready()
        out = self.kubectl("get", "clusters").stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "TYPE", "READY", "VERSION",
                                          "AGE"])
        rows = {line.split()[0]: line.split() for line in out[1:]}
        self.assertEqual(sorted(rows), ["demo", "edge", "host"])
        self.assertEqual(rows["edge"][1:3], ["direct", "True"])
        self.assertEqual(rows["host"][1:3], ["mock", "True"])
        self.assertTrue(rows["edge"][3].startswith("v1."), rows["edge"])
        wide = self.kubectl("get", "clusters", "-o", "wide").stdout
        head = wide.splitlines()[0].split()
        self.assertEqual(head[5:], ["PROVIDER", "TUNNELS", "RTT", "LABELS"])
        edge = [l for l in wide.splitlines() if l.startswith("edge ")][0]
        self.assertIn("kind", edge.split())
        self.assertIn("env=edge,fedgate.io/zone=lab", edge)
        one = self.kubectl("get", "cluster", "edge").stdout
        self.assertIn("direct", one)
        one = self.kubectl("get", "cluster", "demo", "-w",
                           "--request-timeout=2s", check=False).stdout
        self.assertEqual([l.split()[0] for l in one.splitlines()[1:]],
                         ["demo"])

    def test_2_object(self):
        obj = json.loads(self.kubectl("get", "cluster", "host", "-o",
                                      "json").stdout)
        self.assertEqual(obj["kind"], "Cluster")
        self.assertEqual(obj["apiVersion"], GROUP + "/" + VERSION)
        self.assertEqual(obj["metadata"]["labels"],
                         {"cluster-role.kubesphere.io/host": ""})
        edge = json.loads(self.kubectl("get", "cluster", "edge", "-o",
                                       "json").stdout)
        conn = edge["spec"]["connection"]
        self.assertEqual(conn["type"], "direct")
        self.assertEqual(conn["server"],
                         "https://127.0.0.1:%d" % self.member.port)
        self.assertEqual(conn["ca_file"], self.member.ca)
        # never a secret, nor where one is kept
        self.assertNotIn("token_file", conn)
        self.assertNotIn(self.member.token, json.dumps(edge))
        self.assertEqual(edge["spec"]["provider"], "kind")
        self.assertEqual(edge["metadata"]["labels"],
                         {"env": "edge", "fedgate.io/zone": "lab"})
        self.assertNotIn("cluster-role.kubesphere.io/host",
                         edge["metadata"]["labels"])
        demo = self.clusters()["demo"]
        self.assertGreater(demo["status"]["nodeCount"], 0)
        # direct: counted by the probe's GET /api/v1/nodes?limit=1 (one
        # item and remainingItemCount), the member's mock has demo's nodes
        wait_for(lambda: self.clusters()["edge"]["status"].get(
            "nodeCount") == demo["status"]["nodeCount"], 30,
            "edge's nodeCount from its probe")
        self.assertNotIn("KubeConfigCertExpiresInSevenDays", json.dumps(edge))
        text = self.kubectl("get", "cluster", "demo", "-o", "yaml").stdout
        self.assertIn("kind: Cluster", text)
        self.assertIn("type: Ready", text)
        self.assertIn("lastTransitionTime:", text)
        missing = self.kubectl("get", "cluster", "nope", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn('clusters.cluster.kubesphere.io "nope" not found',
                      missing.stderr)
        hosts = [c for c in self.clusters().values()
                 if "cluster-role.kubesphere.io/host" in
                 c["metadata"].get("labels", {})]
        self.assertEqual(len(hosts), 1)

    def test_3_explain_and_discovery(self):
        out = self.kubectl("explain", "clusters").stdout
        self.assertIn("KIND:       Cluster", out)
        out = self.kubectl("explain", "clusters.status.conditions").stdout
        self.assertIn("lastTransitionTime", out)
        out = self.kubectl("api-resources").stdout
        self.assertIn("cluster.kubesphere.io/v1alpha1", out)
        agg = "application/json;g=apidiscovery.k8s.io;v=v2;" \
              "as=APIGroupDiscoveryList,application/json"
        code, head, body = self.curl("/apis", "-H", "Accept: " + agg)
        self.assertEqual(code, 200)
        self.assertIn("as=apigroupdiscoverylist", head)
        doc = json.loads(body)
        self.assertEqual(doc["kind"], "APIGroupDiscoveryList")
        res = doc["items"][0]["versions"][0]["resources"][0]
        self.assertEqual((res["resource"], res["scope"]),
                         ("clusters", "Cluster"))
        code, head, body = self.curl("/apis")
        self.assertEqual(json.loads(body)["kind"], "APIGroupList")
        code, _, body = self.curl("/api")
        self.assertEqual(json.loads(body)["versions"], [])
        for path in ("/apis/" + GROUP, "/apis/%s/%s" % (GROUP, VERSION),
                     "/openapi/v3", "/openapi/v3/apis/%s/%s" % (GROUP,
                                                              VERSION)):
            code, _, body = self.curl(path)
            self.assertEqual(code, 200, path)
            json.loads(body)

    def test_4_refusals(self):
        base = "/apis/%s/%s/clusters" % (GROUP, VERSION)
        for method, want in (("POST", 405), ("PUT", 400), ("DELETE", 422)):
            code, _, body = self.curl(base + "/demo", "-X", method)
            self.assertEqual(code, want, method)
            self.assertEqual(json.loads(body)["kind"], "Status")
        code, _, body = self.curl(base, "-X", "DELETE")
        self.assertEqual(code, 405)
        code, _, body = self.curl("/apis/%s/%s/namespaces/x/clusters" %
                                  (GROUP, VERSION))
        self.assertEqual(code, 404)
        code, _, body = self.curl(base + "?watch=1&resourceVersion=1")
        self.assertEqual(code, 200)
        ev = json.loads(body.splitlines()[0])
        self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))
        for bad in ("abc", "-1", "1x"):
            code, _, _ = self.curl(base + "?watch=1&resourceVersion=" + bad)
            self.assertEqual(code, 400, bad)
        for query in ("fieldSelector=metadata.name%3Ddemo&",
                      "fieldSelector=metadata.name%3D%3Ddemo&"):
            code, _, body = self.curl(base + "?" + query + "watch=1&"
                                      "timeoutSeconds=1")
            self.assertEqual([json.loads(l)["object"]["metadata"]["name"]
                              for l in body.splitlines()], ["demo"], query)
            code, _, body = self.curl(base + "?" + query.rstrip("&"))
            self.assertEqual([i["metadata"]["name"] for i in
                              json.loads(body)["items"]], ["demo"], query)
        code, _, body = self.curl(base + "?fieldSelector=spec.provider%3Dx")
        self.assertEqual(code, 400)
        self.assertIn("metadata.name=NAME", json.loads(body)["message"])
        code, _, body = self.curl(base + "?watch=1&timeoutSeconds=1")
        self.assertEqual(code, 200)
        names = [json.loads(l)["object"]["metadata"]["name"]
                 for l in body.splitlines() if l.strip()]
        self.assertEqual(sorted(names), ["demo", "edge", "host"])

    def test_4b_label_selectors(self):
        def names(selector):
            out = self.kubectl("get", "clusters", "-l", selector, "-o",
                               "name")
            return sorted(l.rpartition("/")[2] for l in out.stdout.split())
        for selector, want in (("env=demo", ["demo"]),
                               ("env==demo", ["demo"]),
                               ("env in (demo, edge)", ["demo", "edge"]),
                               ("env notin (demo)", ["edge", "host"]),
                               ("env!=edge", ["demo", "host"]),
                               ("fedgate.io/zone", ["edge"]),
                               ("!env", ["host"]),
                               ("env=edge,fedgate.io/zone=lab", ["edge"]),
                               ("env=none", [])):
            self.assertEqual(names(selector), want, selector)
        base = "/apis/%s/%s/clusters" % (GROUP, VERSION)
        code, _, body = self.curl(base + "?watch=1&timeoutSeconds=1&"
                                  "labelSelector=env%20in%20(demo)")
        self.assertEqual([json.loads(l)["object"]["metadata"]["name"]
                          for l in body.splitlines() if l.strip()], ["demo"])
        for bad in ("env%20in%20demo", "a%3D%3D%3Db", "(x)", "a,"):
            code, _, body = self.curl(base + "?labelSelector=" + bad)
            self.assertEqual(code, 400, bad)
            self.assertIn("unable to parse requirement",
                          json.loads(body)["message"])

    def test_5_python_client(self):
        from kubernetes import client, config, watch
        api = client.CustomObjectsApi(config.new_client_from_config(
            self.host.kubeconfig, context=CTX))
        got = api.list_cluster_custom_object(GROUP, VERSION, "clusters")
        self.assertEqual(sorted(i["metadata"]["name"] for i in got["items"]),
                         ["demo", "edge", "host"])
        one = api.get_cluster_custom_object(GROUP, VERSION, "clusters",
                                            "demo")
        self.assertEqual(one["metadata"]["labels"], {"env": "demo"})
        seen = []
        for ev in watch.Watch().stream(api.list_cluster_custom_object, GROUP,
                                       VERSION, "clusters",
                                       timeout_seconds=1):
            seen.append((ev["type"], ev["object"]["metadata"]["name"]))
        self.assertEqual(sorted(seen), [("ADDED", "demo"), ("ADDED", "edge"),
                                        ("ADDED", "host")])

    def ctl(self, *args, env=None):
        return subprocess.run([FEDGATECTL, "clusters", *args],
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, **(env or {})))

    def test_6_fedgatectl(self):
        self.wait_all_ready()
        kc = self.host.kubeconfig
        for how in (["--kubeconfig", kc], ["-c", self.host.conf]):
            out = self.ctl(*how)
            self.assertEqual(out.returncode, 0, out.stderr)
            lines = out.stdout.splitlines()
            self.assertEqual(lines[0].split(),
                             ["NAME", "TYPE", "READY", "VERSION", "AGE"])
            self.assertEqual(sorted(l.split()[0] for l in lines[1:]),
                             ["demo", "edge", "host"])
        out = self.ctl(env={"KUBECONFIG": kc + ":/nonexistent"})
        self.assertEqual(out.returncode, 0, out.stderr)
        wide = self.ctl("--kubeconfig", kc, "-o", "wide").stdout
        self.assertEqual(wide.splitlines()[0].split()[5:],
                         ["PROVIDER", "TUNNELS", "RTT", "LABELS"])
        got = json.loads(self.ctl("--kubeconfig", kc, "-o", "json").stdout)
        self.assertEqual(got["kind"], "ClusterList")
        # the YAML printer writes the same document (the fleet is steady)
        self.assertEqual(yaml.safe_load(self.ctl("--kubeconfig", kc, "-o",
                                                 "yaml").stdout), got)
        # a member's context: the path is dropped, the host's API answers
        out = self.ctl("--kubeconfig", kc, "--context", "demo")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.ctl("--help").returncode, 0)
        for bad in (["-o", "xml"], ["extra"], ["--context", "nope",
                                               "--kubeconfig", kc],
                    ["--kubeconfig", "/nonexistent"]):
            out = self.ctl(*bad)
            self.assertEqual(out.returncode, 2, bad)
            self.assertTrue(out.stderr, bad)
        with open(kc) as f:
            cfg = json.load(f)
        wrong = os.path.join(self.host.tmp, "wrong.kubeconfig")
        cfg["users"][0]["user"]["token"] = "0" * 64
        with open(wrong, "w") as f:
            json.dump(cfg, f)
        out = self.ctl("--kubeconfig", wrong)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("answered 401", out.stderr)
        for c in cfg["clusters"]:
            c["cluster"]["server"] = "https://127.0.0.1:1"
        with open(wrong, "w") as f:
            json.dump(cfg, f)
        out = self.ctl("--kubeconfig", wrong)
        self.assertEqual(out.returncode, 3, out.stderr)

    def test_9_member_down(self):
        """Last: stops the direct member; kubectl get -w and the Python
        client's watch both see edge's Ready turn False in bound."""
        from kubernetes import client, config, watch
        self.wait_all_ready()
        rv = json.loads(self.kubectl("get", "clusters", "-o", "json")
                        .stdout)["metadata"]["resourceVersion"]
        kw = subprocess.Popen(
            ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
             CTX, "get", "clusters", "-w", "--output-watch-events"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in kw.stdout],
                         daemon=True).start()
        api = client.CustomObjectsApi(config.new_client_from_config(
            self.host.kubeconfig, context=CTX))
        events = queue.Queue()

        def py_watch():
            w = watch.Watch()
            for ev in w.stream(api.list_cluster_custom_object, GROUP,
                               VERSION, "clusters", resource_version=rv,
                               timeout_seconds=int(FALSE_BOUND_S) + 10):
                events.put(ev)
        threading.Thread(target=py_watch, daemon=True).start()
        try:
            time.sleep(1)  # both watches open
            t0 = time.monotonic()
            self.member.stop()
            deadline = t0 + FALSE_BOUND_S
            down = None
            while time.monotonic() < deadline and down is None:
                try:
                    ev = events.get(timeout=0.5)
                except queue.Empty:
                    continue
                if ev["object"]["metadata"]["name"] == "edge" and \
                        ready_of(ev["object"]) == "False":
                    down = ev
            self.assertIsNotNone(down, "edge not False within %.0fs" %
                                 FALSE_BOUND_S)
            self.assertEqual(down["type"], "MODIFIED")
            elapsed = time.monotonic() - t0
            cond = [c for c in down["object"]["status"]["conditions"]
                    if c["type"] == "Ready"][0]
            self.assertEqual(cond["reason"], "Unhealthy")
            self.assertTrue(cond["message"])
            print("edge Ready False after %.1fs" % elapsed)
            got = []

            def kubectl_saw():
                while not lines.empty():
                    got.append(lines.get())
                return any(l.split()[:4] == ["MODIFIED", "edge", "direct",
                                             "False"] for l in got)
            wait_for(kubectl_saw, 10, "kubectl get -w to print edge False")
            # the others stayed Ready: no flicker from one member's fall
            for name, c in self.clusters().items():
                self.assertEqual(ready_of(c), "False" if name == "edge"
                                 else "True", name)
        finally:
            kw.terminate()
            kw.wait(10)


class Visible(unittest.TestCase):
    """The shipped chain and conf.d/rbac: every user may list clusters on
    the host's API, and sees only those where their rules give more than
    every user holds: the platform admin all, a viewer of demo and an
    admin of prod-* and demo only demo, a user bound to nothing none (and
    a 404 for one by name), in lists, gets, Tables and watches."""

    USERS = {"ada": "platform-admins", "vic": "demo-viewers",
             "cam": "cluster-admins", "nob": "nobody-binds-this"}

    @classmethod
    def setUpClass(cls):
        from test_rbac import POLICY, shipped_rules
        tokens = "".join('%s-token-0123456789abcdef,%s,%d,"%s"\n' %
                         (u, u, 1000 + i, g)
                         for i, (u, g) in enumerate(cls.USERS.items()))
        files = shipped_rules()
        files["tokens.csv"] = tokens
        cls.gw = Gateway(members=[
            mock_member("host", "host.json"),
            mock_member("demo", "demo.json"),
            mock_member("prod-eu", "demo.json"),
            mock_member("lab", "demo.json")],
            extra_gateway="host_cluster = host\n", extra_files=files,
            policy=POLICY)
        os.chmod(os.path.join(cls.gw.conf, "tokens.csv"), 0o600)
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        code = cls.gw.stop()
        logs = cls.gw.logs()
        cls.gw.cleanup()
        if code != 0:
            raise AssertionError("fedgate exited %s:\n%s" % (code, logs))

    def kubectl(self, user, *args):
        return subprocess.run(
            ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context", CTX,
             "--token", user + "-token-0123456789abcdef",
             "--request-timeout=20s"] + list(args),
            capture_output=True, text=True, timeout=60)

    def test_each_sees_their_clusters(self):
        want = {"ada": ["demo", "host", "lab", "prod-eu"], "vic": ["demo"],
                "cam": ["demo", "prod-eu"], "nob": []}
        for user, names in want.items():
            out = self.kubectl(user, "get", "clusters", "-o", "json")
            self.assertEqual(out.returncode, 0, (user, out.stderr))
            got = sorted(i["metadata"]["name"]
                         for i in json.loads(out.stdout)["items"])
            self.assertEqual(got, names, user)
            table = self.kubectl(user, "get", "clusters",
                                 "--no-headers").stdout
            self.assertEqual(sorted(l.split()[0] for l in
                                    table.splitlines()), names, user)
            watched = self.kubectl(user, "get", "clusters", "-w",
                                   "--no-headers", "--request-timeout=2s")
            self.assertEqual(sorted(l.split()[0] for l in
                                    watched.stdout.splitlines()), names,
                             user)
            for name in ("demo", "lab"):
                one = self.kubectl(user, "get", "cluster", name)
                if name in names:
                    self.assertEqual(one.returncode, 0, one.stderr)
                else:
                    self.assertIn('"%s" not found' % name, one.stderr,
                                  user)

    def test_only_admins_write(self):
        """conf.d/rbac lets only platform admins write clusters: the others
        are forbidden by the chain before anything is read or written (and
        find no cluster they cannot see); the admin reaches the check of
        the object."""
        for user in ("vic", "cam", "nob"):
            for args in (["delete", "cluster", "demo"],
                         ["label", "cluster", "demo", "x=y"]):
                out = self.kubectl(user, *args)
                self.assertNotEqual(out.returncode, 0, (user, args))
                # kubectl label reads first: one nob may not see is not
                # there for nob
                self.assertIn("not found" if user == "nob" and
                              args[0] == "label" else "Forbidden",
                              out.stderr, (user, args))
        out = self.kubectl("ada", "delete", "cluster", "demo")
        self.assertIn("not by a join", out.stderr)
        self.assertEqual(os.listdir(self.gw.conf).count("members"), 0)


class Reload(unittest.TestCase):
    """conf.d is the source of truth: a reload that adds, changes and
    removes members is, on a watch from the list's resourceVersion, one
    ADDED, one MODIFIED and one DELETED event, and the list follows."""

    def test_reload_events(self):
        gw = Gateway(members=[mock_member("host", "host.json"),
                              mock_member("demo", "demo.json"),
                              mock_member("old", "demo.json")])
        try:
            gw.start()
            base = "%s/apis/%s/%s/clusters" % (gw.base, GROUP, VERSION)
            auth = ["-H", "Authorization: Bearer " + gw.token]
            curl = ["curl", "-sS", "--cacert", gw.ca] + auth
            rv = json.loads(subprocess.run(
                curl + [base], capture_output=True, text=True, timeout=30,
                check=True).stdout)["metadata"]["resourceVersion"]
            watch = subprocess.Popen(
                curl + ["-N", "--max-time", "20",
                        base + "?watch=1&resourceVersion=" + rv],
                stdout=subprocess.PIPE, text=True)
            try:
                gw.write("21-member.ini", mock_member("demo", "demo.json") +
                         "labels = env=changed\n")
                os.unlink(os.path.join(gw.conf, "22-member.ini"))
                gw.write("23-member.ini", mock_member("new", "demo.json"))
                gw.signal(signal.SIGHUP)
                seen = {}
                deadline = time.monotonic() + 20
                while len(seen) < 3 and time.monotonic() < deadline:
                    line = watch.stdout.readline()
                    if not line:
                        break
                    ev = json.loads(line)  # the first about each counts
                    seen.setdefault(ev["object"]["metadata"]["name"], ev)
            finally:
                watch.terminate()
                watch.wait(10)
            self.assertEqual({n: e["type"] for n, e in seen.items()},
                             {"demo": "MODIFIED", "old": "DELETED",
                              "new": "ADDED"})
            self.assertEqual(seen["demo"]["object"]["metadata"]["labels"],
                             {"env": "changed"})
            items = json.loads(subprocess.run(
                curl + [base], capture_output=True, text=True, timeout=30,
                check=True).stdout)["items"]
            self.assertEqual([i["metadata"]["name"] for i in items],
                             ["host", "demo", "new"])
            # what was seen of demo stayed: the same object, its uid too
            self.assertEqual(items[1]["metadata"]["uid"],
                             seen["demo"]["object"]["metadata"]["uid"])
        finally:
            code = gw.stop()
            logs = gw.logs()
            gw.cleanup()
            self.assertEqual(code, 0, logs)


class Unreachable(unittest.TestCase):
    """A direct member nothing answers for, reached with a client
    certificate that expires in three days: Ready goes from Unknown to
    False with the driver's reason, and the certificate condition is True
    a week ahead."""

    def test_cert_expiry_and_unreachable(self):
        tmp = tempfile.mkdtemp(prefix="fedgate-fleet-")
        crt, key = os.path.join(tmp, "c.crt"), os.path.join(tmp, "c.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", crt, "-days", "3",
                        "-subj", "/CN=fleet"], check=True,
                       capture_output=True, timeout=30)
        gw = Gateway(members=[
            '[member "gone"]\ndriver = direct\nserver = https://127.0.0.1:1\n'
            'ca_file = %s\nclient_cert_file = %s\nclient_key_file = %s\n'
            'connect_timeout = 1s\n' % (crt, crt, key)],
            extra_gateway="health_interval = 200ms\nhealth_failures = 2\n")
        try:
            gw.start()
            cmd = ["kubectl", "--kubeconfig", gw.kubeconfig, "--context", CTX,
                   "get", "cluster", "gone", "-o", "json"]

            def conds():
                out = subprocess.run(cmd, capture_output=True, text=True,
                                     timeout=30, check=True)
                return {c["type"]: c for c in
                        json.loads(out.stdout)["status"]["conditions"]}
            wait_for(lambda: conds()["Ready"]["status"] == "False", 20,
                     "gone's Ready False")
            c = conds()
            self.assertEqual(c["Ready"]["reason"], "Unhealthy")
            self.assertTrue(c["Ready"]["message"])
            cert = c["KubeConfigCertExpiresInSevenDays"]
            self.assertEqual((cert["status"], cert["reason"]),
                             ("True", "CertificateExpiresSoon"))
            self.assertIn("expires at", cert["message"])
        finally:
            code = gw.stop()
            logs = gw.logs()
            gw.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
            self.assertEqual(code, 0, logs)


class Config(unittest.TestCase):
    def check(self, extra_member="", extra_gateway=""):
        gw = Gateway(members=[mock_member("demo", "demo.json") + extra_member],
                     extra_gateway=extra_gateway)
        try:
            return subprocess.run([FEDGATE, "-c", gw.conf, "--check"],
                                  capture_output=True, text=True, timeout=30)
        finally:
            gw.cleanup()

    def test_labels_checked(self):
        self.assertEqual(self.check("labels = a=b, x.io/y=z_1\n")
                         .returncode, 0)
        for bad, why in (("labels = a\n", "is not KEY=VALUE"),
                         ("labels = -a=b\n", "is not a label key"),
                         ("labels = Bad.Prefix/a=b\n", "is not a label key"),
                         ("labels = a/=b\n", "is not a label key"),
                         ("labels = a=" + "v" * 64 + "\n",
                          "is not a label value"),
                         ("labels = a=b-\n", "is not a label value"),
                         ("labels = a=1, a=2\n", "given twice"),
                         ("labels = cluster-role.kubesphere.io/host=\n",
                          "host_cluster"),
                         ("provider = no way\n", "provider:")):
            out = self.check(bad)
            self.assertNotEqual(out.returncode, 0, bad)
            self.assertIn("20-member.ini:4: ", out.stderr, bad)
            self.assertIn(why, out.stderr, bad)

    def test_host_cluster_checked(self):
        out = self.check(extra_gateway="host_cluster = nope\n")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("10-gateway.ini:5: host_cluster: names no [member]",
                      out.stderr)
        self.assertEqual(self.check(extra_gateway="host_cluster = demo\n")
                         .returncode, 0)


if __name__ == "__main__":
    unittest.main()
