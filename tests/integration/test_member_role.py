"""The member role: one cluster, served unprefixed and under its own
/clusters/NAME; no other name resolves."""
import json
import subprocess
import tempfile
import unittest

from harness import GatewayTest, mock_member


class MemberRoleTest(GatewayTest):
    role = "member"
    members = [mock_member("edge", "demo.json")]

    def test_unprefixed_and_prefixed(self):
        for path in ("/api/v1/namespaces", "/clusters/edge/api/v1/namespaces"):
            code, _, body = self.curl(path)
            self.assertEqual(code, 200, path)
            self.assertEqual(json.loads(body)["kind"], "NamespaceList")

    def test_version_is_the_members(self):
        code, _, body = self.curl("/version")
        self.assertEqual(code, 200)
        self.assertNotIn("fedgate", json.loads(body)["gitVersion"])

    def test_other_names_do_not_resolve(self):
        for name in ("host", "demo", "other"):
            code, _, body = self.curl("/clusters/%s/api" % name)
            self.assertEqual(code, 404, name)
            self.assertEqual(json.loads(body)["message"],
                             'clusters "%s" not found' % name)

    def test_token_is_required(self):
        code, _, _ = self.curl("/api", token=False)
        self.assertEqual(code, 401)

    def test_kubectl(self):
        out = self.kubectl("get", "namespaces", context="edge")
        self.assertIn("shop", out.stdout)

    def test_apply_finds_openapi_unprefixed(self):
        # The member's OpenAPI index must point where this client reached
        # it: unprefixed here, so apply's validation finds the documents.
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                    "  name: applied\n  namespace: default\n"
                    "data: {a: b}\n")
            f.flush()
            cfg = self.gw.kubeconfig + ".unprefixed"
            with open(self.gw.kubeconfig) as src:
                text = src.read().replace("/clusters/edge", "")
            with open(cfg, "w") as dst:
                dst.write(text)
            out = subprocess.run(["kubectl", "--kubeconfig", cfg, "--context",
                                  "edge", "apply", "-f", f.name],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("configmap/applied created", out.stdout)


if __name__ == "__main__":
    unittest.main()
