"""The tours every member kind must pass, shared by the tests that reach a
mock member directly, through a direct-driver member and through an agent:
the Python client's (its exec too), and kubectl's logs -f and exec."""
import subprocess
import threading


def python_client_tour(tc, kubeconfig, context):
    """Create, list with label and field selectors, patch, watch while a
    second thread writes, delete: TC is the unittest.TestCase asserting."""
    import kubernetes
    from kubernetes import watch
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig,
                                                   context=context)
    tc.addCleanup(api.close)
    tc.addCleanup(api.rest_client.pool_manager.clear)
    v1 = kubernetes.client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "py"}})
    for i in range(3):
        v1.create_namespaced_config_map("py", {
            "metadata": {"name": "cm%d" % i,
                         "labels": {"app": "py", "n": str(i)}},
            "data": {"i": str(i)}})
    got = v1.list_namespaced_config_map("py", label_selector="app=py,n!=1")
    tc.assertEqual(sorted(c.metadata.name for c in got.items),
                   ["cm0", "cm2"])
    got = v1.list_namespaced_config_map("py",
                                        field_selector="metadata.name=cm1")
    tc.assertEqual([c.metadata.name for c in got.items], ["cm1"])
    v1.patch_namespaced_config_map("cm0", "py", {"data": {"i": "patched"}})
    tc.assertEqual(v1.read_namespaced_config_map("cm0", "py").data["i"],
                   "patched")

    seen = []

    def writer():
        v1.create_namespaced_config_map("py", {"metadata": {"name": "late"}})
        v1.delete_namespaced_config_map("late", "py")

    # The writer starts once the watch delivered its first event, so its
    # changes happen while the stream is open.
    t = threading.Thread(target=writer)
    w = watch.Watch()
    for event in w.stream(v1.list_namespaced_config_map, "py",
                          timeout_seconds=10):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 1:
            t.start()
        if ("DELETED", "late") in seen:
            w.stop()
    t.join(10)
    tc.assertIn(("ADDED", "late"), seen)
    tc.assertIn(("DELETED", "late"), seen)

    v1.delete_namespaced_config_map("cm1", "py")
    names = [c.metadata.name for c in v1.list_namespaced_config_map("py").items]
    tc.assertEqual(sorted(names), ["cm0", "cm2"])
    v1.delete_namespace("py")


def python_exec_tour(tc, kubeconfig, context, pod):
    """The Python client's stream() of exec in POD (namespace shop): the
    output, read until the connection closes, and an exit code."""
    from kubernetes import client, config
    from kubernetes.stream import stream
    api = client.ApiClient(config.new_client_from_config(
        kubeconfig, context=context).configuration)
    v1 = client.CoreV1Api(api)
    got = stream(v1.connect_get_namespaced_pod_exec, pod, "shop",
                 command=["echo", "x"], stderr=True, stdin=False,
                 stdout=True, tty=False, _request_timeout=20)
    tc.assertEqual(got, "x\n")
    resp = stream(v1.connect_get_namespaced_pod_exec, pod, "shop",
                  command=["sh", "-c", "exit 5"], stderr=True,
                  stdin=False, stdout=True, tty=False,
                  _preload_content=False, _request_timeout=20)
    resp.run_forever(timeout=20)
    tc.assertEqual(resp.returncode, 5)
    resp.close()
    api.close()


def kubectl_follow_tour(tc, kubectl_cmd, pod):
    """`kubectl logs -f` of POD in namespace shop prints and is still
    following when cut after 3 s. KUBECTL_CMD: kubectl and its options up
    to the verb."""
    follow = subprocess.run(
        ["timeout", "3"] + kubectl_cmd + ["logs", "-f", "-n", "shop", pod,
                                          "--tail=0"],
        capture_output=True, text=True, timeout=30)
    tc.assertEqual(follow.returncode, 124)  # still following when cut
    tc.assertGreaterEqual(len(follow.stdout.splitlines()), 1)


def kubectl_exec_tour(tc, kubectl, pod):
    """exec in POD (namespace shop): output, stdin through cat, the exit
    code, an unknown pod. KUBECTL(*args, check=True, stdin=None) runs
    kubectl against the member under test."""
    out = kubectl("exec", "-n", "shop", pod, "--", "echo", "hi")
    tc.assertEqual(out.stdout, "hi\n")
    text = "line one\nline two\n" + "x" * 100000 + "\n"
    out = kubectl("exec", "-i", "-n", "shop", pod, "--", "cat", stdin=text)
    tc.assertEqual(out.stdout, text)
    out = kubectl("exec", "-n", "shop", pod, "--", "sh", "-c", "exit 3",
                  check=False)
    tc.assertEqual(out.returncode, 3, out.stderr)
    out = kubectl("exec", "-n", "shop", "nope", "--", "echo", check=False)
    tc.assertNotEqual(out.returncode, 0)
    tc.assertIn('pods "nope" not found', out.stderr)


SSA_CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
  namespace: ssa
data:
  a: "1"
  b: "2"
"""

SSA_DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: ssa
  namespace: ssa
spec:
  replicas: 2
  selector:
    matchLabels: {app: ssa}
  template:
    metadata:
      labels: {app: ssa}
    spec:
      containers:
      - name: %s
        image: %s
"""


def _entries(obj):
    return {(e["manager"], e["operation"]): e["fieldsV1"]
            for e in obj["metadata"].get("managedFields", [])}


def kubectl_ssa_tour(tc, kubectl, tmp):
    """kubectl apply --server-side: create, no-op, a conflict with the
    manager of a plain patch, --force-conflicts, a field no longer applied
    removed, containers merged by name across managers. KUBECTL(*args,
    check=True) runs kubectl against the member under test; TMP is a
    directory for the manifests. Leaves namespace ssa deleted."""
    import json
    import os

    def apply(text, *flags, check=True):
        path = os.path.join(tmp, "ssa.yaml")
        with open(path, "w") as f:
            f.write(text)
        return kubectl("apply", "--server-side", "-f", path, *flags,
                       check=check)

    def get(kind):
        return json.loads(kubectl("get", kind, "ssa", "-n", "ssa", "-o",
                                  "json", "--show-managed-fields").stdout)

    kubectl("create", "namespace", "ssa")
    tc.assertIn("configmap/ssa serverside-applied", apply(SSA_CM).stdout)
    cm = get("cm")
    tc.assertEqual(_entries(cm)[("kubectl", "Apply")],
                   {"f:data": {"f:a": {}, "f:b": {}}})
    rv = cm["metadata"]["resourceVersion"]
    apply(SSA_CM)
    tc.assertEqual(get("cm")["metadata"]["resourceVersion"], rv)

    kubectl("patch", "cm", "ssa", "-n", "ssa", "--type=merge", "-p",
            '{"data":{"a":"edited"}}')
    tc.assertEqual(_entries(get("cm"))[("kubectl-patch", "Update")],
                   {"f:data": {"f:a": {}}})
    out = apply(SSA_CM, check=False)
    tc.assertNotEqual(out.returncode, 0)
    tc.assertIn('Apply failed with 1 conflict: conflict with "kubectl-patch" '
                'using v1: .data.a', out.stderr)
    apply(SSA_CM, "--force-conflicts")
    cm = get("cm")
    tc.assertEqual(cm["data"], {"a": "1", "b": "2"})
    tc.assertNotIn(("kubectl-patch", "Update"), _entries(cm))

    apply(SSA_CM.replace('  b: "2"\n', ""))
    tc.assertEqual(get("cm")["data"], {"a": "1"})

    apply(SSA_DEPLOY % ("web", "nginx:1.27"))
    apply(SSA_DEPLOY % ("side", "busybox"), "--field-manager=sidecar")
    d = get("deploy")
    tc.assertEqual([c["name"] for c in
                    d["spec"]["template"]["spec"]["containers"]],
                   ["web", "side"])
    tc.assertIn(("sidecar", "Apply"), _entries(d))
    kubectl("delete", "namespace", "ssa")


def python_ssa_tour(tc, kubeconfig, context):
    """Server-side apply from the Python client (the dynamic client's
    server_side_apply: a PATCH with application/apply-patch+yaml, the body
    YAML text as this client version needs it): create, conflict (409
    naming the field), force."""
    import json

    import kubernetes
    import yaml
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ConflictError
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig,
                                                   context=context)
    tc.addCleanup(api.close)
    tc.addCleanup(api.rest_client.pool_manager.clear)
    dyn = DynamicClient(api)
    v1 = kubernetes.client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "pyssa"}})
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "pyssa"},
            "data": {"k": "1"}}

    def ssa(manager, **kw):
        return cms.server_side_apply(body=yaml.safe_dump(body), name="cfg",
                                     namespace="pyssa", field_manager=manager,
                                     **kw)

    got = ssa("py-one")
    tc.assertEqual(got.data.k, "1")
    tc.assertEqual(got.metadata.managedFields[0].manager, "py-one")
    tc.assertEqual(got.metadata.managedFields[0].operation, "Apply")
    body["data"]["k"] = "2"
    with tc.assertRaises(ConflictError) as cm:
        ssa("py-two")
    tc.assertEqual(json.loads(cm.exception.body)["message"],
                   'Apply failed with 1 conflict: conflict with "py-one": '
                   '.data.k')
    got = ssa("py-two", force_conflicts=True)
    tc.assertEqual(got.data.k, "2")
    tc.assertEqual([e.manager for e in got.metadata.managedFields],
                   ["py-two"])
    v1.delete_namespace("pyssa")


BOGUS_CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: val
  bogus2: 1
bogus: 1
data:
  a: b
"""


def kubectl_validation_tour(tc, kubectl, tmp):
    """kubectl create --validate=strict|warn|ignore with unknown fields at
    two depths, and a value of the wrong type, as kube-apiserver answers
    them (kubectl leaves validation to a server whose OpenAPI lists
    fieldValidation). Leaves namespace val deleted."""
    import os

    def create(text, mode, check=True):
        path = os.path.join(tmp, "val.yaml")
        with open(path, "w") as f:
            f.write(text)
        return kubectl("create", "-f", path, "--validate=" + mode,
                       check=check)

    kubectl("create", "namespace", "val")
    out = create(BOGUS_CM % "strict", "strict", check=False)
    tc.assertNotEqual(out.returncode, 0)
    # kubectl sends the fields in key order; they are named in body order
    tc.assertIn('ConfigMap in version "v1" cannot be handled as a ConfigMap: '
                'strict decoding error: unknown field "bogus", unknown field '
                '"metadata.bogus2"', out.stderr)
    out = create(BOGUS_CM % "warn", "warn")
    tc.assertIn('Warning: unknown field "metadata.bogus2"', out.stderr)
    tc.assertIn('Warning: unknown field "bogus"', out.stderr)
    out = create(BOGUS_CM % "ignore", "ignore")
    tc.assertNotIn("Warning", out.stderr)
    for name in ("warn", "ignore"):
        got = kubectl("get", "cm", name, "-n", "val", "-o",
                      "jsonpath={.data.a}/{.bogus}").stdout
        tc.assertEqual(got, "b/")
    out = kubectl("get", "cm", "strict", "-n", "val", check=False)
    tc.assertIn('configmaps "strict" not found', out.stderr)
    for mode in ("strict", "ignore"):
        out = create("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                     "  name: typed\n  namespace: val\ndata:\n  x: 1\n",
                     mode, check=False)
        tc.assertNotEqual(out.returncode, 0)
        tc.assertIn("cannot unmarshal number into Go struct field "
                    "ConfigMap.data of type string", out.stderr)
    kubectl("delete", "namespace", "val")


def python_validation_tour(tc, kubeconfig, context):
    """?fieldValidation= from the Python client: Strict is a 400 naming the
    unknown field, Warn stores and answers a Warning header, Ignore drops
    silently."""
    import json

    import kubernetes
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig,
                                                   context=context)
    tc.addCleanup(api.close)
    tc.addCleanup(api.rest_client.pool_manager.clear)
    v1 = kubernetes.client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "pyval"}})

    def create(name, mode):
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name}, "data": {"a": "b"},
                "spec": {"bogus": 1}}
        return api.call_api(
            "/api/v1/namespaces/pyval/configmaps", "POST", body=body,
            query_params=[("fieldValidation", mode)],
            header_params={"Content-Type": "application/json",
                           "Accept": "application/json"},
            auth_settings=["BearerToken"], _preload_content=False,
            _return_http_data_only=True)

    with tc.assertRaises(kubernetes.client.ApiException) as cm:
        create("strict", "Strict")
    tc.assertEqual(cm.exception.status, 400)
    tc.assertIn('strict decoding error: unknown field "spec"',
                json.loads(cm.exception.body)["message"])
    r = create("warn", "Warn")
    tc.assertEqual(r.status, 201)
    tc.assertEqual(r.headers.get("Warning"),
                   '299 - "unknown field \\"spec\\""')
    tc.assertNotIn("spec", json.loads(r.data))
    r = create("ignore", "Ignore")
    tc.assertEqual(r.status, 201)
    tc.assertIsNone(r.headers.get("Warning"))
    names = [c.metadata.name
             for c in v1.list_namespaced_config_map("pyval").items]
    tc.assertEqual(sorted(names), ["ignore", "warn"])
    v1.delete_namespace("pyval")


POD_SUBRESOURCES = {"pods/attach": ["create", "get"],
                    "pods/exec": ["create", "get"],
                    "pods/log": ["get"],
                    "pods/portforward": ["create", "get"],
                    "pods/status": ["get", "patch", "update"]}


def discovery_tour(tc, kubectl, kubeconfig, context):
    """/api/v1 lists the pods' subresources with kube's verbs, read by
    kubectl get --raw and by the Python client; deployments/scale too.
    CONTEXT names the cluster behind the gateway (--raw paths are the
    server's own, so they carry /clusters/CONTEXT)."""
    import json
    import tempfile

    import kubernetes
    prefix = "/clusters/" + context
    got = json.loads(kubectl("get", "--raw", prefix + "/api/v1").stdout)
    verbs = {r["name"]: r["verbs"] for r in got["resources"]}
    for name, want in POD_SUBRESOURCES.items():
        tc.assertEqual(verbs.get(name), want, name)
    got = json.loads(kubectl("get", "--raw", prefix + "/apis/apps/v1").stdout)
    tc.assertIn("deployments/scale", [r["name"] for r in got["resources"]])
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig,
                                                   context=context)
    tc.addCleanup(api.close)
    tc.addCleanup(api.rest_client.pool_manager.clear)
    res = kubernetes.client.CoreV1Api(api).get_api_resources().resources
    verbs = {r.name: r.verbs for r in res}
    for name, want in POD_SUBRESOURCES.items():
        tc.assertEqual(verbs.get(name), want, name)
    # Aggregated discovery says what the legacy documents say, in one
    # answer per root; the Python client asks for it by its Accept header.
    for root in ("/api", "/apis"):
        for version in ("v2", "v2beta1"):
            ct = AGGREGATED % version
            resp = api.call_api(root, "GET", header_params={
                "Accept": ct + ",application/json"},
                auth_settings=["BearerToken"], _preload_content=False,
                _return_http_data_only=True)
            tc.assertEqual(resp.status, 200)
            tc.assertEqual(resp.headers["Content-Type"], ct)
            doc = json.loads(resp.data)
            tc.assertEqual(doc["kind"], "APIGroupDiscoveryList")
            tc.assertEqual(doc["apiVersion"], "apidiscovery.k8s.io/" + version)
            for group in doc["items"]:
                name = group["metadata"].get("name", "")
                tc.assertEqual(name == "", root == "/api", name)
                for v in group["versions"]:
                    gv = "%s/%s" % (name, v["version"]) if name else "v1"
                    path = "/api/v1" if not name else "/apis/" + gv
                    legacy = json.loads(kubectl(
                        "get", "--raw", prefix + path).stdout)["resources"]
                    tc.assertEqual(aggregated_verbs(v), {
                        r["name"]: r["verbs"] for r in legacy}, gv)
    # kubectl takes it when offered: no request per group version.
    with tempfile.TemporaryDirectory() as cache:
        out = kubectl("api-resources", "--cache-dir", cache, "-v=6")
    tc.assertIn("deployments", out.stdout)
    tc.assertIn("/api?", out.stderr)
    tc.assertNotIn("/apis/apps/v1", out.stderr)
    tc.assertNotIn("/api/v1?", out.stderr)


AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList"


def aggregated_verbs(version):
    """{"pods": verbs, "pods/exec": verbs, ...} of an APIVersionDiscovery."""
    out = {}
    for r in version["resources"]:
        out[r["resource"]] = r["verbs"]
        for s in r.get("subresources", []):
            out["%s/%s" % (r["resource"], s["subresource"])] = s["verbs"]
    return out


ORDERED = """apiVersion: v1
kind: Pod
metadata:
  name: ordered
  namespace: life
spec:
  containers:
%s"""


def kubectl_lifecycle_tour(tc, kubectl, tmp):
    """A Service's cluster IP; a pod deleted with its grace (Terminating,
    then gone: kubectl delete waits for it) and at once with
    --grace-period=0 --force; an object held by a finalizer until a patch
    removes it; kubectl apply reordering containers ($setElementOrder).
    TMP is a directory for a manifest. Leaves namespace life deleted."""
    import ipaddress
    import json
    import os
    import time

    kubectl("create", "namespace", "life")
    path = os.path.join(tmp, "ordered.yaml")
    for names in (("a", "b"), ("b", "a")):
        with open(path, "w") as f:
            f.write(ORDERED % "".join("  - {name: %s, image: busybox}\n" % n
                                      for n in names))
        kubectl("apply", "-f", path)
        got = kubectl("get", "pod", "ordered", "-n", "life", "-o",
                      "jsonpath={.spec.containers[*].name}").stdout
        tc.assertEqual(got.split(), list(names))
    kubectl("create", "service", "clusterip", "web", "--tcp=80:80", "-n",
            "life")
    kubectl("create", "service", "clusterip", "hl", "--clusterip=None", "-n",
            "life")
    ip = kubectl("get", "svc", "web", "-n", "life", "-o",
                 "jsonpath={.spec.clusterIP}").stdout
    tc.assertIn(ipaddress.ip_address(ip),
                ipaddress.ip_network("10.96.0.0/12"))
    tc.assertIn(ip, kubectl("get", "svc", "-n", "life").stdout)
    tc.assertEqual(kubectl("get", "svc", "hl", "-n", "life", "-o",
                           "jsonpath={.spec.clusterIP}").stdout, "None")

    kubectl("run", "p1", "--image=nginx", "-n", "life")
    kubectl("run", "p2", "--image=nginx", "-n", "life")
    out = kubectl("delete", "pod", "p1", "-n", "life", "--wait=false")
    tc.assertIn('pod "p1" deleted', out.stdout)
    pod = json.loads(kubectl("get", "pod", "p1", "-n", "life", "-o",
                             "json").stdout)
    tc.assertEqual(pod["metadata"]["deletionGracePeriodSeconds"], 30)
    tc.assertIn("Terminating", kubectl("get", "pod", "p1", "-n",
                                       "life").stdout)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        out = kubectl("get", "pod", "p1", "-n", "life", check=False)
        if out.returncode != 0:
            break
        time.sleep(0.2)
    tc.assertIn('pods "p1" not found', out.stderr)
    start = time.monotonic()
    kubectl("delete", "pod", "p2", "-n", "life", "--grace-period=0",
            "--force")
    tc.assertLess(time.monotonic() - start, 15)
    out = kubectl("get", "pod", "p2", "-n", "life", check=False)
    tc.assertIn('pods "p2" not found', out.stderr)

    kubectl("create", "configmap", "held", "-n", "life")
    kubectl("patch", "cm", "held", "-n", "life", "--type=merge", "-p",
            '{"metadata":{"finalizers":["example.com/hold"]}}')
    kubectl("delete", "cm", "held", "-n", "life", "--wait=false")
    cm = json.loads(kubectl("get", "cm", "held", "-n", "life", "-o",
                            "json").stdout)
    tc.assertIn("deletionTimestamp", cm["metadata"])
    kubectl("patch", "cm", "held", "-n", "life", "--type=merge", "-p",
            '{"metadata":{"finalizers":null}}')
    out = kubectl("get", "cm", "held", "-n", "life", check=False)
    tc.assertIn('configmaps "held" not found', out.stderr)
    kubectl("delete", "namespace", "life")


def python_lifecycle_tour(tc, kubeconfig, context):
    """The Python client: a Service's cluster IP, a pod's graceful delete
    (deletionTimestamp, then gone) and one with grace_period_seconds=0."""
    import ipaddress
    import time

    import kubernetes
    api = kubernetes.config.new_client_from_config(config_file=kubeconfig,
                                                   context=context)
    tc.addCleanup(api.close)
    tc.addCleanup(api.rest_client.pool_manager.clear)
    v1 = kubernetes.client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "pylife"}})
    svc = v1.create_namespaced_service("pylife", {
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}]}})
    tc.assertIn(ipaddress.ip_address(svc.spec.cluster_ip),
                ipaddress.ip_network("10.96.0.0/12"))
    for name in ("a", "b"):
        v1.create_namespaced_pod("pylife", {
            "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    got = v1.delete_namespaced_pod("a", "pylife")
    tc.assertIsNotNone(got.metadata.deletion_timestamp)
    deadline = time.monotonic() + 20
    names = ["a"]
    while "a" in names and time.monotonic() < deadline:
        time.sleep(0.2)
        names = [p.metadata.name
                 for p in v1.list_namespaced_pod("pylife").items]
    tc.assertNotIn("a", names)
    got = v1.delete_namespaced_pod("b", "pylife", grace_period_seconds=0)
    tc.assertIsNone(got.metadata.deletion_timestamp)
    tc.assertEqual(v1.list_namespaced_pod("pylife").items, [])
    v1.delete_namespace("pylife")
