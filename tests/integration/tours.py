"""The tours every member kind must pass, shared by the tests that reach a
mock member directly, through a direct-driver member and through an agent:
the Python client's, and kubectl's logs -f and exec."""
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
