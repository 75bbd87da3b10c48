#!/usr/bin/env python3
"""Writes the demo seeds of the mock member driver: conf.d/seeds/host.json
(the host's own cluster) and conf.d/seeds/demo.json (a workload cluster).
Run from the repository root; the output is deterministic."""
import datetime
import json
import random
import sys
import uuid

NS_UUID = uuid.UUID("6f1c1d2e-8a57-4d0c-9c61-3b4c0f7a9e21")


class Cluster:
    def __init__(self, name, base):
        self.name = name
        self.base = base  # creation time of the cluster
        self.objects = []
        self.rng = random.Random(name)
        self.nodes = []
        self.next_ip = {}

    def uid(self, kind, ns, name):
        return str(uuid.uuid5(NS_UUID, f"{self.name}/{kind}/{ns}/{name}"))

    def ts(self, minutes):
        t = self.base + datetime.timedelta(minutes=minutes)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    def suffix(self, n, alphabet="bcdfghjklmnpqrstvwxz2456789"):
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def meta(self, kind, name, ns=None, minutes=0, labels=None, owner=None,
             annotations=None):
        m = {"name": name}
        if ns is not None:
            m["namespace"] = ns
        m["uid"] = self.uid(kind, ns or "", name)
        m["creationTimestamp"] = self.ts(minutes)
        if labels:
            m["labels"] = dict(labels)
        if annotations:
            m["annotations"] = dict(annotations)
        if owner:
            okind, oname, oapi = owner
            m["ownerReferences"] = [{
                "apiVersion": oapi, "kind": okind, "name": oname,
                "uid": self.uid(okind, ns or "", oname) if okind != "Node"
                else self.uid("Node", "", oname),
                "controller": True, "blockOwnerDeletion": True}]
        return m

    def add(self, obj):
        self.objects.append(obj)
        return obj

    # ---- cluster-scoped ---------------------------------------------
    def namespace(self, name, minutes=0, labels=None):
        self.add({"apiVersion": "v1", "kind": "Namespace",
                  "metadata": self.meta("Namespace", name, None, minutes,
                                        labels),
                  "spec": {"finalizers": ["kubernetes"]},
                  "status": {"phase": "Active"}})
        self.configmap(name, "kube-root-ca.crt", minutes,
                       {"ca.crt": "-----BEGIN CERTIFICATE-----\n"
                        "MIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQD"
                        "\n-----END CERTIFICATE-----\n"},
                       annotations={"kubernetes.io/description":
                                    "Contains a CA bundle that can be used "
                                    "to verify the kube-apiserver when "
                                    "using internal endpoints such as the "
                                    "internal service IP or "
                                    "kubernetes.default.svc. No other "
                                    "usage is guaranteed across "
                                    "distributions of Kubernetes "
                                    "clusters."})

    def node(self, name, ip, control_plane=False, minutes=0, cpu="8",
             mem="32Gi", pod_cidr_index=0):
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
        }
        taints = []
        if control_plane:
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            taints = [{"key": "node-role.kubernetes.io/control-plane",
                       "effect": "NoSchedule"}]
        hb = self.ts(60 * 24 * 6)
        conds = [
            ("MemoryPressure", "False", "KubeletHasSufficientMemory",
             "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure",
             "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID",
             "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady",
             "kubelet is posting ready status"),
        ]
        spec = {"podCIDR": f"10.244.{pod_cidr_index}.0/24",
                "podCIDRs": [f"10.244.{pod_cidr_index}.0/24"],
                "providerID": f"kind://docker/{self.name}/{name}"}
        if taints:
            spec["taints"] = taints
        self.nodes.append(name)
        self.next_ip[name] = (pod_cidr_index, 2)
        self.add({
            "apiVersion": "v1", "kind": "Node",
            "metadata": self.meta("Node", name, None, minutes, labels,
                                  annotations={
                                      "kubeadm.alpha.kubernetes.io/cri-socket":
                                      "unix:///run/containerd/containerd.sock",
                                      "node.alpha.kubernetes.io/ttl": "0",
                                      "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
            "spec": spec,
            "status": {
                "addresses": [{"type": "InternalIP", "address": ip},
                              {"type": "Hostname", "address": name}],
                "allocatable": {"cpu": cpu, "ephemeral-storage": "98831908Ki",
                                "hugepages-2Mi": "0", "memory": mem,
                                "pods": "110"},
                "capacity": {"cpu": cpu, "ephemeral-storage": "98831908Ki",
                             "hugepages-2Mi": "0", "memory": mem,
                             "pods": "110"},
                "conditions": [{"type": t, "status": s,
                                "lastHeartbeatTime": hb,
                                "lastTransitionTime": self.ts(minutes + 1),
                                "reason": r, "message": m}
                               for t, s, r, m in conds],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": self.uid("boot", "", name),
                    "containerRuntimeVersion": "containerd://1.7.24",
                    "kernelVersion": "6.1.0-28-amd64",
                    "kubeProxyVersion": "v1.32.0",
                    "kubeletVersion": "v1.32.0",
                    "machineID": self.uid("machine", "", name).replace("-", ""),
                    "operatingSystem": "linux",
                    "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "systemUUID": self.uid("system", "", name)},
            }})

    def pod_ip(self, node):
        idx, n = self.next_ip[node]
        self.next_ip[node] = (idx, n + 1)
        return f"10.244.{idx}.{n}"

    def node_ip(self, node):
        for o in self.objects:
            if o["kind"] == "Node" and o["metadata"]["name"] == node:
                return o["status"]["addresses"][0]["address"]
        raise KeyError(node)

    # ---- namespaced ---------------------------------------------------
    def configmap(self, ns, name, minutes, data, labels=None,
                  annotations=None):
        self.add({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": self.meta("ConfigMap", name, ns, minutes,
                                        labels, annotations=annotations),
                  "data": data})

    def secret(self, ns, name, minutes, data, type_="Opaque"):
        import base64
        self.add({"apiVersion": "v1", "kind": "Secret",
                  "metadata": self.meta("Secret", name, ns, minutes),
                  "type": type_,
                  "data": {k: base64.b64encode(v.encode()).decode()
                           for k, v in data.items()}})

    def service(self, ns, name, minutes, selector, ports, type_="ClusterIP",
                cluster_ip=None, lb_ip=None, labels=None, headless=False):
        spec = {"type": type_, "sessionAffinity": "None",
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster"}
        if headless:
            spec["clusterIP"] = "None"
            spec["clusterIPs"] = ["None"]
        else:
            ip = cluster_ip or f"10.96.{self.rng.randint(1, 254)}.{self.rng.randint(1, 254)}"
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
        if selector:
            spec["selector"] = selector
        sp = []
        for p in ports:
            d = {"name": p[0], "protocol": p[3] if len(p) > 3 else "TCP",
                 "port": p[1], "targetPort": p[2]}
            if type_ in ("NodePort", "LoadBalancer"):
                d["nodePort"] = 30000 + self.rng.randint(0, 2767)
            sp.append(d)
        spec["ports"] = sp
        status = {"loadBalancer": {}}
        if type_ == "LoadBalancer":
            spec["externalTrafficPolicy"] = "Cluster"
            if lb_ip:
                status["loadBalancer"] = {"ingress": [{"ip": lb_ip,
                                                       "ipMode": "VIP"}]}
        self.add({"apiVersion": "v1", "kind": "Service",
                  "metadata": self.meta("Service", name, ns, minutes,
                                        labels or ({"app": name}
                                                   if selector else None)),
                  "spec": spec, "status": status})

    def pod(self, ns, name, minutes, labels, owner, node, containers,
            state="running", restarts=0, host_network=False,
            priority_class=None, qos="Burstable", crash_exit=1):
        """containers: list of (name, image, [ports])."""
        created = self.ts(minutes)
        started = self.ts(minutes + 1)
        spec = {
            "containers": [],
            "dnsPolicy": "ClusterFirst",
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
            "priority": 2000001000 if priority_class == "system-node-critical"
            else 2000000000 if priority_class else 0,
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable",
                 "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 300}],
        }
        if priority_class:
            spec["priorityClassName"] = priority_class
        if host_network:
            spec["hostNetwork"] = True
        if node and state != "pending":
            spec["nodeName"] = node
        for cname, image, ports in containers:
            c = {"name": cname, "image": image,
                 "imagePullPolicy": "IfNotPresent",
                 "resources": {"requests": {"cpu": "100m",
                                            "memory": "128Mi"}} if qos != "BestEffort" else {},
                 "terminationMessagePath": "/dev/termination-log",
                 "terminationMessagePolicy": "File"}
            if qos == "Guaranteed":
                c["resources"]["limits"] = dict(c["resources"]["requests"])
            if ports:
                c["ports"] = [{"containerPort": p, "protocol": "TCP"}
                              for p in ports]
            spec["containers"].append(c)
        status = {"qosClass": qos}
        if state == "pending":
            status["phase"] = "Pending"
            status["conditions"] = [{
                "type": "PodScheduled", "status": "False",
                "lastProbeTime": None, "lastTransitionTime": created,
                "reason": "Unschedulable",
                "message": "0/4 nodes are available: 1 node(s) had untolerated "
                           "taint {node-role.kubernetes.io/control-plane: }, "
                           "3 Insufficient cpu. preemption: 0/4 nodes are "
                           "available: 1 Preemption is not helpful for "
                           "scheduling, 3 No preemption victims found for "
                           "incoming pod."}]
        else:
            ip = self.node_ip(node) if host_network else self.pod_ip(node)
            ready = state == "running"
            rs = "True" if ready else "False"
            status.update({
                "phase": "Running",
                "hostIP": self.node_ip(node),
                "hostIPs": [{"ip": self.node_ip(node)}],
                "podIP": ip, "podIPs": [{"ip": ip}],
                "startTime": created,
                "conditions": [
                    {"type": "PodReadyToStartContainers", "status": "True",
                     "lastProbeTime": None, "lastTransitionTime": started},
                    {"type": "Initialized", "status": "True",
                     "lastProbeTime": None, "lastTransitionTime": created},
                    {"type": "Ready", "status": rs, "lastProbeTime": None,
                     "lastTransitionTime": started},
                    {"type": "ContainersReady", "status": rs,
                     "lastProbeTime": None, "lastTransitionTime": started},
                    {"type": "PodScheduled", "status": "True",
                     "lastProbeTime": None, "lastTransitionTime": created}],
                "containerStatuses": []})
            if not ready:
                for c in status["conditions"][2:4]:
                    c["reason"] = "ContainersNotReady"
                    c["message"] = ("containers with unready status: [" +
                                    " ".join(x[0] for x in containers) + "]")
            for cname, image, _ in containers:
                cs = {"name": cname, "image": image,
                      "imageID": image.split(":")[0] + "@sha256:" +
                      uuid.uuid5(NS_UUID, image).hex * 2,
                      "containerID": "containerd://" +
                      uuid.uuid5(NS_UUID, ns + name + cname).hex * 2,
                      "ready": ready, "started": ready,
                      "restartCount": restarts}
                if state == "crash":
                    fin = self.base + datetime.timedelta(minutes=minutes) + \
                        datetime.timedelta(days=0)
                    cs["state"] = {"waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off 5m0s restarting failed "
                                   f"container={cname} pod={name}_{ns}"
                                   f"({self.uid('Pod', ns, name)})"}}
                    cs["lastState"] = {"terminated": {
                        "exitCode": crash_exit, "reason": "Error",
                        "startedAt": "LAST_START", "finishedAt": "LAST_FINISH",
                        "containerID": cs["containerID"]}}
                else:
                    cs["state"] = {"running": {"startedAt": started}}
                    if restarts:
                        cs["lastState"] = {"terminated": {
                            "exitCode": 137, "reason": "OOMKilled",
                            "startedAt": created, "finishedAt": started,
                            "containerID": cs["containerID"]}}
                status["containerStatuses"].append(cs)
        return self.add({"apiVersion": "v1", "kind": "Pod",
                         "metadata": self.meta("Pod", name, ns, minutes,
                                               labels, owner),
                         "spec": spec, "status": status})

    def template(self, labels, containers):
        return {"metadata": {"labels": dict(labels)},
                "spec": {"containers": [
                    {"name": n, "image": i,
                     "ports": [{"containerPort": p, "protocol": "TCP"}
                               for p in ports],
                     "resources": {"requests": {"cpu": "100m",
                                                "memory": "128Mi"}}}
                    for n, i, ports in containers]}}

    def deployment(self, ns, name, minutes, replicas, containers,
                   ready=None, pending_nodes=(), crash_index=None,
                   pending_index=None, restarts=5):
        ready = replicas if ready is None else ready
        h = self.suffix(10)
        labels = {"app": name}
        pod_labels = {"app": name, "pod-template-hash": h}
        self.add({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": self.meta("Deployment", name, ns, minutes, labels,
                                  annotations={"deployment.kubernetes.io/revision": "1"}),
            "spec": {"replicas": replicas,
                     "selector": {"matchLabels": {"app": name}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                         "maxSurge": "25%", "maxUnavailable": "25%"}},
                     "revisionHistoryLimit": 10,
                     "progressDeadlineSeconds": 600,
                     "template": self.template(labels, containers)},
            "status": {"observedGeneration": 1, "replicas": replicas,
                       "updatedReplicas": replicas, "readyReplicas": ready,
                       "availableReplicas": ready,
                       **({"unavailableReplicas": replicas - ready}
                          if ready < replicas else {}),
                       "conditions": [
                           {"type": "Available",
                            "status": "True" if ready == replicas else "False",
                            "reason": "MinimumReplicasAvailable" if ready == replicas
                            else "MinimumReplicasUnavailable",
                            "message": "Deployment has minimum availability." if ready == replicas
                            else "Deployment does not have minimum availability.",
                            "lastUpdateTime": self.ts(minutes + 1),
                            "lastTransitionTime": self.ts(minutes + 1)},
                           {"type": "Progressing", "status": "True",
                            "reason": "NewReplicaSetAvailable",
                            "message": f'ReplicaSet "{name}-{h}" has successfully progressed.',
                            "lastUpdateTime": self.ts(minutes + 1),
                            "lastTransitionTime": self.ts(minutes)}]}})
        rs = f"{name}-{h}"
        self.add({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": self.meta("ReplicaSet", rs, ns, minutes, pod_labels,
                                  ("Deployment", name, "apps/v1"),
                                  annotations={"deployment.kubernetes.io/desired-replicas": str(replicas),
                                               "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                               "deployment.kubernetes.io/revision": "1"}),
            "spec": {"replicas": replicas,
                     "selector": {"matchLabels": pod_labels},
                     "template": self.template(pod_labels, containers)},
            "status": {"replicas": replicas, "fullyLabeledReplicas": replicas,
                       "readyReplicas": ready, "availableReplicas": ready,
                       "observedGeneration": 1}})
        pods = []
        for i in range(replicas):
            pname = f"{rs}-{self.suffix(5)}"
            state = "running"
            if i == crash_index:
                state = "crash"
            if i == pending_index:
                state = "pending"
            node = self.workers[i % len(self.workers)]
            pods.append(self.pod(ns, pname, minutes + 1, pod_labels,
                                 ("ReplicaSet", rs, "apps/v1"), node,
                                 containers, state,
                                 restarts if state == "crash" else 0))
        return pods

    def statefulset(self, ns, name, minutes, replicas, containers,
                    service):
        labels = {"app": name}
        rev = f"{name}-{self.suffix(10)}"
        self.add({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": self.meta("StatefulSet", name, ns, minutes, labels),
            "spec": {"replicas": replicas, "serviceName": service,
                     "podManagementPolicy": "OrderedReady",
                     "selector": {"matchLabels": labels},
                     "updateStrategy": {"type": "RollingUpdate",
                                        "rollingUpdate": {"partition": 0}},
                     "template": self.template(labels, containers)},
            "status": {"observedGeneration": 1, "replicas": replicas,
                       "readyReplicas": replicas,
                       "currentReplicas": replicas,
                       "updatedReplicas": replicas,
                       "availableReplicas": replicas,
                       "currentRevision": rev, "updateRevision": rev,
                       "collisionCount": 0}})
        for i in range(replicas):
            node = self.workers[i % len(self.workers)]
            self.pod(ns, f"{name}-{i}", minutes + 1 + i,
                     {**labels, "apps.kubernetes.io/pod-index": str(i),
                      "controller-revision-hash": rev,
                      "statefulset.kubernetes.io/pod-name": f"{name}-{i}"},
                     ("StatefulSet", name, "apps/v1"), node, containers)

    def daemonset(self, ns, name, minutes, containers, host_network=False,
                  all_nodes=True, priority_class=None):
        labels = {"app": name} if name != "kube-proxy" else {"k8s-app": name}
        nodes = self.nodes if all_nodes else self.workers
        n = len(nodes)
        rev = self.suffix(10)
        tmpl = self.template(labels, containers)
        tmpl["spec"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
        self.add({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": self.meta("DaemonSet", name, ns, minutes, labels,
                                  annotations={"deprecated.daemonset.template.generation": "1"}),
            "spec": {"selector": {"matchLabels": labels},
                     "updateStrategy": {"type": "RollingUpdate",
                                        "rollingUpdate": {"maxUnavailable": 1,
                                                          "maxSurge": 0}},
                     "revisionHistoryLimit": 10,
                     "template": tmpl},
            "status": {"currentNumberScheduled": n, "desiredNumberScheduled": n,
                       "numberAvailable": n, "numberMisscheduled": 0,
                       "numberReady": n, "observedGeneration": 1,
                       "updatedNumberScheduled": n}})
        for node in nodes:
            self.pod(ns, f"{name}-{self.suffix(5)}", minutes + 1,
                     {**labels, "controller-revision-hash": rev,
                      "pod-template-generation": "1"},
                     ("DaemonSet", name, "apps/v1"), node, containers,
                     host_network=host_network,
                     priority_class=priority_class)

    def static_pod(self, node, component, image, minutes, port=None):
        name = f"{component}-{node}"
        p = self.pod("kube-system", name, minutes,
                     {"component": component, "tier": "control-plane"},
                     ("Node", node, "v1"), node, [(component, image, [])],
                     host_network=True,
                     priority_class="system-node-critical")
        p["metadata"]["annotations"] = {
            "kubernetes.io/config.source": "file",
            "kubernetes.io/config.hash": uuid.uuid5(NS_UUID, name).hex}
        return p

    def event(self, ns, obj_kind, obj_name, type_, reason, message,
              first, last, count=1, component="kubelet", host=None,
              field_path=None):
        name = f"{obj_name}.{uuid.uuid5(NS_UUID, obj_name + reason).hex[:16]}"
        io = {"kind": obj_kind, "namespace": ns, "name": obj_name,
              "apiVersion": "apps/v1" if obj_kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet") else "v1",
              "uid": self.uid(obj_kind, ns, obj_name)}
        if field_path:
            io["fieldPath"] = field_path
        src = {"component": component}
        if host:
            src["host"] = host
        self.add({"apiVersion": "v1", "kind": "Event",
                  "metadata": self.meta("Event", name, ns, first),
                  "involvedObject": io, "reason": reason,
                  "message": message, "source": src,
                  "firstTimestamp": self.ts(first),
                  "lastTimestamp": self.ts(last), "count": count,
                  "type": type_, "reportingComponent": component,
                  "reportingInstance": host or ""})

    def write(self, path, now_minutes):
        text = json.dumps({"objects": self.objects}, indent=1)
        last_fin = self.ts(now_minutes - 3)
        last_start = self.ts(now_minutes - 4)
        text = text.replace('"LAST_FINISH"', json.dumps(last_fin))
        text = text.replace('"LAST_START"', json.dumps(last_start))
        with open(path, "w") as f:
            f.write(text + "\n")


# Pod logs for `kubectl logs` (see plugins/drivers/mock/seed.c): the
# annotation mock.fedgate.io/log.CONTAINER, or previous-log for the run
# before the last restart.
def set_log(pod, container, text, previous=False):
    key = ("mock.fedgate.io/previous-log." if previous
           else "mock.fedgate.io/log.") + container
    pod["metadata"].setdefault("annotations", {})[key] = text


def frontend_log(pod, i):
    ip = pod["status"]["podIP"]
    lines = [
        "> shop-frontend@2.4.1 start",
        "> node server.js",
        f"[info] shop-frontend 2.4.1 starting on {pod['metadata']['name']}",
        "[info] config: CART_ADDR=cart.shop.svc:7070 "
        "CHECKOUT_ADDR=checkout.shop.svc:5050",
        "[info] feature flags: recommendations=on",
        f"[info] listening on http://{ip}:8080",
    ]
    paths = ["/", "/products/1", "/cart", "/products/7", "/healthz",
             "/static/app.js", "/checkout"]
    for n in range(12):
        path = paths[(n + i) % len(paths)]
        code = 502 if path == "/checkout" else 200
        lines.append(f'10.244.{1 + (n % 3)}.{10 + n} - - "GET {path} '
                     f'HTTP/1.1" {code} {512 + 37 * n} {3 + n % 5}ms')
        if code == 502:
            lines.append("[warn] checkout.shop.svc:5050 unavailable: "
                         "connection refused")
    return "\n".join(lines) + "\n"


CHECKOUT_PREVIOUS_LOG = (
    "2026/11/25 04:51:02 checkout 3.0.2 starting\n"
    "2026/11/25 04:51:02 connecting to payments-api.payments.svc:443\n"
    "2026/11/25 04:51:03 connecting to redis-0.redis.shop.svc:6379\n"
    "2026/11/25 04:51:04 grpc: listening on :5050\n"
    "2026/11/25 04:51:34 payments: dial tcp 10.96.41.7:443: i/o timeout\n"
    "2026/11/25 04:51:34 readiness: payments dependency not ready\n"
    "2026/11/25 04:52:04 payments: dial tcp 10.96.41.7:443: i/o timeout\n"
    "panic: payments client: no healthy upstream after 3 attempts\n"
    "\n"
    "goroutine 1 [running]:\n"
    "main.mustConnect(...)\n"
    "\t/src/cmd/checkout/main.go:88 +0x1d4\n"
    "main.main()\n"
    "\t/src/cmd/checkout/main.go:41 +0x2a5\n")


def control_plane(c, cp, minutes):
    for comp, img in (("etcd", "registry.k8s.io/etcd:3.5.16-0"),
                      ("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.32.0"),
                      ("kube-controller-manager", "registry.k8s.io/kube-controller-manager:v1.32.0"),
                      ("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.32.0")):
        c.static_pod(cp, comp, img, minutes)
    c.daemonset("kube-system", "kube-proxy", minutes + 1,
                [("kube-proxy", "registry.k8s.io/kube-proxy:v1.32.0", [])],
                host_network=True, priority_class="system-node-critical")
    save = c.workers
    c.workers = [cp]
    c.deployment("kube-system", "coredns", minutes + 1, 2,
                 [("coredns", "registry.k8s.io/coredns/coredns:v1.11.3",
                   [53, 9153])])
    c.workers = save
    c.configmap("kube-system", "coredns", minutes, {
        "Corefile": ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n"
                    "    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
                    "       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n"
                    "       ttl 30\n    }\n    prometheus :9153\n"
                    "    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n"
                    "    cache 30\n    loop\n    reload\n    loadbalance\n}\n"})
    c.configmap("kube-system", "kube-proxy", minutes, {
        "config.conf": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
                       "kind: KubeProxyConfiguration\nmode: iptables\n",
        "kubeconfig.conf": "apiVersion: v1\nkind: Config\n"})
    c.service("default", "kubernetes", minutes, None,
              [("https", 443, 6443)], cluster_ip="10.96.0.1",
              labels={"component": "apiserver", "provider": "kubernetes"})
    c.service("kube-system", "kube-dns", minutes + 1, {"k8s-app": "kube-dns"},
              [("dns", 53, 53, "UDP"), ("dns-tcp", 53, 53),
               ("metrics", 9153, 9153)], cluster_ip="10.96.0.10",
              labels={"k8s-app": "kube-dns",
                      "kubernetes.io/name": "CoreDNS"})


def host_cluster():
    c = Cluster("host", datetime.datetime(2026, 11, 17, 9, 12, 0))
    c.node("host-cp-1", "172.18.0.2", True, 0, "4", "16Gi", 0)
    c.node("host-worker-1", "172.18.0.3", False, 1, "8", "32Gi", 1)
    c.node("host-worker-2", "172.18.0.4", False, 1, "8", "32Gi", 2)
    c.workers = ["host-worker-1", "host-worker-2"]
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        c.namespace(ns, 0)
    c.namespace("fedgate-system", 60, {"app.kubernetes.io/part-of": "fedgate"})
    c.namespace("monitoring", 70)
    control_plane(c, "host-cp-1", 0)
    c.deployment("fedgate-system", "fedgate", 61, 2,
                 [("fedgate", "ghcr.io/fedgate/fedgate:0.1.0", [6443, 9443])])
    c.service("fedgate-system", "fedgate", 61, {"app": "fedgate"},
              [("https", 443, 6443), ("tunnel", 9443, 9443)],
              type_="LoadBalancer", lb_ip="172.18.255.10")
    c.configmap("fedgate-system", "fedgate-config", 61, {
        "gateway.ini": "[gateway]\nlisten = 0.0.0.0:6443\nworkers = 1\n",
        "members.ini": "[member \"demo\"]\ndriver = agent\n"})
    c.secret("fedgate-system", "fedgate-tls", 61,
             {"tls.crt": "-----BEGIN CERTIFICATE-----\n",
              "tls.key": "-----BEGIN PRIVATE KEY-----\n"},
             "kubernetes.io/tls")
    c.deployment("monitoring", "prometheus", 71, 1,
                 [("prometheus", "quay.io/prometheus/prometheus:v2.55.1",
                   [9090])])
    c.service("monitoring", "prometheus", 71, {"app": "prometheus"},
              [("web", 9090, 9090)])
    c.event("fedgate-system", "Deployment", "fedgate", "Normal",
            "ScalingReplicaSet",
            "Scaled up replica set fedgate to 2", 61, 61,
            component="deployment-controller")
    c.write("conf.d/seeds/host.json", 60 * 24 * 8)


def demo_cluster():
    c = Cluster("demo", datetime.datetime(2026, 11, 19, 14, 3, 0))
    c.node("demo-cp-1", "172.19.0.2", True, 0, "4", "16Gi", 0)
    for i in range(1, 4):
        c.node(f"demo-worker-{i}", f"172.19.0.{2 + i}", False, 1, "4",
               "16Gi", i)
    c.workers = ["demo-worker-1", "demo-worker-2", "demo-worker-3"]
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        c.namespace(ns, 0)
    c.namespace("shop", 120, {"team": "storefront"})
    c.namespace("payments", 125, {"team": "payments",
                                  "pod-security.kubernetes.io/enforce": "restricted"})
    c.namespace("monitoring", 130)
    control_plane(c, "demo-cp-1", 0)

    frontend = c.deployment("shop", "frontend", 121, 3,
                            [("frontend", "ghcr.io/example/shop-frontend:2.4.1",
                              [8080])])
    c.deployment("shop", "cart", 122, 2,
                 [("cart", "ghcr.io/example/shop-cart:1.9.0", [7070])])
    checkout = c.deployment("shop", "checkout", 123, 2,
                            [("checkout", "ghcr.io/example/shop-checkout:3.0.2",
                              [5050])], ready=1, crash_index=1, restarts=17)
    c.statefulset("shop", "redis", 124, 3,
                  [("redis", "docker.io/library/redis:7.4.1", [6379])],
                  "redis")
    pay = c.deployment("payments", "payments-api", 126, 2,
                       [("api", "ghcr.io/example/payments-api:1.2.0", [8443])],
                       ready=1, pending_index=1)
    c.deployment("monitoring", "prometheus", 131, 1,
                 [("prometheus", "quay.io/prometheus/prometheus:v2.55.1",
                   [9090])])
    c.deployment("monitoring", "grafana", 132, 1,
                 [("grafana", "docker.io/grafana/grafana:11.3.0", [3000])])
    c.daemonset("monitoring", "node-exporter", 133,
                [("node-exporter", "quay.io/prometheus/node-exporter:v1.8.2",
                  [9100])], host_network=True)

    c.service("shop", "frontend", 121, {"app": "frontend"},
              [("http", 80, 8080)], type_="LoadBalancer",
              lb_ip="172.19.255.20")
    c.service("shop", "cart", 122, {"app": "cart"}, [("grpc", 7070, 7070)])
    c.service("shop", "checkout", 123, {"app": "checkout"},
              [("grpc", 5050, 5050)])
    c.service("shop", "redis", 124, {"app": "redis"},
              [("redis", 6379, 6379)], headless=True)
    c.service("payments", "payments-api", 126, {"app": "payments-api"},
              [("https", 443, 8443)])
    c.service("monitoring", "prometheus", 131, {"app": "prometheus"},
              [("web", 9090, 9090)])
    c.service("monitoring", "grafana", 132, {"app": "grafana"},
              [("http", 3000, 3000)], type_="NodePort")

    c.configmap("shop", "frontend-config", 121, {
        "CART_ADDR": "cart.shop.svc:7070",
        "CHECKOUT_ADDR": "checkout.shop.svc:5050",
        "FEATURE_RECOMMENDATIONS": "true"})
    c.configmap("monitoring", "prometheus-config", 131, {
        "prometheus.yml": "global:\n  scrape_interval: 30s\n"
                          "scrape_configs:\n- job_name: node\n"
                          "  kubernetes_sd_configs:\n  - role: node\n"})
    c.configmap("monitoring", "grafana-dashboards", 132, {
        "cluster.json": "{\"title\":\"Cluster\"}",
        "shop.json": "{\"title\":\"Shop\"}"})
    c.secret("payments", "payments-db-credentials", 126,
             {"username": "payments", "password": "s3cr3t-demo-only"})
    c.secret("monitoring", "grafana-admin", 132,
             {"admin-user": "admin", "admin-password": "demo-only"})

    now = 60 * 24 * 6 - 300
    crash = checkout[1]["metadata"]["name"]
    pending = pay[1]["metadata"]["name"]
    c.event("shop", "Pod", crash, "Warning", "BackOff",
            "Back-off restarting failed container checkout in pod "
            f"{crash}_shop({c.uid('Pod', 'shop', crash)})",
            124, now - 2, 412, host=checkout[1]["spec"]["nodeName"],
            field_path="spec.containers{checkout}")
    c.event("shop", "Pod", crash, "Normal", "Pulled",
            "Container image \"ghcr.io/example/shop-checkout:3.0.2\" "
            "already present on machine", 124, now - 4, 17,
            host=checkout[1]["spec"]["nodeName"],
            field_path="spec.containers{checkout}")
    c.event("payments", "Pod", pending, "Warning", "FailedScheduling",
            pay[1]["status"]["conditions"][0]["message"], 127, now - 5, 1440,
            component="default-scheduler")
    c.event("shop", "Deployment", "frontend", "Normal", "ScalingReplicaSet",
            "Scaled up replica set frontend to 3", 121, 121,
            component="deployment-controller")
    c.event("monitoring", "DaemonSet", "node-exporter", "Normal",
            "SuccessfulCreate", "Created pod: node-exporter", 133, 133,
            component="daemonset-controller")
    for i, p in enumerate(frontend):
        set_log(p, "frontend", frontend_log(p, i))
    set_log(checkout[1], "checkout", CHECKOUT_PREVIOUS_LOG, previous=True)
    c.write("conf.d/seeds/demo.json", now)


if __name__ == "__main__":
    host_cluster()
    demo_cluster()
    sys.exit(0)
