"""fedgate --check: validates the whole configuration without binding,
prints problems as FILE:LINE: message, exits 0/1."""
import os
import socket
import subprocess
import unittest

from harness import FEDGATE, SOURCE_DIR, Gateway, mock_member


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
