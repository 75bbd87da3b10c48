"""A plugin .so replaced in plugin_dir between reloads (issue 18): glibc's
dlopen would hand back the object already loaded from that path, so the
gateway loads the new file from a private copy. swap_probe is one policy
plugin built twice: variant a allows, variant b denies naming itself. New
requests see the new build at once; a request waiting on the old build's
verdict and a watch authorized by it finish on it; once they are done the
old object is unloaded (gone from the process's mappings, its copy's
descriptor closed) and one generation is left.
"""
import json
import os
import shutil
import signal
import subprocess
import threading
import unittest

from harness import Gateway, mock_member, plugin_dir, wait_for
from test_reload import Watch, metric

CONFIGMAPS = "/clusters/demo/api/v1/namespaces/default/configmaps"
WAITING = "/clusters/demo/api/v1/namespaces/kube-system/configmaps"
BUILT = os.path.join(os.environ.get("FG_BINARY_DIR", ""), "tests", "plugins")


class ReloadPluginTest(unittest.TestCase):

    def setUp(self):
        self.plugins = plugin_dir()
        self.addCleanup(shutil.rmtree, self.plugins, ignore_errors=True)
        self.install("a")
        self.log = os.path.join(self.plugins, "swap.log")
        policy = ('\n[policy]\nchain = admin_token, swap\n'
                  '[plugin "admin_token"]\n'
                  '[plugin "swap"]\nplugin = swap_probe\nlog_file = %s\n'
                  'delay = 1s\n' % self.log)
        self.gw = Gateway(members=[mock_member("demo", "demo.json")],
                          plugin_dir=self.plugins, policy=policy,
                          extra_gateway="reload_drain = 120s\n")
        self.addCleanup(self.gw.cleanup)
        self.gw.start()
        self.token = self.gw.token

        def stop():
            code = self.gw.stop()
            self.assertEqual(code, 0, self.gw.logs())
        self.addCleanup(stop)
        wait_for(lambda: "serving" in self.gw.logs(), 20, "fedgate to serve")

    def install(self, variant):
        """swap_probe.so becomes a fresh copy of VARIANT's build, by a
        rename as install(1) and package managers replace files."""
        tmp = os.path.join(self.plugins, ".swap_probe.so.new")
        shutil.copyfile(os.path.join(BUILT, "swap_probe_%s.so" % variant), tmp)
        os.rename(tmp, os.path.join(self.plugins, "swap_probe.so"))

    def reload(self, variant):
        taken = self.gw.logs().count("reload: serving")
        self.install(variant)
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: self.gw.logs().count("reload: serving") > taken, 20,
                 "the reload to variant " + variant)
        self.assertIn("plugin swap_probe 0.0.1-%s: loaded from %s" %
                      (variant, os.path.join(self.plugins, "swap_probe.so")),
                      self.gw.logs())

    def curl(self, path, *args):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", self.gw.ca,
             "-o", "-", "-w", "\n%{http_code}", "-H",
             "Authorization: Bearer " + self.token, *args,
             self.gw.base + path],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, code = out.stdout.rpartition("\n")
        return int(code), body

    def lines(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def mapped(self):
        """The swap_probe objects mapped into the gateway: (device, inode)
        of each, and the descriptors of private copies it holds."""
        objects = set()
        with open("/proc/%d/maps" % self.gw.proc.pid) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and "swap_probe" in line:
                    objects.add((fields[3], fields[4]))
        fd_dir = "/proc/%d/fd" % self.gw.proc.pid
        copies = []
        for fd in os.listdir(fd_dir):
            try:
                if "swap_probe" in os.readlink(os.path.join(fd_dir, fd)):
                    copies.append(fd)
            except FileNotFoundError:
                pass
        return objects, copies

    def test_swapped_build_serves_new_requests_old_ones_finish(self):
        code, body = self.curl(CONFIGMAPS)
        self.assertEqual(code, 200, body)
        self.assertEqual(self.mapped()[1], [])  # loaded from plugin_dir
        watch = Watch(self.gw, self.token, CONFIGMAPS)
        self.assertEqual(watch.resp.status, 200)
        # a request waiting for variant a's verdict while a is replaced
        waiting = {}
        thread = threading.Thread(target=lambda: waiting.update(
            answer=self.curl(WAITING)))
        thread.start()
        wait_for(lambda: "a authorize %s" % WAITING in
                 self.lines(), 10, "the request to wait in authorize")

        self.reload("b")
        code, body = self.curl(CONFIGMAPS)
        self.assertEqual(code, 403, body)
        self.assertIn("swap_probe variant b denies", body)
        self.assertIn("b authorize %s" % CONFIGMAPS, self.lines())
        thread.join(30)
        self.assertEqual(waiting["answer"][0], 200, waiting)
        self.assertIn("a audit %s 200" % WAITING, self.lines())
        objects, copies = self.mapped()
        self.assertEqual(len(objects), 2, objects)  # a (the watch's) and b
        self.assertEqual(len(copies), 1, copies)

        # a third build (a again, a new file): writes are allowed again and
        # the watch, still on the first build's generation, sees them
        self.reload("a")
        code, body = self.curl(CONFIGMAPS, "-X", "POST", "-H",
                               "Content-Type: application/json", "-d",
                               json.dumps({"apiVersion": "v1",
                                           "kind": "ConfigMap",
                                           "metadata": {"name": "swapped"}}))
        self.assertEqual(code, 201, body)
        wait_for(lambda: any(e["object"]["metadata"]["name"] == "swapped"
                             for e in watch.lines), 10, "the watch's event")
        self.assertIsNone(watch.ended)
        # b served no request in flight: unloaded at once
        wait_for(lambda: len(self.mapped()[0]) == 2, 10, "b to be unloaded")
        # closed by its client: 499, audited by the build that allowed it
        watch_audit = "a audit %s 499" % CONFIGMAPS
        self.assertNotIn(watch_audit, self.lines())
        self.assertIn("2", self.gw_metric("fedgate_config_generations_live"))

        watch.close()
        wait_for(lambda: watch_audit in self.lines(), 10,
                 "the first build to audit the watch")
        wait_for(lambda: self.gw_metric("fedgate_config_generations_live") ==
                 "1", 10, "the watch's generation to go")
        objects, copies = self.mapped()
        self.assertEqual(len(objects), 1, objects)
        self.assertEqual(len(copies), 1, copies)
        self.assertNotIn(os.path.join(self.plugins, "swap_probe.so"),
                         open("/proc/%d/maps" % self.gw.proc.pid).read())
        code, body = self.curl(CONFIGMAPS)
        self.assertEqual(code, 200, body)

    def gw_metric(self, name):
        code, body = self.curl("/metrics")
        self.assertEqual(code, 200, body)
        return str(metric(body, name))

    def test_verdict_waiting_past_reload_drain_is_503(self):
        # a verdict 60 s away, then a reload whose reload_drain is 1 s
        ini = os.path.join(self.gw.conf, "10-gateway.ini")
        with open(ini) as f:
            text = f.read()
        self.gw.write("10-gateway.ini", text.replace("delay = 1s",
                                                     "delay = 60s"))
        taken = self.gw.logs().count("reload: serving")
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: self.gw.logs().count("reload: serving") > taken, 20,
                 "the slow verdicts")
        waiting = {}
        thread = threading.Thread(target=lambda: waiting.update(
            answer=self.curl(WAITING)))
        thread.start()
        wait_for(lambda: "a authorize %s" % WAITING in self.lines(), 10,
                 "the request to wait in authorize")
        self.gw.write("10-gateway.ini", text.replace(
            "reload_drain = 120s", "reload_drain = 1s"))
        self.gw.signal(signal.SIGHUP)
        thread.join(20)
        self.assertFalse(thread.is_alive())
        code, body = waiting["answer"]
        self.assertEqual(code, 503, body)
        self.assertIn('the policy plugin \\"swap\\" gave no verdict before '
                      "its configuration was replaced (reload_drain)", body)
        self.assertIn("a audit %s 503" % WAITING, self.lines())
        self.assertEqual(self.curl(CONFIGMAPS)[0], 200)

    def test_refused_build_keeps_the_running_one(self):
        refused = self.gw.logs().count("reload refused")
        tmp = os.path.join(self.plugins, ".swap_probe.so.new")
        with open(tmp, "w") as f:
            f.write("not a shared object\n")
        os.rename(tmp, os.path.join(self.plugins, "swap_probe.so"))
        self.gw.signal(signal.SIGHUP)
        wait_for(lambda: self.gw.logs().count("reload refused") > refused,
                 20, "the reload to be refused")
        self.assertIn("reload refused: %s: refused: cannot load: " %
                      os.path.join(self.plugins, "swap_probe.so"),
                      self.gw.logs())
        code, body = self.curl(CONFIGMAPS)
        self.assertEqual(code, 200, body)
        self.assertEqual(self.gw_metric("fedgate_reload_failures_total"), "1")
        # the file fixed: taken
        self.reload("b")
        self.assertEqual(self.curl(CONFIGMAPS)[0], 403)


if __name__ == "__main__":
    unittest.main()
