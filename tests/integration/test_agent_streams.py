"""Upgraded streams through an agent member: each is one extended CONNECT
stream across the tunnel, and the agent makes the HTTP/1.1 upgrade to its
apiserver (a member-role fedgate serving the demo mock).
(1) kubectl port-forward over WebSocket and SPDY/3.1 (test_portforward's
cases, and a few MiB echoed), exec over both (the tour: stdin, exit codes),
kubectl cp both ways (test_kubectl_cp's cases, and a 1 MiB file), the
Python client's exec; the member sees the method the client sent (its
audit log: create for SPDY's POST, get for WebSocket's GET), as through a
direct member; a refused upgrade comes back whole and a finished exec
ends the client's connection (curl); a client cannot set the tunnel's
fedgate-method.
(2) A port-forward moving data beside lists and a watch on the same tunnel:
their latency measured without and with it; a stalled port-forward does
not hold up another's uploads; 20 open-close cycles leave no stream, fd,
connection or memory behind on the host, the agent and the member.
(3) The tunnel cut (RST) or black-holed (PING deadline) mid port-forward,
by a relay between agent and host: kubectl sees the connection end, the
agent dials again, a new port-forward works. Every process is stopped by its pid; every wait has a
deadline."""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from agent_harness import Agent, AgentCase
from harness import wait_for
from test_audit import audit_section
from test_direct import direct_member
from test_direct_streams import proc_status, sanitized
from test_direct_tour import Lines
from test_exec_spdy import POD, SpdyExecCases
from test_kubectl_cp import CpCases
from test_portforward import REDIS, Forward, PortForwardCases
from tours import kubectl_exec_tour, python_exec_tour

MIB = 1024 * 1024


class Pump:
    """Bytes of a fixed pattern sent through a forwarded echo port by one
    thread while another reads the echo back and checks it, until stopped
    (or, with SEND_ONLY, sent and never read: a stalled reader)."""

    PATTERN = os.urandom(65536 + 17)  # odd length: chunks shift against it

    def __init__(self, port, send_only=False, limit=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sent = self.received = 0
        self.bad = None
        self.limit = limit
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self._send, daemon=True)]
        if not send_only:
            self.threads.append(threading.Thread(target=self._recv,
                                                 daemon=True))
        self.t0 = time.monotonic()
        for t in self.threads:
            t.start()

    def _send(self):
        p = self.PATTERN
        try:
            while not self.stop_ev.is_set() and (
                    self.limit is None or self.sent < self.limit):
                off = self.sent % len(p)
                self.sock.sendall(p[off:] + p[:off])
                self.sent += len(p)
        except OSError as e:
            self.bad = self.bad or "send: %s" % e

    def _recv(self):
        p = self.PATTERN
        try:
            while self.received < self.sent or not self.stop_ev.is_set():
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                off = self.received % len(p)
                want = (p[off:] + p * (len(chunk) // len(p) + 1))[:len(chunk)]
                if chunk != want:
                    self.bad = "the echo differs at byte %d" % self.received
                    return
                self.received += len(chunk)
        except OSError as e:
            if not self.stop_ev.is_set():
                self.bad = self.bad or "recv: %s" % e

    def rate(self):
        """MiB/s echoed so far."""
        return self.received / MIB / (time.monotonic() - self.t0)

    def stop(self):
        self.stop_ev.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        for t in self.threads:
            t.join(30)
        self.sock.close()


def echo_round_trip(tc, port, size):
    """SIZE bytes through the forwarded PORT and back, checked: seconds."""
    p = Pump(port, limit=size)
    try:
        wait_for(lambda: p.bad or p.received >= p.sent >= size, 60,
                 "%d bytes echoed (got %d)" % (size, p.received))
        tc.assertIsNone(p.bad)
        return time.monotonic() - p.t0
    finally:
        p.stop()


class AgentTarget:
    """Cases written against target(): the host's agent member "edge"."""

    def target(self):
        return self.host, "edge"


class AgentPortForwardTest(AgentTarget, PortForwardCases, AgentCase):
    """test_portforward's cases, and 4 MiB echoed over each framing."""

    def check_mib(self, websockets):
        f = self.forward(REDIS, "6379", websockets)
        s = echo_round_trip(self, f.port, 4 * MIB)
        print("\n4 MiB echoed through the tunnel (%s) in %.2f s" % (
            "WebSocket" if websockets else "SPDY", s), file=sys.stderr)

    def test_mib_echo_over_websocket(self):
        self.check_mib(True)

    def test_mib_echo_over_spdy(self):
        self.check_mib(False)


class AgentSpdyExecTest(AgentTarget, SpdyExecCases, AgentCase):
    """test_exec_spdy's cases, the exec tour over WebSocket too, and the
    method the member sees for each."""

    @classmethod
    def prepare(cls):
        cls.audit = os.path.join(cls.dir, "member-audit.log")
        cls.MEMBER_POLICY = audit_section(cls.audit)

    def test_exec_tour_over_websocket(self):
        def kubectl(*args, check=True, stdin=None):
            out = subprocess.run(
                ["kubectl", "--kubeconfig", self.host.kubeconfig,
                 "--context", "edge", "--request-timeout=20s", *args],
                capture_output=True, text=True, input=stdin, timeout=60)
            if check:
                self.assertEqual(out.returncode, 0, out.stderr)
            return out
        kubectl_exec_tour(self, kubectl, POD)

    def member_verbs(self, marker):
        """The verbs the member's audit log holds for exec of command
        MARKER."""
        def seen():
            with open(self.audit) as f:
                return [json.loads(line) for line in f
                        if marker in line and '"exec"' in line]
        wait_for(seen, 10, "the member to audit the exec")
        return {e["verb"] for e in seen()}

    def test_member_sees_the_clients_method(self):
        """Through the agent as through a direct member of the same host
        (added by a reload): SPDY's POST is create, WebSocket's GET get."""
        self.host.write("40-direct.ini", direct_member(
            "direct", self.member.port, self.member.ca,
            os.path.join(self.member.state, "admin.token")))
        self.host.signal(signal.SIGHUP)
        wait_for(lambda: self.curl("/clusters/direct/version")[0] == 200,
                 30, "the direct member to be served")
        for member in ("edge", "direct"):
            for ws, verb in ((True, "get"), (False, "create")):
                marker = "%s-%s" % (member, "ws" if ws else "spdy")
                env = dict(os.environ, KUBECTL_REMOTE_COMMAND_WEBSOCKETS=(
                    "true" if ws else "false"))
                out = subprocess.run(
                    ["kubectl", "--kubeconfig", self.host.kubeconfig,
                     "--context", "edge", "--server",
                     self.host.base + "/clusters/" + member, "exec", "-n",
                     "shop", POD, "--", "echo", marker],
                    capture_output=True, text=True, timeout=60, env=env)
                self.assertEqual(out.stdout, marker + "\n", out.stderr)
                self.assertEqual(self.member_verbs(marker), {verb}, marker)


    def upgrade(self, pod, *headers, max_time=10,
                command="cat&stdin=true"):
        """A WebSocket exec of COMMAND in POD through the host with more
        HEADERS, by curl: (status, whether curl saw the connection end in
        MAX_TIME)."""
        out = subprocess.run(
            ["curl", "-sS", "--http1.1", "--max-time", str(max_time),
             "--cacert", self.host.ca,
             "-H", "Authorization: Bearer " + self.host.token,
             "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
             "-H", "Sec-WebSocket-Version: 13",
             "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
             "-H", "Sec-WebSocket-Protocol: v5.channel.k8s.io",
             *sum((["-H", h] for h in headers), []),
             "-o", "/dev/null", "-w", "%{http_code}",
             self.host.base + "/clusters/edge/api/v1/namespaces/shop/pods/" +
             pod + "/exec?command=%s&stdout=true" % command],
            capture_output=True, text=True, timeout=max_time + 20)
        return out.stdout, out.returncode == 0

    def test_a_refused_upgrade_ends(self):
        """The member's answer to an upgrade it refuses comes back whole:
        the tunnel's stream ends with it (it hung, chunked, unended)."""
        self.assertEqual(self.upgrade("nope"), ("404", True))

    def test_a_finished_exec_ends_the_connection(self):
        """The member closing the upgraded connection (the command ended)
        ends the client's, as through a direct member (it stayed open
        until the client gave up)."""
        self.assertEqual(self.upgrade(POD, command="true"), ("101", True))

    def test_python_client_exec(self):
        """The Python client reads an exec until its connection closes."""
        t0 = time.monotonic()
        python_exec_tour(self, self.host.kubeconfig, "edge", POD)
        self.assertLess(time.monotonic() - t0, 10)  # no read waited it out

    def test_a_client_cannot_choose_the_tunnels_method(self):
        # switched: cat waits on stdin until curl gives up
        self.assertEqual(self.upgrade(POD, max_time=2), ("101", False))
        for value in ("POST", "GET", "PUT"):
            self.assertEqual(self.upgrade(POD, "fedgate-method: " + value),
                             ("400", True), value)


class AgentCpTest(AgentTarget, CpCases, AgentCase):
    """test_kubectl_cp's cases, and a 1 MiB file both ways."""

    def test_mib_round_trip(self):
        for ws in (True, False):
            src = os.path.join(self.tmp, "mib-%d" % ws)
            data = os.urandom(MIB)
            with open(src, "wb") as f:
                f.write(data)
            self.kubectl("cp", src, "%s:/tmp/mib-%d" % ("redis-1", ws),
                         websockets=ws)
            back = src + ".back"
            self.kubectl("cp", "%s:/tmp/mib-%d" % ("redis-1", ws), back,
                         websockets=ws)
            with open(back, "rb") as f:
                self.assertTrue(f.read() == data, "the copy differs")


def metric(text, name):
    m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


class AgentLongForwardTest(AgentTarget, AgentCase):
    """A long port-forward beside other streams of the same tunnel."""

    def setUp(self):
        self.cache_dir = tempfile.mkdtemp(prefix="fedgate-kcache-")
        self.addCleanup(shutil.rmtree, self.cache_dir, ignore_errors=True)

    def forward(self, websockets=True):
        f = Forward(self, REDIS, "6379", websockets)
        self.addCleanup(f.stop)
        return f

    def list_latency(self, n=10):
        """Median seconds of listing pods through the tunnel."""
        return self.median_get("/clusters/edge/api/v1/pods", n)

    def watch_latency(self, n=5):
        """Median seconds from creating a ConfigMap to its ADDED event on a
        watch through the tunnel."""
        ns = "/clusters/edge/api/v1/namespaces/shop/configmaps"
        watch = subprocess.Popen(
            ["curl", "-sS", "-N", "--http1.1", "--cacert", self.host.ca,
             "-H", "Authorization: Bearer " + self.host.token,
             self.host.base + ns + "?watch=1&resourceVersion=0&"
             "labelSelector=probe%3Dwatch"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines = Lines(watch.stdout)
        times = []
        try:
            for i in range(n):
                name = "probe-%d-%d" % (os.getpid(), time.monotonic_ns())
                body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": name, "labels": {
                                       "probe": "watch"}}})
                t0 = time.monotonic()
                out = subprocess.run(
                    ["curl", "-sS", "--max-time", "20", "--cacert",
                     self.host.ca, "-H",
                     "Authorization: Bearer " + self.host.token,
                     "-H", "Content-Type: application/json", "-d", body,
                     "-o", "/dev/null", "-w", "%{http_code}",
                     self.host.base + ns],
                    capture_output=True, text=True, timeout=30)
                self.assertEqual(out.stdout, "201", out.stderr)
                self.assertTrue(lines.wait(lambda l: name in l and
                                           '"ADDED"' in l, 20))
                times.append(time.monotonic() - t0)
        finally:
            watch.kill()
            watch.wait(10)
            watch.stdout.close()
        return statistics.median(times)

    def test_a_other_streams_stay_fast_beside_a_port_forward(self):
        self.list_latency(3)  # warm
        base_list, base_watch = self.list_latency(), self.watch_latency()
        f = self.forward()
        pump = Pump(f.port)
        try:
            wait_for(lambda: pump.bad or pump.received > 4 * MIB, 30,
                     "the port-forward to move data")
            busy_list, busy_watch = self.list_latency(), self.watch_latency()
            rate = pump.rate()
            self.assertIsNone(pump.bad)
        finally:
            pump.stop()
        print("\nbeside a port-forward echoing %.1f MiB/s: list pods median "
              "%.1f / %.1f ms, watch event %.1f / %.1f ms (without / with)" %
              (rate, base_list * 1000, busy_list * 1000, base_watch * 1000,
               busy_watch * 1000), file=sys.stderr)
        self.assertLess(busy_list, max(5 * base_list, base_list + 0.5))
        self.assertLess(busy_watch, max(5 * base_watch, base_watch + 0.5))

    def test_b_a_stalled_port_forward_holds_up_no_other(self):
        """One port-forward's reader stops: its echo fills every buffer and
        window on its way back to the agent, and its upload stops there
        (with the tunnel's connection window once filled by it); another
        port-forward still starts and moves 2 MiB."""
        stalled = Pump(self.forward().port, send_only=True)
        try:
            last = [-1]

            def full():
                time.sleep(2)  # the sender made no progress for 2 s
                if stalled.bad:
                    return True
                done, last[0] = stalled.sent == last[0], stalled.sent
                return done
            wait_for(full, 90, "the stalled port-forward to fill its way")
            self.assertIsNone(stalled.bad)
            s = echo_round_trip(self, self.forward().port, 2 * MIB)
            print("\nbeside a stalled port-forward (%.1f MiB sent, not read)"
                  ", another started and echoed 2 MiB in %.2f s" % (
                      stalled.sent / MIB, s), file=sys.stderr)
        finally:
            stalled.stop()

    def counts(self):
        """What an open port-forward holds, per process: the host's
        requests and connections, the agent's tunnel streams (its debug
        log) and fds, the member's fds."""
        code, text = self.curl("/metrics")
        self.assertEqual(code, 200, text)
        out = {"host requests": metric(text, "fedgate_requests_in_flight"),
               "host connections": metric(text, "fedgate_connections_open")}
        closed = re.findall(r"tunnel: stream \d+ closed \((\d+) open\)",
                            self.agent.logs())
        out["agent streams"] = int(closed[-1]) if closed else None
        for who, pid in (("agent", self.agent.proc.pid),
                         ("member", self.member.proc.pid)):
            out[who + " fds"] = len(os.listdir("/proc/%d/fd" % pid))
        return out

    def rss(self):
        return {who: proc_status(pid)["VmRSS"] for who, pid in
                (("host", self.host.proc.pid), ("agent", self.agent.proc.pid),
                 ("member", self.member.proc.pid))}

    def test_c_closed_port_forwards_leave_nothing_behind(self):
        def cycle(i):
            f = Forward(self, REDIS, "6379", websockets=i % 2 == 0)
            try:
                echo_round_trip(self, f.port, 64 * 1024)
            finally:
                f.stop()

        for i in range(4):  # warm: pools, caches, allocator arenas
            cycle(i)
        settled = []
        wait_for(lambda: settled.append(self.settled()) or settled[-1], 10,
                 "the counts to settle")
        before, rss0 = settled[-1], self.rss()
        for i in range(20):
            cycle(i)
        after = {}

        def same():
            after.update(self.counts())
            return after == before
        try:
            wait_for(same, 10, "the streams of closed port-forwards to go")
        except AssertionError:
            self.assertEqual(after, before)
        rss1 = self.rss()
        growth = {k: (rss1[k] - rss0[k]) / MIB for k in rss0}
        print("\n20 port-forwards opened and closed: %s; RSS growth %s MiB" %
              (before, {k: round(v, 1) for k, v in growth.items()}),
              file=sys.stderr)
        if not sanitized():
            for k, v in growth.items():
                self.assertLess(v, 4, k)

    def settled(self):
        """The counts once two reads a moment apart agree."""
        a = self.counts()
        time.sleep(0.3)
        return a if self.counts() == a else None


class Relay:
    """A TCP relay from a local port to TARGET on 127.0.0.1 whose
    connections the test can cut (RST) or black-hole (bytes read and
    dropped, as a network that silently loses everything)."""

    def __init__(self, target):
        self.target = target
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.pairs = []
        self.holes = set()  # sockets whose bytes are dropped
        self.reset = set()  # sockets cut: closed with RST
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                a, _ = self.lsock.accept()
                b = socket.create_connection(("127.0.0.1", self.target), 10)
            except OSError:
                continue
            with self.lock:
                self.pairs.append((a, b))
            for x, y in ((a, b), (b, a)):
                threading.Thread(target=self._copy, args=(x, y),
                                 daemon=True).start()

    def _copy(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if src not in self.holes:
                    dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            if s not in self.reset:  # an end passed on: FIN
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            s.close()  # after a cut: RST (SO_LINGER 0)

    def black_hole(self):
        """Drops every byte of the connections relayed so far."""
        with self.lock:
            for pair in self.pairs:
                self.holes.update(pair)

    def cut(self):
        """Resets every connection relayed so far (RST, no FIN)."""
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            self.reset.update(pair)
            for s in pair:
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    s.shutdown(socket.SHUT_RD)  # wakes its copy thread
                except OSError:
                    pass  # its copy thread closed it

    def close(self):
        self.closed = True
        self.lsock.close()
        self.cut()


class AgentTunnelDropTest(AgentCase):
    """Member "cut" is served by an agent that reaches the host through a
    Relay; both sides PING every second (a silent tunnel is dead after 3)."""
    MEMBERS = ("edge", "cut")
    TUNNEL = "ping_interval = 1s\n"
    AGENT_ARGS = ("--ping-interval", "1")

    def setUp(self):
        self.cache_dir = tempfile.mkdtemp(prefix="fedgate-kcache-")
        self.addCleanup(shutil.rmtree, self.cache_dir, ignore_errors=True)
        self.relay = Relay(self.host.tunnel)
        self.addCleanup(self.relay.close)
        a = Agent(self.host, self.member, "cut", self.token_file,
                  extra=self.AGENT_ARGS)
        a.args[a.args.index("--host") + 1] = \
            "https://127.0.0.1:%d" % self.relay.port
        self.agents.append(a)  # its exit code checked by tearDownClass
        self.cut_agent = a.start()
        self.addCleanup(a.stop)
        self.wait_joined(1)

    def joins(self):
        return len(re.findall(r'member "cut": tunnel from \S+ joined',
                              self.host.logs()))

    def wait_joined(self, n):
        wait_for(lambda: self.joins() >= n, 30,
                 "the agent of \"cut\" to join (%d)" % n)

    def target(self):
        return self.host, "cut"

    def test_cut_mid_port_forward(self):
        for ws in (True, False):
            with self.subTest(websockets=ws):
                self.drop_mid_port_forward(ws, self.relay.cut, 20)

    def test_black_hole_mid_port_forward(self):
        # the host finds the tunnel dead after 3 unanswered PINGs
        self.drop_mid_port_forward(True, self.relay.black_hole, 4 + 1 + 10)

    def drop_mid_port_forward(self, websockets, drop, within):
        """DROP the tunnel while a port-forward moves data: kubectl exits
        within WITHIN seconds, saying so, and the forwarded connection ends;
        the agent dials again and a new port-forward works."""
        joins = self.joins()
        f = Forward(self, REDIS, "6379", websockets)
        try:
            pump = Pump(f.port)
            try:
                wait_for(lambda: pump.bad or pump.received > MIB, 30,
                         "the port-forward to move data")
                self.assertIsNone(pump.bad)
                drop()
                dropped = time.monotonic()
                try:
                    code = f.proc.wait(within)
                except subprocess.TimeoutExpired:
                    self.fail("kubectl port-forward hangs after the drop")
                ended = time.monotonic() - dropped
                for t in pump.threads:
                    t.join(20)
                    self.assertFalse(t.is_alive(), "the forwarded "
                                     "connection hangs after the drop")
            finally:
                pump.stop()
        finally:
            f.stop()
        print("\ntunnel %s mid port-forward (%s): kubectl exited %d after "
              "%.2f s" % (drop.__name__, "WebSocket" if websockets else
                          "SPDY", code, ended), file=sys.stderr)
        self.assertNotEqual(code, 0)
        self.assertTrue(f.err.wait(lambda l: "lost connection to pod" in l,
                                   10), f.err.seen)
        self.wait_joined(joins + 1)  # the agent dialled again by itself
        f = Forward(self, REDIS, "6379", websockets)
        try:
            echo_round_trip(self, f.port, MIB)
        finally:
            f.stop()


if __name__ == "__main__":
    unittest.main()
