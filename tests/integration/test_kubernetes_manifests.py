"""packaging/kubernetes/host: `kubectl kustomize` renders what the issue
asks of a host Deployment (restricted pod, probes, resources, conf.d from a
ConfigMap, state from a Secret); the ConfigMap's configuration serves a host
with no members; and kubectl applies the manifests through a real gateway to
a mock member: a server-side dry run stores nothing, a plain apply creates
every object, a second apply changes nothing."""
import os
import subprocess
import unittest

import yaml

from harness import Gateway, SOURCE_DIR, mock_member

MANIFESTS = os.path.join(SOURCE_DIR, "packaging", "kubernetes", "host")
KINDS = {"Namespace", "ServiceAccount", "ConfigMap", "Secret", "Deployment",
         "Service"}


def run(cmd, ok=True, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    if ok and out.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (
            " ".join(cmd), out.returncode, out.stdout, out.stderr))
    return out


def rendered(path=MANIFESTS):
    """The objects `kubectl kustomize PATH` renders, by kind."""
    docs = list(yaml.safe_load_all(run(["kubectl", "kustomize",
                                        path]).stdout))
    return {d["kind"]: d for d in docs}


def assert_restricted(tc, objs):
    """The Deployment in OBJS runs as its ServiceAccount at the restricted
    Pod Security level, every container with limits; returns its pod."""
    pod = objs["Deployment"]["spec"]["template"]["spec"]
    tc.assertTrue(pod["securityContext"]["runAsNonRoot"])
    tc.assertEqual(pod["securityContext"]["seccompProfile"]["type"],
                   "RuntimeDefault")
    tc.assertEqual(pod["serviceAccountName"],
                   objs["ServiceAccount"]["metadata"]["name"])
    for c in pod["initContainers"] + pod["containers"]:
        sc = c["securityContext"]
        tc.assertTrue(sc["readOnlyRootFilesystem"], c["name"])
        tc.assertFalse(sc["allowPrivilegeEscalation"], c["name"])
        tc.assertEqual(sc["capabilities"]["drop"], ["ALL"], c["name"])
        tc.assertIn("limits", c["resources"], c["name"])
    return pod


class KustomizeTest(unittest.TestCase):

    def setUp(self):
        self.objs = rendered()

    def test_objects_and_namespace(self):
        self.assertEqual(set(self.objs), KINDS)
        for kind, o in self.objs.items():
            if kind != "Namespace":
                self.assertEqual(o["metadata"]["namespace"], "fedgate", kind)
        self.assertEqual(self.objs["Namespace"]["metadata"]["labels"]
                         ["pod-security.kubernetes.io/enforce"], "restricted")

    def test_deployment(self):
        pod = assert_restricted(self, self.objs)
        gw = pod["containers"][0]
        self.assertEqual(gw["resources"]["requests"],
                         {"cpu": "100m", "memory": "64Mi"})
        self.assertEqual(gw["ports"][0]["containerPort"], 9443)
        for probe, path in (("livenessProbe", "/livez"),
                            ("readinessProbe", "/readyz")):
            get = gw[probe]["httpGet"]
            self.assertEqual((get["path"], get["scheme"]), (path, "HTTPS"))
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in gw["volumeMounts"]}
        conf = volumes[mounts["/etc/fedgate/conf.d"]]
        self.assertEqual(conf["configMap"]["name"],
                         self.objs["ConfigMap"]["metadata"]["name"])
        self.assertIn("emptyDir", volumes[mounts["/var/lib/fedgate"]])
        secret = [v for v in volumes.values() if "secret" in v][0]
        self.assertEqual(secret["secret"]["secretName"],
                         self.objs["Secret"]["metadata"]["name"])
        svc = self.objs["Service"]["spec"]
        self.assertEqual(svc["selector"], pod_labels(self.objs))
        self.assertEqual(svc["ports"][0]["targetPort"], "https")

    def test_configmap_serves_a_host_without_members(self):
        ini = self.objs["ConfigMap"]["data"]["10-gateway.ini"]
        self.assertIn("listen = 0.0.0.0:9443", ini)
        self.assertNotIn("[member", ini)
        gw = Gateway(members=[])
        self.addCleanup(gw.cleanup)
        gw.write("10-gateway.ini", ini)
        run([os.environ.get("FEDGATE_BIN", "fedgate"), "-c", gw.conf,
             "--check", "--state-dir", gw.state])
        # The pod's own paths and port are not this machine's.
        gw.start(args=["--listen", "127.0.0.1:%d" % gw.port,
                       "--state-dir", gw.state])
        self.addCleanup(gw.stop)
        out = run(["curl", "-sS", "--max-time", "5", "--cacert", gw.ca,
                   gw.base + "/readyz"])
        self.assertEqual(out.stdout, "ok")
        self.assertIn("serving 0 member(s) as host", gw.logs())
        self.assertEqual(gw.stop(), 0)


def pod_labels(objs):
    return objs["Deployment"]["spec"]["template"]["metadata"]["labels"]


class ApplyTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(members=[mock_member("demo", "demo.json")]).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.gw.stop()
        cls.gw.cleanup()
        assert code == 0, "fedgate exited with %s" % code

    def kubectl(self, *args, ok=True, stdin=None):
        return run(["kubectl", "--kubeconfig", self.gw.kubeconfig,
                    "--context", "demo", *args], ok=ok, input=stdin)

    def ours(self):
        out = self.kubectl("get", "deploy,svc,cm,secret,sa", "-n", "fedgate",
                           "-o", "name")
        return sorted(out.stdout.split())

    def test_dry_run_then_apply(self):
        # As on a real cluster, a dry run cannot create in a namespace that
        # does not exist yet.
        out = self.kubectl("apply", "--dry-run=server", "-k", MANIFESTS,
                           ok=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('namespaces "fedgate" not found', out.stderr)

        ns = yaml.safe_dump(rendered()["Namespace"])
        self.kubectl("apply", "-f", "-", stdin=ns)
        out = self.kubectl("apply", "--dry-run=server", "-k", MANIFESTS)
        self.assertEqual(out.stdout.count("(server dry run)"), len(KINDS),
                         out.stdout)
        self.assertEqual(self.ours(), [])

        out = self.kubectl("apply", "-k", MANIFESTS)
        self.assertIn("deployment.apps/fedgate created", out.stdout)
        self.assertEqual(self.ours(), [
            "configmap/fedgate-conf", "deployment.apps/fedgate",
            "secret/fedgate-state", "service/fedgate",
            "serviceaccount/fedgate"])
        out = self.kubectl("get", "deploy", "fedgate", "-n", "fedgate",
                           "-o", "jsonpath={.spec.template.spec.containers[0]"
                           ".resources.requests}")
        self.assertEqual(yaml.safe_load(out.stdout),
                         {"cpu": "100m", "memory": "64Mi"})
        out = self.kubectl("get", "sa", "-n", "fedgate")
        self.assertRegex(out.stdout, r"(?m)^NAME\s+SECRETS\s+AGE\n"
                                     r"fedgate\s+0\s+")

        out = self.kubectl("apply", "-k", MANIFESTS)
        self.assertEqual(out.stdout.count(" unchanged"), len(KINDS),
                         out.stdout)


if __name__ == "__main__":
    unittest.main()
