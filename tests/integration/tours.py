"""The Python-client tour every member kind must pass, shared by the tests
that reach a mock member directly and through a direct-driver member."""
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
