"""Reads per relayed request: a burst of requests costs a read() per burst,
not two per TLS record.

OpenSSL without read-ahead reads each record's header and body in two
read() calls, and libevent 2.1's TLS bufferevent hands on one record per
loop turn; with read-ahead (core/net/tls_read.c) one read() takes every
record the socket holds and the records are relayed in that turn. h2load
sends bursts of requests on one HTTP/2 connection through the host to a
member-role fedgate (a direct member over TLS); read() calls are counted
from /proc/PID/io of both gateways, which fall from several per request
to well under one. Counts, not times: the figure does not depend on the
machine's speed (a slower turn only gathers more per read)."""
import subprocess
import unittest

from test_direct import MemberBehindHost

REQUESTS = 3000


def read_calls(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("syscr:"):
                return int(line.split()[1])
    raise AssertionError("no syscr in /proc/%d/io" % pid)


class RelayReads(MemberBehindHost):
    def burst(self, streams):
        url = self.host.base + "/clusters/edge/version"
        cmd = ["h2load", "-n", str(REQUESTS), "-c", "1", "-m", str(streams),
               "-H", "authorization: Bearer " + self.host.token, url]
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("%d succeeded" % REQUESTS, out.stdout, out.stdout)

    def reads_per_request(self, streams):
        pids = {"host": self.host.proc.pid, "member": self.member.proc.pid}
        before = {k: read_calls(p) for k, p in pids.items()}
        self.burst(streams)
        got = {k: (read_calls(p) - before[k]) / REQUESTS
               for k, p in pids.items()}
        print("h2load -m %d: read() per request: host %.2f (client and "
              "member sides), member %.2f" % (streams, got["host"],
                                              got["member"]))
        return got

    def test_one_read_per_record(self):
        """One request at a time: each record is a read() of its own."""
        self.burst(10)  # warm: the member connection is open
        got = self.reads_per_request(1)
        # without read-ahead: host 4.00 (two records, header and body
        # read apart), member 2.00
        self.assertLess(got["host"], 2.5, got)
        self.assertLess(got["member"], 1.25, got)
        # and at least the one read per record: the count sees the reads
        # (a move to recv() would make it zero and the bounds above empty)
        self.assertGreaterEqual(got["host"], 1.9, got)
        self.assertGreaterEqual(got["member"], 0.95, got)

    def test_a_burst_is_read_in_few_reads(self):
        """100 streams in flight: a read() takes in many records."""
        self.burst(10)
        got = self.reads_per_request(100)
        # without read-ahead: host 0.64-0.93, member 0.16-0.43; with it
        # 0.06, 0.03-0.04
        self.assertLess(got["host"], 0.3, got)
        self.assertLess(got["member"], 0.1, got)

if __name__ == "__main__":
    unittest.main()
