"""The federation service (plugins/services/federation) on a host with
three mock members m1, m2, m3, driven with kubectl only: a
FederatedDeployment placed on m1 and m2 with an m2 override reaches both
with the right replicas, re-applying it changes nothing, its status
carries each member's state; a missing namespace is created; a cluster
dropped from placement loses the object (kept with kubefed.io/orphan);
an object in m3 the service does not own is AlreadyExists until the
federated object says overwrite; deleting the federated object deletes
it everywhere; a ReplicaSchedulingPreference splits replicas by the
Webster method; a change a member refuses (an immutable field) is that
cluster's UpdateFailed with the member's message; a member kind is
watched while some object placed there uses it."""
import json
import signal
import subprocess
import time
import unittest

from harness import Gateway, GatewayTest, mock_member
from test_rbac import POLICY as RBAC_POLICY, bind_group, shipped_rules

CTX = "fedgate.fleet"
POLICY = '\n[policy]\nchain = admin_token\n[plugin "admin_token"]\n' \
         '[plugin "federation"]\n'

DEPLOY = """apiVersion: types.kubefed.io/v1beta1
kind: FederatedDeployment
metadata:
  name: web
  namespace: %(ns)s
  annotations: {%(annotations)s}
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: web, image: nginx:1.27}]
  placement:
    clusters: [%(clusters)s]
  overrides:
  - clusterName: m2
    clusterOverrides:
    - {path: /spec/replicas, value: 5}
    - {path: /metadata/labels/tier, op: add, value: front}
"""


def deployment(ns="fed", clusters=("m1", "m2"), annotations=""):
    return DEPLOY % {"ns": ns, "annotations": annotations,
                     "clusters": ", ".join("{name: %s}" % c
                                           for c in clusters)}


class FederationBase(GatewayTest):
    """The gateway and members of the tests below, and their helpers."""
    policy = POLICY
    members = [mock_member("m1", "demo.json") + "labels = env=prod\n",
               mock_member("m2", "demo.json"), mock_member("m3", "demo.json")]

    def run_kubectl(self, *args, context=CTX, stdin=None, check=True):
        cmd = ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
               context, "--request-timeout=20s"] + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                             input=stdin)
        if check:
            self.assertEqual(out.returncode, 0, "%s: %s%s" % (
                " ".join(args), out.stdout, out.stderr))
        return out

    def member_get(self, member, *args):
        out = self.run_kubectl("get", "-o", "json", *args, context=member,
                               check=False)
        return json.loads(out.stdout) if out.returncode == 0 else None

    def fed_get(self, resource, name, ns="fed"):
        return json.loads(self.run_kubectl("get", resource, name, "-n", ns,
                                           "-o", "json").stdout)

    def wait(self, what, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail("timed out waiting for " + what)
            time.sleep(0.25)

    def status_of(self, resource, name, ns="fed"):
        return self.fed_get(resource, name, ns).get("status", {})



class FederationTest(FederationBase):
    def test_deployment_propagates_with_overrides(self):
        out = self.run_kubectl("apply", "-f", "-", stdin=deployment())
        self.assertIn("created", out.stdout)
        for member, replicas in (("m1", 2), ("m2", 5)):
            d = self.wait("web in " + member, lambda: self.member_get(
                member, "deployment", "web", "-n", "fed",
                "--show-managed-fields"))
            self.assertEqual(d["spec"]["replicas"], replicas)
            self.assertEqual(d["metadata"]["labels"]["kubefed.io/managed"],
                             "true")
            self.assertEqual(d["metadata"]["labels"].get("tier"),
                             "front" if member == "m2" else None)
            fields = [m["manager"] for m in d["metadata"]["managedFields"]]
            self.assertIn("fedgate", fields)
        # the namespace was made in both
        for member in ("m1", "m2"):
            self.assertIsNotNone(self.member_get(member, "namespace", "fed"))
        self.assertIsNone(self.member_get("m3", "deployment", "web", "-n",
                                          "fed"))
        st = self.wait("propagation", lambda: (
            lambda s: s if s.get("propagated") == "2/2" else None)(
                self.status_of("federateddeployment", "web")))
        self.assertEqual(st["conditions"][0]["type"], "Propagation")
        self.assertEqual(st["conditions"][0]["status"], "True")
        self.assertEqual(sorted(c["name"] for c in st["clusters"]),
                         ["m1", "m2"])
        self.assertTrue(all("status" not in c for c in st["clusters"]), st)
        out = self.run_kubectl("apply", "-f", "-", stdin=deployment())
        self.assertIn("unchanged", out.stdout)

        # the members' status comes back (the mock has no controller: the
        # test writes it), and the READY column adds it up
        for member, ready in (("m1", 2), ("m2", 4)):
            self.run_kubectl(
                "patch", "deployment", "web", "-n", "fed",
                "--subresource=status", "--type=merge", "-p",
                '{"status":{"replicas":%d,"readyReplicas":%d}}' % (ready,
                                                                   ready),
                context=member)
        st = self.wait("ready replicas", lambda: (
            lambda s: s if s.get("ready") == "6/7" else None)(
                self.status_of("federateddeployment", "web")))
        remote = {c["name"]: c["remoteStatus"]["readyReplicas"]
                  for c in st["clusters"]}
        self.assertEqual(remote, {"m1": 2, "m2": 4})
        table = self.run_kubectl("get", "fdeploy", "-n", "fed").stdout
        self.assertEqual(table.split("\n")[0].split(),
                         ["NAME", "CLUSTERS", "READY", "AGE"])
        self.assertEqual(table.split("\n")[1].split()[:3],
                         ["web", "2/2", "6/7"])

        # drift: a scale and a delete in m1 are undone
        self.run_kubectl("scale", "deployment", "web", "-n", "fed",
                         "--replicas=9", context="m1")
        self.wait("m1 scaled back", lambda: self.member_get(
            "m1", "deployment", "web", "-n", "fed")["spec"]["replicas"] == 2,
            timeout=10)
        self.run_kubectl("delete", "deployment", "web", "-n", "fed",
                         context="m1")
        self.wait("m1 made again", lambda: self.member_get(
            "m1", "deployment", "web", "-n", "fed"), timeout=10)

        # m2 dropped: deleted there; m1 kept
        self.run_kubectl("apply", "-f", "-",
                         stdin=deployment(clusters=("m1",)))
        self.wait("web gone from m2", lambda: self.member_get(
            "m2", "deployment", "web", "-n", "fed") is None)
        self.assertIsNotNone(self.member_get("m1", "deployment", "web", "-n",
                                             "fed"))
        st = self.wait("1/1", lambda: (
            lambda s: s if s.get("propagated") == "1/1" else None)(
                self.status_of("federateddeployment", "web")))
        self.assertEqual([c["name"] for c in st["clusters"]], ["m1"])

        # the federated object is held by a finalizer while it is deleted
        obj = self.fed_get("federateddeployment", "web")
        self.assertEqual(obj["metadata"]["finalizers"],
                         ["kubefed.io/sync-controller"])
        # it goes once it is gone everywhere: kubectl delete waits for that
        self.run_kubectl("delete", "federateddeployment", "web", "-n", "fed",
                         "--timeout=45s")
        self.assertIn("NotFound", self.run_kubectl(
            "get", "federateddeployment", "web", "-n", "fed",
            check=False).stderr)
        self.assertIsNone(self.member_get("m1", "deployment", "web", "-n",
                                          "fed"))

    def test_cluster_names_are_checked(self):
        # a cluster name is a member's name and nothing else: no path, no
        # query, no other member behind it
        for bad in ("m1/api/v1/secrets", "m1?x=1", "../m2", "M1", "-m1", ""):
            text = deployment(ns="names").replace(
                "clusters: [{name: m1}, {name: m2}]",
                "clusters: [{name: %s}]" % json.dumps(bad))
            out = self.run_kubectl("apply", "-f", "-", stdin=text,
                                   check=False)
            self.assertNotEqual(out.returncode, 0, bad)
            self.assertIn("spec.placement.clusters[0].name", out.stderr)
        text = deployment(ns="names").replace("- clusterName: m2",
                                              "- clusterName: m2/x")
        out = self.run_kubectl("apply", "-f", "-", stdin=text, check=False)
        self.assertIn("spec.overrides[0].clusterName", out.stderr)

    def test_orphan_keeps_the_object(self):
        ann = '"kubefed.io/orphan": "true"'
        self.run_kubectl("apply", "-f", "-", stdin=deployment(
            ns="orphan", annotations=ann))
        self.wait("web in m2", lambda: self.member_get(
            "m2", "deployment", "web", "-n", "orphan"))
        self.run_kubectl("apply", "-f", "-", stdin=deployment(
            ns="orphan", clusters=("m1",), annotations=ann))
        self.wait("m2 dropped from status", lambda: (
            lambda s: s.get("propagated") == "1/1")(
                self.status_of("federateddeployment", "web", "orphan")))
        self.assertIsNotNone(self.member_get("m2", "deployment", "web", "-n",
                                             "orphan"))

    def test_unowned_object_is_already_exists_until_overwrite(self):
        self.run_kubectl("create", "namespace", "conflict", context="m3")
        self.run_kubectl("create", "configmap", "settings", "-n", "conflict",
                         "--from-literal=mode=theirs", context="m3")
        fcm = """apiVersion: types.kubefed.io/v1beta1
kind: FederatedConfigMap
metadata:
  name: settings
  namespace: conflict
  annotations: {%s}
spec:
  template:
    data: {mode: ours}
  placement:
    clusters: [{name: m3}]
"""
        self.run_kubectl("apply", "-f", "-", stdin=fcm % "")
        st = self.wait("AlreadyExists", lambda: (
            lambda s: s if s.get("conditions") else None)(
                self.status_of("federatedconfigmap", "settings", "conflict")))
        self.assertEqual(st["conditions"][0]["status"], "False")
        self.assertEqual(st["conditions"][0]["reason"], "CheckClusters")
        self.assertEqual(st["clusters"][0]["status"], "AlreadyExists")
        cm = self.member_get("m3", "configmap", "settings", "-n", "conflict")
        self.assertEqual(cm["data"], {"mode": "theirs"})
        self.run_kubectl("apply", "-f", "-", stdin=fcm %
                         '"fedgate.io/conflict-resolution": overwrite')
        self.wait("adopted", lambda: self.member_get(
            "m3", "configmap", "settings", "-n", "conflict")["data"] ==
            {"mode": "ours"})
        st = self.wait("True", lambda: (
            lambda s: s if s.get("propagated") == "1/1" else None)(
                self.status_of("federatedconfigmap", "settings", "conflict")))
        self.assertEqual(st["conditions"][0]["status"], "True")

    def test_immutable_change_is_update_failed_there_only(self):
        self.run_kubectl("apply", "-f", "-", stdin=deployment(ns="immut"))
        self.wait("2/2", lambda: self.status_of(
            "federateddeployment", "web", "immut").get("propagated") == "2/2")
        # m2's override now moves the selector, which a Deployment keeps;
        # m1 takes the new replicas
        moved = deployment(ns="immut").replace(
            "replicas: 2", "replicas: 3").replace(
            "    - {path: /spec/replicas, value: 5}\n",
            "    - {path: /spec/replicas, value: 5}\n"
            "    - {path: /spec/selector/matchLabels/v, op: add, value: '2'}\n"
            "    - {path: /spec/template/metadata/labels/v, op: add, "
            "value: '2'}\n")
        self.assertNotEqual(moved, deployment(ns="immut"))
        self.run_kubectl("apply", "-f", "-", stdin=moved)
        st = self.wait("UpdateFailed in m2", lambda: (
            lambda s: s if any(c.get("status") == "UpdateFailed"
                               for c in s.get("clusters", [])) else None)(
                self.status_of("federateddeployment", "web", "immut")))
        by = {c["name"]: c for c in st["clusters"]}
        self.assertEqual(by["m2"]["status"], "UpdateFailed")
        self.assertIn('Deployment.apps "web" is invalid: spec.selector: '
                      'Invalid value: v1.LabelSelector{MatchLabels:'
                      'map[string]string{"app":"web", "v":"2"}',
                      by["m2"]["message"])
        self.assertIn("field is immutable", by["m2"]["message"])
        self.assertNotIn("status", by["m1"])
        self.assertEqual(st["propagated"], "1/2")
        self.assertEqual(st["conditions"][0]["status"], "False")
        self.wait("m1 updated", lambda: self.member_get(
            "m1", "deployment", "web", "-n", "immut")["spec"]["replicas"] == 3)
        d2 = self.member_get("m2", "deployment", "web", "-n", "immut")
        self.assertEqual(d2["spec"]["selector"], {"matchLabels": {"app": "web"}})
        # the override taken back: m2 is in step again
        self.run_kubectl("apply", "-f", "-", stdin=deployment(ns="immut"))
        self.wait("2/2 again", lambda: self.status_of(
            "federateddeployment", "web", "immut").get("propagated") == "2/2")

    def test_watches_follow_the_objects_placed(self):
        # serviceaccounts: a kind no other test here federates
        fsa = """apiVersion: types.kubefed.io/v1beta1
kind: FederatedServiceAccount
metadata: {name: %s, namespace: wsa}
spec:
  template: {}
  placement: {clusters: [%s]}
"""

        def place(name, *clusters):
            self.run_kubectl("apply", "-f", "-", stdin=fsa % (
                name, ", ".join("{name: %s}" % c for c in clusters)))
            self.wait("%s on %s" % (name, clusters), lambda: all(
                self.member_get(c, "serviceaccount", name, "-n", "wsa")
                for c in clusters))

        def count(line):
            return self.gw.logs().count("federation: %s\n" % line)

        def watching(member, n):
            self.wait("%d watch(es) of %s" % (n, member), lambda: count(
                "watching serviceaccounts in " + member) == n)

        def stopped(member, n):
            self.wait("%d stop(s) of %s" % (n, member), lambda: count(
                "stopped watching serviceaccounts in %s (no object uses it)"
                % member) == n)

        def drift_undone(member, name):
            self.run_kubectl("delete", "serviceaccount", name, "-n", "wsa",
                             context=member)
            self.wait("%s made again in %s" % (name, member), lambda:
                      self.member_get(member, "serviceaccount", name, "-n",
                                      "wsa"), timeout=10)

        place("a", "m1")
        watching("m1", 1)
        place("b", "m1", "m2")
        watching("m2", 1)
        # a moves to m2: m1 still has b
        place("a", "m2")
        self.wait("a gone from m1", lambda: self.member_get(
            "m1", "serviceaccount", "a", "-n", "wsa") is None)
        stopped("m1", 0)
        # b deleted: m1 has nothing left, m2 still has a
        self.run_kubectl("delete", "federatedserviceaccount", "b", "-n",
                         "wsa", "--timeout=30s")
        stopped("m1", 1)
        stopped("m2", 0)
        drift_undone("m2", "a")
        self.run_kubectl("delete", "federatedserviceaccount", "a", "-n",
                         "wsa", "--timeout=30s")
        stopped("m2", 1)
        # needed again: watched again, and drift is seen again
        place("a", "m1")
        watching("m1", 2)
        drift_undone("m1", "a")
        self.assertEqual(count("watching serviceaccounts in m3"), 0)

    def test_cluster_selector_follows_labels(self):
        fcm = """apiVersion: types.kubefed.io/v1beta1
kind: FederatedConfigMap
metadata: {name: picked, namespace: sel}
spec:
  template:
    data: {k: v}
  placement:
    clusterSelector:
      matchLabels: {env: prod}
      matchExpressions: [{key: env, operator: In, values: [prod, staging]}]
"""
        self.run_kubectl("apply", "-f", "-", stdin=fcm)
        self.wait("picked in m1", lambda: self.member_get(
            "m1", "configmap", "picked", "-n", "sel"))
        self.assertIsNone(self.member_get("m2", "configmap", "picked", "-n",
                                          "sel"))
        # the labels move from m1 to m2 (SIGHUP): so does the object
        self.gw.write("20-member.ini", self.members[0].replace(
            "labels = env=prod\n", ""))
        self.gw.write("21-member.ini", self.members[1] + "labels = env=prod\n")
        self.gw.signal(signal.SIGHUP)
        self.wait("picked in m2", lambda: self.member_get(
            "m2", "configmap", "picked", "-n", "sel"))
        st = self.wait("status names m2 only", lambda: (
            lambda s: s if [c["name"] for c in s.get("clusters", [])] ==
            ["m2"] else None)(self.status_of("federatedconfigmap", "picked",
                                             "sel")))
        self.assertEqual(st["propagated"], "1/1")
        # a selector that cannot be read says so
        bad = fcm.replace("operator: In", "operator: Near")
        self.run_kubectl("apply", "-f", "-", stdin=bad)
        cond = self.wait("ComputePlacementFailed", lambda: (
            lambda s: s["conditions"][0] if s.get("conditions") and
            s["conditions"][0].get("reason") == "ComputePlacementFailed"
            else None)(self.status_of("federatedconfigmap", "picked", "sel")))
        self.assertIn("Near", cond["message"])
        # and changes nothing in the members
        self.assertIsNotNone(self.member_get("m2", "configmap", "picked",
                                             "-n", "sel"))

    def test_replica_scheduling_preference(self):
        rsp = """apiVersion: scheduling.kubefed.io/v1alpha1
kind: ReplicaSchedulingPreference
metadata: {name: web, namespace: rsp}
spec:
  targetKind: FederatedDeployment
  totalReplicas: 9
  clusters:
    m1: {weight: 1}
    m2: {weight: 2}
"""
        self.run_kubectl("apply", "-f", "-", stdin=rsp)
        self.run_kubectl("apply", "-f", "-", stdin=deployment(ns="rsp"))

        def replicas():
            got = {}
            for m in ("m1", "m2"):
                d = self.member_get(m, "deployment", "web", "-n", "rsp")
                got[m] = d["spec"]["replicas"] if d else None
            return got
        self.wait("3/6", lambda: replicas() == {"m1": 3, "m2": 6})
        self.run_kubectl("apply", "-f", "-",
                         stdin=deployment(ns="rsp", clusters=("m1",)))
        self.wait("9 on m1", lambda: replicas() == {"m1": 9, "m2": None})


DEV_TOKEN = "dev-token-0123456789abcdef"
RULES = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: federator}
rules:
- apiGroups: [types.kubefed.io]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployer}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: ["*"]
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployment-reader}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch]
---
""" + bind_group("federator", "feds") + """---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: feds-deploy-m1
  annotations: {fedgate.io/clusters: m1}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole,
          name: deployer}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: feds}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: feds-read-m2
  annotations: {fedgate.io/clusters: m2}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole,
          name: deployment-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: feds}]
"""


class FederationRbacTest(FederationBase):
    """The members are called as the user who wrote the spec: a user who
    may deploy in m1 but only read in m2 gets the object in m1, and m2's
    refusal in the status; nothing is applied with the service's rights."""
    policy = RBAC_POLICY + '[plugin "federation"]\n'
    extra_files = dict(shipped_rules(), **{
        "rbac/50-feds.yaml": RULES,
        "tokens.csv": '%s,dev,3001,"feds"\n' % DEV_TOKEN,
    })

    def test_member_refusal_is_per_cluster(self):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context", CTX,
             "--token", DEV_TOKEN, "--request-timeout=20s", "apply", "-f",
             "-"], input=deployment(ns="team"), capture_output=True,
            text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        obj = self.fed_get("federateddeployment", "web", "team")
        writer = json.loads(obj["metadata"]["annotations"][
            "fedgate.io/last-spec-writer"])
        self.assertEqual(writer["user"], "dev")
        self.assertIn("feds", writer["groups"])
        st = self.wait("both clusters reported", lambda: (
            lambda s: s if len(s.get("clusters", [])) == 2 else None)(
                self.status_of("federateddeployment", "web", "team")))
        by = {c["name"]: c for c in st["clusters"]}
        self.assertNotIn("status", by["m1"])
        self.assertEqual(by["m2"]["status"], "CreationFailed")
        self.assertIn("forbidden", by["m2"]["message"])
        self.assertIn('User "dev"', by["m2"]["message"])
        self.assertEqual(st["propagated"], "1/2")
        self.assertEqual(st["conditions"][0]["status"], "False")
        self.assertIsNotNone(self.member_get("m1", "deployment", "web", "-n",
                                             "team"))
        self.assertIsNone(self.member_get("m2", "deployment", "web", "-n",
                                          "team"))
        # the writer annotation is the service's: a client's is replaced
        forged = json.loads(self.run_kubectl(
            "annotate", "federateddeployment", "web", "-n", "team",
            "--overwrite", "-o", "json",
            'fedgate.io/last-spec-writer={"user":"admin","groups":[]}').stdout)
        self.assertEqual(json.loads(forged["metadata"]["annotations"][
            "fedgate.io/last-spec-writer"])["user"], "dev")


CONFIGMAP = """apiVersion: types.kubefed.io/v1beta1
kind: FederatedConfigMap
metadata: {name: cm%d, namespace: stop}
spec:
  template: {data: {k: v}}
  placement: {clusters: [{name: m1}, {name: m2}, {name: m3}]}
"""


class FederationStopTest(unittest.TestCase):
    """A gateway stopped while the service's calls to the members are in
    flight, answered but not yet read, or watching exits cleanly (under
    the sanitizers: touches nothing freed)."""

    def test_stop_while_reconciling(self):
        for delay in (0.0, 0.05, 0.2, 0.5, 1.0):
            gw = Gateway(members=FederationBase.members, policy=POLICY)
            try:
                gw.start()
                out = subprocess.run(
                    ["kubectl", "--kubeconfig", gw.kubeconfig, "--context",
                     CTX, "--request-timeout=20s", "apply", "-f", "-"],
                    input="---\n".join(CONFIGMAP % i for i in range(12)),
                    capture_output=True, text=True, timeout=60)
                self.assertEqual(out.returncode, 0, out.stderr)
                time.sleep(delay)
            finally:
                code = gw.stop()
                logs = gw.logs()
                gw.cleanup()
            self.assertEqual(code, 0, "after %.2f s: %s" % (delay, logs))


if __name__ == "__main__":
    unittest.main()
