"""Starts real fedgate processes on 127.0.0.1 for integration tests.

Every gateway a test starts is stopped by its pid (SIGTERM, then a bounded
wait); its exit code is checked, so a crash or a sanitizer report at exit
fails the test. Waits poll for a condition with a deadline, never sleep
blindly.
"""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

FEDGATE = os.environ.get("FEDGATE_BIN", "fedgate")
SOURCE_DIR = os.environ.get("FG_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))
SEEDS = os.path.join(SOURCE_DIR, "conf.d", "seeds")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 40.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))


# The shipped chain: the admin token of admin.kubeconfig authenticates.
ADMIN_POLICY = '\n[policy]\nchain = admin_token\n[plugin "admin_token"]\n'


def mock_member(name, seed):
    return '[member "%s"]\ndriver = mock\nseed = %s\n' % (
        name, os.path.join(SEEDS, seed))


def plugin_dir(*test_plugins):
    """A new directory with the built plugins and TEST_PLUGINS (file names
    in the build tree's tests/plugins/) linked in; the caller removes it."""
    d = tempfile.mkdtemp(prefix="fedgate-test-plugins-")
    real = os.path.dirname(os.path.realpath(FEDGATE))
    real = os.path.join(os.path.dirname(real), "lib", "fedgate", "plugins")
    tests = os.path.join(os.environ.get("FG_BINARY_DIR", ""), "tests",
                         "plugins")
    for src, name in [(real, n) for n in os.listdir(real)] + [
            (tests, n) for n in test_plugins]:
        os.symlink(os.path.join(src, name), os.path.join(d, name))
    return d


class Gateway:
    """A fedgate process with its own config and state directories. POLICY
    is appended to 10-gateway.ini: the [policy] chain and its [plugin]
    sections."""

    def __init__(self, members=None, role="host", extra_gateway="",
                 plugin_dir=None, extra_files=None, policy=ADMIN_POLICY):
        self.tmp = tempfile.mkdtemp(prefix="fedgate-it-")
        self.conf = os.path.join(self.tmp, "conf.d")
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.conf)
        self.port = free_port()
        if members is None:
            members = [mock_member("host", "host.json"),
                       mock_member("demo", "demo.json")]
        gateway = ("[gateway]\nrole = %s\nlisten = 127.0.0.1:%d\n"
                   "state_dir = %s\n" % (role, self.port, self.state))
        if plugin_dir:
            gateway += "plugin_dir = %s\n" % plugin_dir
        gateway += extra_gateway
        gateway += policy
        self.write("10-gateway.ini", gateway)
        for i, text in enumerate(members):
            self.write("%02d-member.ini" % (20 + i), text)
        for name, text in (extra_files or {}).items():
            self.write(name, text)
        self.proc = None
        self.log_path = os.path.join(self.tmp, "fedgate.log")

    def write(self, name, text):
        path = os.path.join(self.conf, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    @property
    def kubeconfig(self):
        return os.path.join(self.state, "admin.kubeconfig")

    @property
    def ca(self):
        return os.path.join(self.state, "ca.crt")

    @property
    def token(self):
        with open(os.path.join(self.state, "admin.token")) as f:
            return f.read().strip()

    @property
    def base(self):
        return "https://127.0.0.1:%d" % self.port

    def start(self, env=None, args=(), preexec_fn=None,
              timeout=START_TIMEOUT):
        """ENV: variables added to the gateway's environment; ARGS: more
        command-line arguments; PREEXEC_FN runs in the child before
        fedgate (resource limits); TIMEOUT: seconds it has to listen."""
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([FEDGATE, "-c", self.conf, *args],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})),
                                     preexec_fn=preexec_fn)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("fedgate exited with %d:\n%s" %
                                     (self.proc.returncode, self.logs()))
            if not os.path.exists(self.kubeconfig):
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_for(up, timeout, "fedgate to listen")
        return self

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self):
        """SIGTERM by pid; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError("fedgate did not stop on SIGTERM:\n" +
                                     self.logs())
        self.log.close()
        return self.proc.returncode

    def logs(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tls_context(self, alpn=("http/1.1",)):
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.set_alpn_protocols(list(alpn))
        return ctx

    def raw_request(self, data, timeout=10.0):
        """Sends DATA on a fresh TLS connection (HTTP/1.1) and returns every
        byte the gateway answers until it closes or goes quiet."""
        with socket.create_connection(("127.0.0.1", self.port), timeout) as s:
            with self.tls_context().wrap_socket(
                    s, server_hostname="localhost") as t:
                t.sendall(data)
                out = b""
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    try:
                        chunk = t.recv(65536)
                    except (socket.timeout, ssl.SSLError, ConnectionError):
                        break
                    if not chunk:
                        break
                    out += chunk
                return out


class GatewayTest(unittest.TestCase):
    """Starts one gateway for the class; checks it exits 0 at the end."""

    members = None
    role = "host"
    extra_gateway = ""
    plugin_dir = None
    policy = ADMIN_POLICY
    extra_files = None  # {relative path in conf.d: text}

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(members=cls.members, role=cls.role,
                         extra_gateway=cls.extra_gateway,
                         plugin_dir=cls.plugin_dir, policy=cls.policy,
                         extra_files=cls.extra_files)
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
        if code != 0:
            raise AssertionError("fedgate exited %s:\n%s" % (code, logs))

    def curl(self, path, *args, token=True, http="--http1.1", input=None):
        cmd = ["curl", "-sS", http, "--max-time", "20", "--cacert", self.gw.ca,
               "-o", "-", "-w", "\n%{http_code} %{http_version}"]
        if token:
            cmd += ["-H", "Authorization: Bearer " + self.gw.token]
        cmd += list(args) + [self.gw.base + path]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                             input=input)
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, tail = out.stdout.rpartition("\n")
        code, version = tail.split()
        return int(code), version, body

    def kubectl(self, *args, context="demo", check=True):
        cmd = ["kubectl", "--kubeconfig", self.gw.kubeconfig,
               "--context", context, "--request-timeout=20s"] + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(out.returncode, 0,
                             "%s failed:\n%s%s" % (" ".join(args), out.stdout,
                                                  out.stderr))
        return out


def load_seed(name):
    with open(os.path.join(SEEDS, name)) as f:
        return json.load(f)
