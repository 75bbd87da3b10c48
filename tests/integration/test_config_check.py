"""fedgate --check: validates the whole configuration without binding,
prints problems as FILE:LINE: message, exits 0/1."""
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import FEDGATE, SEEDS, SOURCE_DIR, Gateway, mock_member


class CheckTest(unittest.TestCase):

    def check(self, gw):
        self.addCleanup(gw.cleanup)
        return subprocess.run([FEDGATE, "-c", gw.conf, "--check"],
                              capture_output=True, text=True, timeout=30)

    def test_shipped_config_is_valid(self):
        out = subprocess.run(
            [FEDGATE, "-c", os.path.join(SOURCE_DIR, "conf.d"), "--check"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("valid", out.stdout)

    def test_check_binds_nothing(self):
        gw = Gateway()
        with socket.socket() as s:
            s.bind(("127.0.0.1", gw.port))
            s.listen(1)
            out = self.check(gw)  # the port is taken: --check must not care
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertFalse(os.path.exists(gw.state), "--check wrote state")

    def test_syntax_problems_name_file_and_line(self):
        gw = Gateway()
        gw.write("30-bad.ini", "[gateway2]\nx = 1\n")
        gw.write("40-bad.ini", '[member "%s"]\ndriver = mock\n' % ("a" * 64))
        out = self.check(gw)
        self.assertEqual(out.returncode, 1)
        self.assertIn(os.path.join(gw.conf, "30-bad.ini") + ":1:", out.stderr)
        self.assertIn(os.path.join(gw.conf, "40-bad.ini") + ":1:", out.stderr)

    def test_driver_key_problems_name_file_and_line(self):
        gw = Gateway(members=[mock_member("demo", "demo.json") +
                              "colour = blue\n"])
        out = self.check(gw)
        self.assertEqual(out.returncode, 1)
        member_file = os.path.join(gw.conf, "20-member.ini")
        self.assertIn(member_file + ":4:", out.stderr)
        self.assertIn("colour", out.stderr)

    def test_bad_seed_is_reported(self):
        gw = Gateway(members=['[member "demo"]\ndriver = mock\nseed = %s\n'
                              % os.path.join(SOURCE_DIR, "README.md")])
        out = self.check(gw)
        self.assertEqual(out.returncode, 1)
        self.assertIn(os.path.join(gw.conf, "20-member.ini") + ":1:",
                      out.stderr)

    def test_missing_files_name_the_key_line(self):
        missing = os.path.join(SEEDS, "no-such-seed.json")
        gw = Gateway(members=['[member "demo"]\ndriver = mock\n'
                              '; the seed is on the next line\n'
                              'seed = %s\n' % missing])
        out = self.check(gw)
        self.assertEqual(out.returncode, 1)
        member_file = os.path.join(gw.conf, "20-member.ini")
        self.assertIn(member_file + ":4: seed: cannot read", out.stderr)
        gw.write("15-tls.ini", "[tls]\ncert_file = absent.crt\n"
                 "key_file = absent.key\n")
        out = self.check(gw)
        self.assertEqual(out.returncode, 1)
        tls_file = os.path.join(gw.conf, "15-tls.ini")
        self.assertIn(tls_file + ":2: cert_file: cannot read", out.stderr)
        self.assertIn(tls_file + ":3: key_file: cannot read", out.stderr)
        start = subprocess.run([FEDGATE, "-c", gw.conf], capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(start.returncode, 1)
        self.assertIn(":2: cert_file: cannot read", start.stderr)

    def test_a_foreign_library_in_plugin_dir_is_refused_by_both(self):
        plugins = tempfile.mkdtemp(prefix="fedgate-plugins-")
        self.addCleanup(shutil.rmtree, plugins)
        real = os.path.dirname(os.path.realpath(FEDGATE))
        real = os.path.join(os.path.dirname(real), "lib", "fedgate", "plugins")
        for so in os.listdir(real):
            os.symlink(os.path.join(real, so), os.path.join(plugins, so))
        # A shared object without the entry symbol (a loader fixture).
        shutil.copy(os.path.join(os.environ["FG_BINARY_DIR"], "tests",
                                 "fixtures", "plugin_loader", "no_entry",
                                 "plugin.so"),
                    os.path.join(plugins, "zz-foreign.so"))
        gw = Gateway(plugin_dir=plugins)
        out = self.check(gw)
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("zz-foreign.so", out.stderr)
        start = subprocess.run([FEDGATE, "-c", gw.conf], capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(start.returncode, 1, start.stderr)
        self.assertIn("zz-foreign.so", start.stderr)

    def test_bad_certificate_is_reported(self):
        gw = Gateway()
        with open(os.path.join(gw.conf, "server.crt"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot one\n"
                    "-----END CERTIFICATE-----\n")
        with open(os.path.join(gw.conf, "server.key"), "w") as f:
            f.write("nor a key\n")
        gw.write("15-tls.ini", "[tls]\ncert_file = server.crt\n"
                 "key_file = server.key\n")
        out = self.check(gw)
        self.assertEqual(out.returncode, 1)
        self.assertIn(os.path.join(gw.conf, "15-tls.ini") + ":1:", out.stderr)
        self.assertIn("server.crt", out.stderr)

    def test_server_names_reach_the_certificate(self):
        """[tls] server_names (a Service's DNS names) are covered by the
        generated serving certificate; adding one later re-issues it."""
        gw = Gateway()
        self.addCleanup(gw.cleanup)

        def sans():
            out = subprocess.run(
                ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                 os.path.join(gw.state, "server.crt")],
                capture_output=True, text=True, timeout=10, check=True)
            return out.stdout

        gw.write("15-tls.ini", "[tls]\nserver_names = "
                 "fedgate.fedgate.svc, fedgate.fedgate.svc.cluster.local\n")
        gw.start()
        self.assertEqual(gw.stop(), 0)
        names = sans()
        self.assertIn("DNS:fedgate.fedgate.svc,", names)
        self.assertIn("DNS:fedgate.fedgate.svc.cluster.local", names)
        self.assertIn("DNS:localhost", names)
        gw.write("15-tls.ini", "[tls]\nserver_names = 10.9.8.7\n")
        gw.start()
        self.assertEqual(gw.stop(), 0)
        self.assertIn("IP Address:10.9.8.7", sans())

    def test_unknown_driver(self):
        gw = Gateway(members=['[member "x"]\ndriver = nosuch\n'])
        out = self.check(gw)
        self.assertEqual(out.returncode, 1)
        self.assertIn("nosuch", out.stderr)

    def test_member_role_allows_one_member(self):
        gw = Gateway(role="member")
        out = self.check(gw)
        self.assertEqual(out.returncode, 1)
        self.assertIn("member", out.stderr)

    def test_start_refuses_a_bad_config(self):
        gw = Gateway(members=['[member "x"]\ndriver = nosuch\n'])
        self.addCleanup(gw.cleanup)
        out = subprocess.run([FEDGATE, "-c", gw.conf], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("nosuch", out.stderr)


if __name__ == "__main__":
    unittest.main()
