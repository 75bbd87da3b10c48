"""What tests/integration/test_access_*.py share: a gateway whose chain is
tests/plugins/authz_table (tokens and rules from a table, verdicts now or
DELAY later), kubectl run as one of the table's users, and the plugin's
log of every authorize call."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import Gateway, plugin_dir

TABLE = """
token alice-token alice team-a
token bob-token bob
token root-token root admins
allow group:admins * * * * *
allow alice list - pods default demo
allow alice get - pods default demo
allow alice impersonate - users - * bob
allow alice impersonate - groups - * team-b
deny bob list - secrets * demo
allow bob list - pods * demo
allow group:team-b list - configmaps default demo
allow bob get - /healthz - demo
allow * get - /api* - *
allow * get - /version - *
"""


class AccessTest(unittest.TestCase):
    """TABLE (the class's `table`) decides; EXTRA_POLICY adds sections
    after the chain's, EXTRA_GATEWAY keys to [gateway], and TEST_PLUGINS
    are linked into the plugin_dir beside authz_table."""
    delay = "0"
    table = TABLE
    extra_policy = ""
    extra_gateway = ""
    test_plugins = ()

    @classmethod
    def setUpClass(cls):
        cls.plugins = plugin_dir("authz_table.so", *cls.test_plugins)
        cls.tmp = tempfile.mkdtemp(prefix="fedgate-access-")
        cls.log = os.path.join(cls.tmp, "authorize.log")
        table = os.path.join(cls.tmp, "table")
        with open(table, "w") as f:
            f.write(cls.table)
        cls.gw = Gateway(plugin_dir=cls.plugins,
                         extra_gateway=cls.extra_gateway, policy=(
            '\n[policy]\nchain = table\n[plugin "table"]\n'
            'plugin = authz_table\ntable = %s\nlog_file = %s\ndelay = %s\n'
            % (table, cls.log, cls.delay) + cls.extra_policy))
        try:
            cls.gw.start()
        except Exception:
            cls.gw.stop()
            cls.gw.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.gw.stop()
        logs = cls.gw.logs()
        cls.gw.cleanup()
        shutil.rmtree(cls.plugins, ignore_errors=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if code != 0:
            raise AssertionError("fedgate exited %s:\n%s" % (code, logs))

    def kubectl(self, user, *args, context="demo"):
        cmd = ["kubectl", "--kubeconfig", self.gw.kubeconfig, "--context",
               context, "--token", user + "-token", "--request-timeout=20s"]
        return subprocess.run(cmd + list(args), capture_output=True,
                              text=True, timeout=60)

    def calls(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def call_mark(self):
        return len(self.calls())

    def calls_since(self, mark):
        return [dict(kv.split("=", 1) for kv in line.split()[1:])
                for line in self.calls()[mark:]
                if line.startswith("authorize ")]
