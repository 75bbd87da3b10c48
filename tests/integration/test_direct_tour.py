"""The kubectl and Python-client tour through the host to a member-role
fedgate (the demo mock) with `driver = direct`, over an HTTP/2 upstream
("edge") and an HTTP/1.1 one ("edge1", `http2 = false`): what a user does
on the member itself works the same through the host, answers compared
with the member's own. Then the member dies mid-watch, mid-exec and
mid-request, is unreachable, is not trusted, or is added by editing one
ini file: each a clear answer, and recovery once it is back. Every
process is stopped by its pid; every wait has a deadline."""
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

from harness import Gateway, free_port, load_seed, mock_member, wait_for
from test_direct import direct_member, make_cert
from test_mock_tour import MANIFEST
from tours import (discovery_tour, kubectl_exec_tour, kubectl_follow_tour,
                   kubectl_lifecycle_tour, kubectl_ssa_tour,
                   kubectl_validation_tour, python_client_tour,
                   python_lifecycle_tour, python_ssa_tour,
                   python_validation_tour)

POD = next(o["metadata"]["name"] for o in load_seed("demo.json")["objects"]
           if o["kind"] == "Pod" and o["metadata"].get("namespace") == "shop")


class Pair:
    """A member-role gateway serving demo.json, and a host that reaches it
    directly as "edge" (HTTP/2) and "edge1" (HTTP/1.1). EXTRA: more host
    member sections."""

    def __init__(self, extra=()):
        self.member = Gateway(members=[mock_member("edge", "demo.json")],
                              role="member").start()
        self.token = os.path.join(self.member.state, "admin.token")
        self.host = Gateway(members=[
            direct_member("edge", self.member.port, self.member.ca,
                          self.token),
            direct_member("edge1", self.member.port, self.member.ca,
                          self.token, "http2 = false\n")] + list(extra))
        try:
            self.host.start()
        except Exception:
            self.member.stop()
            self.member.cleanup()
            raise
        self.cache = tempfile.mkdtemp(prefix="fedgate-kcache-")
        self.killed = False

    def kill_member(self):
        self.member.signal(signal.SIGKILL)
        self.member.proc.wait(10)
        self.member.log.close()
        self.killed = True

    def restart_member(self):
        """The same port, state directory and configuration."""
        self.member.start()
        self.killed = False

    def stop(self):
        errors = []
        for gw in (self.host, self.member):
            code = gw.stop()
            if gw is self.member and self.killed:
                self.member.cleanup()
                continue
            if code not in (0, None):
                errors.append("fedgate exited %s:\n%s" % (code, gw.logs()))
            gw.cleanup()
        shutil.rmtree(self.cache, ignore_errors=True)
        if errors:
            raise AssertionError("\n".join(errors))


class PairTest(unittest.TestCase):
    """A Pair for the class; target(): its host and the context "edge"
    (HTTP/2 to the member), for cases written against target()."""

    @classmethod
    def setUpClass(cls):
        cls.pair = Pair()

    @classmethod
    def tearDownClass(cls):
        cls.pair.stop()

    def target(self):
        return self.pair.host, "edge"


class Lines:
    """A process's output lines, read on a thread so that every wait on
    them has a deadline."""

    def __init__(self, stream):
        self.q = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, args=(stream,),
                         daemon=True).start()

    def _read(self, stream):
        for line in iter(stream.readline, ""):
            self.q.put(line)
        self.q.put(None)

    def wait(self, pred, timeout):
        """True once a line matches PRED; False at the end of the output."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching line in %.0fs: %r" %
                                     (timeout, self.seen))
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                return False
            self.seen.append(line)
            if pred(line):
                return True


def stop_proc(proc):
    """Stops a client process by its pid, bounded."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    for s in (proc.stdin, proc.stdout, proc.stderr):
        if s:
            s.close()


def queued_at(port):
    """Bytes received but not yet read by whoever owns the established
    sockets on 127.0.0.1:PORT (a stopped process's receive queues)."""
    total = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[1] == "0100007F:%04X" % port and parts[3] == "01":
                total += int(parts[4].split(":")[1], 16)
    return total


class TourBase:
    """The tour through the host's CONTEXT; a mixin for one class per
    upstream protocol."""

    context = None

    @classmethod
    def setUpClass(cls):
        cls.pair = Pair()
        cls.host, cls.member = cls.pair.host, cls.pair.member

    @classmethod
    def tearDownClass(cls):
        cls.pair.stop()

    def cmd(self, gw, context, *args):
        return ["kubectl", "--kubeconfig", gw.kubeconfig, "--context", context,
                "--cache-dir", self.pair.cache] + list(args)

    def kubectl(self, *args, check=True, own=False, stdin=None, env=None):
        """kubectl through the host, or with OWN on the member itself."""
        gw, ctx = (self.member, "edge") if own else (self.host, self.context)
        out = subprocess.run(self.cmd(gw, ctx, "--request-timeout=20s", *args),
                             capture_output=True, text=True, input=stdin,
                             timeout=60, env=env)
        if check:
            self.assertEqual(out.returncode, 0, "%s failed:\n%s%s" % (
                " ".join(args), out.stdout, out.stderr))
        return out

    def same_as_member(self, *args):
        """ARGS give the same output through the host as on the member."""
        via = self.kubectl(*args).stdout
        own = self.kubectl(*args, own=True).stdout
        if "json" in args:
            via, own = json.loads(via), json.loads(own)
        self.assertEqual(via, own, args)
        return via

    def apply(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml",
                                         delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        return self.kubectl("apply", "-f", f.name)

    def test_1_the_tour(self):
        ns = "tour"
        self.kubectl("create", "namespace", ns)
        # apply validates: kubectl downloads /openapi/v3 through the host
        out = self.apply(MANIFEST)
        self.assertIn("deployment.apps/tour created", out.stdout)
        self.assertIn("service/tour created", out.stdout)
        self.assertIn("configmap/tour created", out.stdout)
        self.assertIn("deployment.apps/tour unchanged",
                      self.apply(MANIFEST).stdout)
        out = self.apply(MANIFEST.replace("nginx:1.27", "nginx:1.28"))
        self.assertIn("deployment.apps/tour configured", out.stdout)

        d = self.same_as_member("get", "deploy", "tour", "-n", ns, "-o",
                                "json")
        self.assertEqual(d["spec"]["template"]["spec"]["containers"][0]
                         ["image"], "nginx:1.28")
        self.same_as_member("get", "pods", "-A", "-o", "json")
        self.same_as_member("get", "all,cm", "-n", ns, "-l", "app=tour",
                            "-o", "name")
        out = self.kubectl("get", "all,cm", "-n", ns, "-l", "app=tour",
                           "-o", "name")
        for name in ("deployment.apps/tour", "service/tour",
                     "configmap/tour"):
            self.assertIn(name, out.stdout)
        out = self.kubectl("get", "cm", "-n", ns, "-l", "app!=tour", "-o",
                           "name")
        self.assertNotIn("configmap/tour", out.stdout)

        self.kubectl("label", "cm", "tour", "-n", ns, "tier=front")
        self.kubectl("annotate", "cm", "tour", "-n", ns, "note=hi")
        cm = self.same_as_member("get", "cm", "tour", "-n", ns, "-o", "json")
        self.assertEqual(cm["metadata"]["labels"]["tier"], "front")
        self.assertEqual(cm["metadata"]["annotations"]["note"], "hi")

        self.kubectl("scale", "deploy/tour", "-n", ns, "--replicas=5")
        out = self.kubectl("get", "deploy", "tour", "-n", ns, "-o",
                           "jsonpath={.spec.replicas}")
        self.assertEqual(out.stdout, "5")

        editor = os.path.join(self.host.tmp, "editor.sh")
        with open(editor, "w") as f:
            f.write("#!/bin/sh\nsed -i 's/greeting: hello/greeting: edited/' "
                    "\"$1\"\n")
        os.chmod(editor, 0o755)
        self.kubectl("edit", "cm", "tour", "-n", ns,
                     env=dict(os.environ, KUBE_EDITOR=editor))
        out = self.kubectl("get", "cm", "tour", "-n", ns, "-o",
                           "jsonpath={.data.greeting}", own=True)
        self.assertEqual(out.stdout, "edited")

        out = self.kubectl("delete", "cm", "tour", "-n", ns)
        self.assertIn('configmap "tour" deleted', out.stdout)
        out = self.kubectl("get", "cm", "tour", "-n", ns, check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('configmaps "tour" not found', out.stderr)
        self.kubectl("delete", "namespace", ns)
        out = self.kubectl("get", "deploy", "-n", ns, "-o", "name")
        self.assertEqual(out.stdout.strip(), "")

    def test_2_watch_sees_added_then_deleted(self):
        self.kubectl("create", "namespace", "watched")
        # An object that exists first: its ADDED line says the watch is open.
        self.kubectl("create", "configmap", "w0", "-n", "watched")
        watch = subprocess.Popen(
            self.cmd(self.host, self.context, "get", "configmaps", "-n",
                     "watched", "-w", "--output-watch-events", "-o",
                     "custom-columns=EVENT:.type,NAME:.object.metadata.name",
                     "--request-timeout=0"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            lines = Lines(watch.stdout)
            self.assertTrue(lines.wait(lambda l: l.split() == ["ADDED", "w0"],
                                       20))
            self.kubectl("create", "configmap", "w1", "-n", "watched",
                         "--from-literal=a=b")
            self.kubectl("delete", "configmap", "w1", "-n", "watched")
            self.assertTrue(lines.wait(
                lambda l: l.split() == ["DELETED", "w1"], 20))
        finally:
            stop_proc(watch)
        seen = [l.split() for l in lines.seen]
        self.assertIn(["ADDED", "w1"], seen)
        self.assertLess(seen.index(["ADDED", "w1"]),
                        seen.index(["DELETED", "w1"]))

    def test_3_logs(self):
        out = self.kubectl("logs", "-n", "shop", POD, "--tail=2")
        self.assertEqual(len(out.stdout.splitlines()), 2)
        own = self.kubectl("logs", "-n", "shop", POD, "--tail=2", own=True)
        self.assertEqual(out.stdout, own.stdout)
        kubectl_follow_tour(self, self.cmd(self.host, self.context), POD)

    def test_4_exec(self):
        kubectl_exec_tour(self, self.kubectl, POD)
        self.same_as_member("exec", "-n", "shop", POD, "--", "env")

    def test_5_python_client(self):
        python_client_tour(self, self.host.kubeconfig, self.context)
        python_ssa_tour(self, self.host.kubeconfig, self.context)
        python_validation_tour(self, self.host.kubeconfig, self.context)
        python_lifecycle_tour(self, self.host.kubeconfig, self.context)

    def test_7_server_side_apply(self):
        kubectl_ssa_tour(self, self.kubectl, self.host.tmp)

    def test_8_field_validation(self):
        kubectl_validation_tour(self, self.kubectl, self.host.tmp)

    def test_9_discovery(self):
        discovery_tour(self, self.kubectl, self.host.kubeconfig, self.context)

    def test_10_lifecycle(self):
        kubectl_lifecycle_tour(self, self.kubectl, self.host.tmp)

    def curl(self, gw, path):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", gw.ca, "-H",
             "Authorization: Bearer " + gw.token, "-w", "\n%{http_code}",
             gw.base + path], capture_output=True, text=True, timeout=30)
        body, _, code = out.stdout.rpartition("\n")
        return int(code or 0), body

    def test_6_openapi_urls_carry_the_prefix(self):
        prefix = "/clusters/%s" % self.context
        code, body = self.curl(self.host, prefix + "/openapi/v3")
        self.assertEqual(code, 200, body)
        via = json.loads(body)["paths"]
        code, body = self.curl(self.member, "/openapi/v3")
        own = json.loads(body)["paths"]
        self.assertEqual(sorted(via), sorted(own))
        self.assertIn("apis/apps/v1", via)
        for gv, item in own.items():
            url = item["serverRelativeURL"]
            self.assertTrue(url.startswith("/openapi/v3/"), url)
            self.assertEqual(via[gv]["serverRelativeURL"], prefix + url)
            # resolved against the server root, as the index says
            code, doc = self.curl(self.host, via[gv]["serverRelativeURL"])
            self.assertEqual(code, 200, doc)
            self.assertEqual(json.loads(doc),
                             json.loads(self.curl(self.member, url)[1]))
        # a group-version document itself is relayed as it is
        code, doc = self.curl(self.host, prefix + "/openapi/v3/apis/apps/v1")
        self.assertEqual(code, 200)
        self.assertNotIn(prefix + "/openapi", doc)


class TourOverHTTP2(TourBase, unittest.TestCase):
    context = "edge"


class TourOverHTTP1(TourBase, unittest.TestCase):
    context = "edge1"


class MemberFailures(unittest.TestCase):
    """The member killed mid-watch, mid-exec and mid-request; unreachable;
    untrusted; added by editing one ini file."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-tour-")
        cls.other_ca, _ = make_cert(cls.tmp, "other")
        cls.ca_copy = os.path.join(cls.tmp, "member-ca.crt")
        shutil.copy(cls.other_ca, cls.ca_copy)  # wrong until fixed
        cls.gone_port = free_port()
        # token_file is read at start: the "gone" members reuse a file
        tok = os.path.join(cls.tmp, "token")
        with open(tok, "w") as f:
            f.write("unused\n")
        try:
            cls.pair = Pair(extra=[
                direct_member("gone", cls.gone_port, cls.other_ca, tok),
                direct_member("gone1", cls.gone_port, cls.other_ca, tok,
                              "http2 = false\n")])
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.host, cls.member = cls.pair.host, cls.pair.member

    @classmethod
    def tearDownClass(cls):
        try:
            cls.pair.stop()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        # one test's failure leaves no dead member to the next
        if self.member.proc.poll() is not None:
            self.pair.restart_member()

    def cmd(self, context, *args):
        return ["kubectl", "--kubeconfig", self.host.kubeconfig, "--context",
                context, "--cache-dir", self.pair.cache] + list(args)

    def kubectl(self, context, *args, check=True):
        out = subprocess.run(self.cmd(context, "--request-timeout=20s", *args),
                             capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(out.returncode, 0, "%s failed:\n%s%s" % (
                " ".join(args), out.stdout, out.stderr))
        return out

    def curl(self, path):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", self.host.ca,
             "-H", "Authorization: Bearer " + self.host.token, "-D", "-",
             "-w", "\n%{http_code}", self.host.base + path],
            capture_output=True, text=True, timeout=30)
        text, _, code = out.stdout.rpartition("\n")
        return int(code or 0), text

    def assert_unavailable(self, context, why=None):
        """A 503 Status with retry-after naming the member."""
        code, text = self.curl("/clusters/%s/api/v1/namespaces" % context)
        self.assertEqual(code, 503, text)
        self.assertIn("retry-after: 1", text.lower())
        st = json.loads(text[text.index("{"):])
        self.assertEqual((st["kind"], st["reason"], st["code"]),
                         ("Status", "ServiceUnavailable", 503))
        want = 'the member cluster "%s" is unavailable: ' % context
        self.assertTrue(st["message"].startswith(want), st["message"])
        if why:
            self.assertIn(why, st["message"])

    def python_status(self, context, host=None):
        """The Python client's view of a failing list: (status, message)."""
        import kubernetes
        api = kubernetes.config.new_client_from_config(
            config_file=(host or self.host).kubeconfig, context=context)
        try:
            kubernetes.client.CoreV1Api(api).list_namespace(
                _request_timeout=20)
        except kubernetes.client.exceptions.ApiException as e:
            return e.status, json.loads(e.body)["message"]
        finally:
            api.rest_client.pool_manager.clear()
            api.close()
        self.fail("the list succeeded")

    def recover(self):
        self.pair.restart_member()
        for ctx in ("edge", "edge1"):
            out = self.kubectl(ctx, "get", "pods", "-n", "shop", "-o", "name")
            self.assertIn("pod/" + POD, out.stdout)

    def warm(self):
        # discovery cached: later kubectl calls go straight to the request
        for ctx in ("edge", "edge1"):
            self.kubectl(ctx, "get", "pods", "-A", "-o", "name")

    def test_killed_mid_watch(self):
        for ctx in ("edge", "edge1"):
            self.warm()
            watch = subprocess.Popen(
                self.cmd(ctx, "get", "pods", "-n", "shop", "-w",
                         "--request-timeout=0"),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                lines = Lines(watch.stdout)
                self.assertTrue(lines.wait(lambda l: POD in l, 20))
                self.pair.kill_member()
                # the stream ends: kubectl does not hang on it
                watch.wait(30)
                lines.wait(lambda l: False, 10)  # to the end of the output
                err = watch.stderr.read()
            finally:
                stop_proc(watch)
            # the end shows: the broken stream, or the Status kubectl got
            # when it tried to watch again
            out = "".join(lines.seen) + err
            self.assertTrue("watch stream" in out or
                            'the member cluster "%s" is unavailable' % ctx
                            in out, out)
            self.assert_unavailable(ctx, "connection refused")
            self.recover()

    def test_killed_mid_exec(self):
        for ctx in ("edge", "edge1"):
            self.warm()
            proc = subprocess.Popen(
                self.cmd(ctx, "exec", "-i", "-n", "shop", POD, "--", "cat"),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            try:
                lines = Lines(proc.stdout)
                proc.stdin.write("ping\n")
                proc.stdin.flush()
                self.assertTrue(lines.wait(lambda l: l == "ping\n", 20))
                self.pair.kill_member()
                # stdin stays open: only the member's end ends the exec
                code = proc.wait(30)
                err = proc.stderr.read()
            finally:
                stop_proc(proc)
            self.assertNotEqual(code, 0, err)
            self.assert_unavailable(ctx)
            self.recover()
            out = self.kubectl(ctx, "exec", "-n", "shop", POD, "--", "echo",
                               "back")
            self.assertEqual(out.stdout, "back\n")

    def request_in_flight(self, ctx):
        """`get pods -A -o json` sent to a stopped member, then the member
        killed before it answers. Returns the running kubectl."""
        self.member.signal(signal.SIGSTOP)
        try:
            before = queued_at(self.member.port)
            proc = subprocess.Popen(
                self.cmd(ctx, "--request-timeout=30s", "get", "pods", "-A",
                         "-o", "json"),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_for(lambda: queued_at(self.member.port) > before, 20,
                     "the request to reach the member")
        finally:
            self.pair.kill_member()  # SIGKILL ends a stopped process too
        return proc

    def test_killed_mid_request(self):
        for ctx in ("edge", "edge1"):
            self.warm()
            proc = self.request_in_flight(ctx)
            try:
                # kubectl retries as retry-after says, then shows the Status
                out, err = proc.communicate(timeout=40)
            finally:
                stop_proc(proc)
            self.assertNotEqual(proc.returncode, 0, out)
            self.assertIn('Error from server (ServiceUnavailable): the member '
                          'cluster "%s" is unavailable' % ctx, err)
            # kubectl prints an empty list before the error, never pods
            self.assertEqual(json.loads(out or '{"items":[]}')["items"], [])
            self.recover()
        # back within retry-after's retries: the same command succeeds
        self.warm()
        proc = self.request_in_flight("edge")
        try:
            self.pair.restart_member()
            out, err = proc.communicate(timeout=40)
        finally:
            stop_proc(proc)
        self.assertEqual(proc.returncode, 0, err)
        pods = json.loads(out)["items"]
        self.assertIn(POD, [p["metadata"]["name"] for p in pods])

    def test_unreachable(self):
        for ctx in ("gone", "gone1"):
            self.assert_unavailable(ctx, "connection refused")
            code, msg = self.python_status(ctx)
            self.assertEqual(code, 503)
            self.assertEqual(msg, 'the member cluster "%s" is unavailable: '
                             'connection refused' % ctx)
            # kubectl retries per retry-after, then shows the Status
            path = "/clusters/%s/api/v1/namespaces" % ctx
            out = self.kubectl(ctx, "get", "--raw", path, check=False)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('Error from server (ServiceUnavailable): the member '
                          'cluster "%s" is unavailable: connection refused'
                          % ctx, out.stderr)

    def test_wrong_ca_then_fixed_by_sighup(self):
        """A member whose CA file is wrong: a clear 503; the user writes
        the right CA into the file and sends SIGHUP."""
        host = Gateway(members=[
            direct_member("edge", self.member.port, self.ca_copy,
                          self.pair.token),
            direct_member("edge1", self.member.port, self.ca_copy,
                          self.pair.token, "http2 = false\n")])
        try:
            host.start()
            for ctx in ("edge", "edge1"):
                code, msg = self.python_status(ctx, host)
                self.assertEqual(code, 503)
                self.assertIn('the member cluster "%s" is unavailable' % ctx,
                              msg)
                self.assertIn("certificate verify failed", msg)
            shutil.copy(self.member.ca, self.ca_copy)
            host.signal(signal.SIGHUP)
            # the CA file changed: new driver instances for both
            wait_for(lambda: all('member "%s": changed' % m
                                 in host.logs() for m in ("edge", "edge1")),
                     20, "both members to reload")
            for ctx in ("edge", "edge1"):
                out = subprocess.run(
                    ["kubectl", "--kubeconfig", host.kubeconfig, "--context",
                     ctx, "--request-timeout=20s", "get", "ns", "shop", "-o",
                     "name"], capture_output=True, text=True, timeout=60)
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(out.stdout, "namespace/shop\n")
        finally:
            code = host.stop()
            logs = host.logs()
            host.cleanup()
            shutil.copy(self.other_ca, self.ca_copy)
        self.assertEqual(code, 0, logs)

    def test_one_ini_file_and_a_restart(self):
        """The user's path: one ini file for the member, a restart, and
        kubectl works through the host as on the member itself."""
        host = Gateway(members=[])
        try:
            host.start()
            host.write("30-edge.ini", direct_member(
                "added", self.member.port, self.member.ca, self.pair.token))
            self.assertEqual(host.stop(), 0, host.logs())
            host.start()
            via = subprocess.run(
                ["kubectl", "--kubeconfig", host.kubeconfig, "--context",
                 "added", "--request-timeout=20s", "get", "deploy", "-n",
                 "shop", "-o", "json"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(via.returncode, 0, via.stderr)
            own = subprocess.run(
                ["kubectl", "--kubeconfig", self.member.kubeconfig,
                 "--context", "edge", "--request-timeout=20s", "get",
                 "deploy", "-n", "shop", "-o", "json"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(json.loads(via.stdout), json.loads(own.stdout))
        finally:
            code = host.stop()
            logs = host.logs()
            host.cleanup()
        self.assertEqual(code, 0, logs)


if __name__ == "__main__":
    unittest.main()
