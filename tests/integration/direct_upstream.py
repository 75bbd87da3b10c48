"""A recording HTTPS upstream for the direct driver's integration tests.

Serves HTTP/2 (python3-h2) or HTTP/1.1 by ALPN on 127.0.0.1 and appends
one JSON line per request (protocol, method, path, header list as
received, duplicates kept) to the record file. Run as a subprocess so a
test can SIGKILL it by pid.

  direct_upstream.py CERT KEY PORTFILE RECORD [--token T] [--upgrade-403]
                     [--port N] [--max-streams N]

Streaming paths (both protocols; HTTP/2 honours flow control and serves
streams of one connection side by side):
  /stream[?count=N]  200, a JSON line every 50 ms until the client goes or
                     N (default 2000) lines were sent (chunked in HTTP/1.1)
  /big?size=N        200 with content-length N: N bytes of pattern_block()
                     as fast as the gateway takes them
  /hang              reads the request and never answers
  /drip?count=N      200, one byte every 0.5 s, N (default 8) bytes
Each records {"progress": PATH, "sent": BYTES} every MiB written and one
{"end": PATH, "sent": BYTES, "how": HOW} when it stops: "complete", or how
the member request was cancelled ("rst" with the HTTP/2 error "code",
"eof" when the connection closed, "write" when a write failed).

Each TLS connection records {"conn": "open", "alpn": ALPN, "id": N} once
its handshake is done and {"conn": "closed", "id": N} when it ends; an
HTTP/2 request's record names it ("conn_id": N) and has "conn_window": the connection's send window when it arrived
(the client's WINDOW_UPDATE on stream 0 included). --max-streams N
advertises SETTINGS_MAX_CONCURRENT_STREAMS = N (default 100).

A query with "answer=protected" adds response headers that must not
reach a client (identity and hop-by-hop names in other spellings).

With --token, a request without
"Authorization: Bearer T" is answered 401. With --upgrade-403, every
connection is answered "403" followed by more bytes that look like a
second response, and every byte received after the request head is
recorded as {"late": N}.
"""
import json
import select
import socket
import ssl
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import itertools

CERT, KEY, PORTFILE, RECORD = sys.argv[1:5]
TOKEN = None
UPGRADE_403 = "--upgrade-403" in sys.argv
if "--token" in sys.argv:
    TOKEN = sys.argv[sys.argv.index("--token") + 1]
MAX_STREAMS = 100
if "--max-streams" in sys.argv:
    MAX_STREAMS = int(sys.argv[sys.argv.index("--max-streams") + 1])
LOCK = threading.Lock()
CONN_IDS = itertools.count(1)


def record(entry):
    with LOCK:
        with open(RECORD, "a") as f:
            f.write(json.dumps(entry) + "\n")


# Response headers a member must not get through to a client, in other
# spellings (asked for with "answer=protected" in the query); HTTP/1.1
# adds a header that its Connection header names.
PROTECTED_ANSWER = [("x_remote_user", "a"), ("X-Remote-Group", "b"),
                    ("impersonate_user", "c"), ("proxy_authenticate", "d"),
                    ("keep_alive", "e"), ("Transfer_Encoding", "f")]
PROTECTED_ANSWER_H1 = [("Connection", "x_named"), ("x-named", "g")]


def answer_headers(path, h1):
    if "answer=protected" not in path:
        return []
    return PROTECTED_ANSWER + (PROTECTED_ANSWER_H1 if h1 else [])


def answer_for(headers):
    auth = [v for n, v in headers if n == "authorization"]
    if TOKEN is not None and auth != ["Bearer " + TOKEN]:
        return 401, b'{"kind":"Status","code":401}'
    return 200, b'{"ok":true}'


BLOCK = 65536
BASE = bytes((i * 7 + (i >> 8) * 13) & 0xFF for i in range(BLOCK))
MIB = 1 << 20


def pattern_block(k):
    """Block K of the /big body: its index, then a fixed pattern."""
    return k.to_bytes(8, "big") + BASE[8:]


def query_int(path, name, default):
    _, _, query = path.partition("?")
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == name and value.isdigit():
            return int(value)
    return default


def producer(path):
    """(length or None, generator) for a streaming PATH, else None. The
    generator yields bytes to send or a float: seconds to wait."""
    if path.startswith("/stream"):
        def lines(count):
            for i in range(count):
                yield b'{"n":%d}\n' % i
                yield 0.05
        return None, lines(query_int(path, "count", 2000))
    if path.startswith("/big"):
        size = query_int(path, "size", 0)

        def blocks():
            for k in range((size + BLOCK - 1) // BLOCK):
                yield pattern_block(k)[:size - k * BLOCK]
        return size, blocks()
    if path.startswith("/hang"):
        def forever():
            while True:
                yield 3600.0
        return None, forever()
    if path.startswith("/drip"):
        def drip(count):
            for _ in range(count):
                yield b"."
                yield 0.5
        return None, drip(query_int(path, "count", 8))
    return None


class Progress:
    """Bytes written for one streaming request, recorded every MiB."""

    def __init__(self, path):
        self.path = path
        self.sent = 0
        self.ended = False

    def add(self, n):
        before = self.sent // MIB
        self.sent += n
        if self.sent // MIB != before:
            record({"progress": self.path, "sent": self.sent})

    def end(self, how, **extra):
        if not self.ended:
            self.ended = True
            record(dict({"end": self.path, "sent": self.sent, "how": how},
                        **extra))


class H2Stream:
    def __init__(self, sid, path, gen):
        self.sid = sid
        self.gen = gen
        self.buf = b""
        self.due = 0.0
        self.progress = Progress(path)


def h2_pump(conn, streams, now):
    """Moves what the windows allow; returns (moved, next due time)."""
    moved, due = False, None
    for st in list(streams.values()):
        turn = 0  # bytes this round: streams take turns
        while turn < 4 * BLOCK:
            if not st.buf:
                if st.due > now:
                    due = st.due if due is None else min(due, st.due)
                    break
                try:
                    item = next(st.gen)
                except StopIteration:
                    conn.end_stream(st.sid)
                    del streams[st.sid]
                    st.progress.end("complete")
                    moved = True
                    break
                if isinstance(item, float):
                    st.due = now + item
                    continue
                st.buf = item
            n = min(len(st.buf), conn.local_flow_control_window(st.sid),
                    conn.max_outbound_frame_size)
            if n <= 0:
                break
            conn.send_data(st.sid, st.buf[:n])
            st.buf = st.buf[n:]
            st.progress.add(n)
            turn += n
            moved = True
    return moved, due


def serve_h2(sock, cid):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
        client_side=False, header_encoding="utf-8"))
    conn.local_settings = h2.settings.Settings(client=False, initial_values={
        h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS})
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    streams = {}
    try:
        while True:
            now = time.monotonic()
            moved, due = h2_pump(conn, streams, now)
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
            wait = 0 if moved else 1.0 if due is None else max(0, due - now)
            if not sock.pending() and \
                    not select.select([sock], [], [], wait)[0]:
                continue
            data = sock.recv(65536)
            if not data:
                return
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.StreamReset):
                    st = streams.pop(ev.stream_id, None)
                    if st:
                        st.progress.end("rst", code=int(ev.error_code))
                elif isinstance(ev, h2.events.DataReceived):
                    try:
                        conn.acknowledge_received_data(
                            ev.flow_controlled_length, ev.stream_id)
                    except h2.exceptions.StreamClosedError:
                        pass
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    return
                elif isinstance(ev, h2.events.RequestReceived):
                    h2_request(conn, streams, ev, cid)
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
    finally:
        for st in streams.values():
            st.progress.end("eof")


def h2_request(conn, streams, ev, cid):
    headers = [(n.lower(), v) for n, v in ev.headers]
    pseudo = dict(h for h in headers if h[0].startswith(":"))
    path = pseudo.get(":path", "")
    record({"proto": "h2", "method": pseudo.get(":method"), "path": path,
            "authority": pseudo.get(":authority"),
            "conn_id": cid, "conn_window": conn.outbound_flow_control_window,
            "headers": [h for h in headers if not h[0].startswith(":")]})
    sid = ev.stream_id
    made = producer(path)
    if made:
        length, gen = made
        head = [(":status", "200"), ("content-type", "application/json")]
        if length is not None:
            head.append(("content-length", str(length)))
        if not path.startswith("/hang"):
            conn.send_headers(sid, head)
        streams[sid] = H2Stream(sid, path, gen)
        return
    code, body = answer_for(headers)
    conn.send_headers(sid, [(":status", str(code)),
                            ("content-type", "application/json"),
                            ("content-length", str(len(body)))] +
                      [(n.lower(), v) for n, v in answer_headers(path, False)])
    conn.send_data(sid, body, end_stream=True)


def read_head(sock, buf):
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def serve_h1(sock):
    buf = b""
    while True:
        head, buf = read_head(sock, buf)
        if head is None:
            return
        lines = head.split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.lower(), value.strip()))
        record({"proto": "http/1.1", "method": method, "path": target,
                "headers": headers})
        length = int(dict(headers).get("content-length", "0"))
        while len(buf) < length:
            data = sock.recv(65536)
            if not data:
                return
            buf += data
        buf = buf[length:]
        if UPGRADE_403:
            sock.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain"
                         b"\r\ncontent-length: 9\r\n\r\nforbidden"
                         b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nextra")
            late = len(buf)
            sock.settimeout(3.0)
            try:
                while True:
                    data = sock.recv(65536)
                    if not data:
                        break
                    late += len(data)
            except (socket.timeout, OSError):
                pass
            record({"late": late})
            return
        made = producer(target)
        if made:
            if not h1_stream(sock, target, *made):
                return
            continue
        code, body = answer_for(headers)
        extra = "".join("%s: %s\r\n" % h
                        for h in answer_headers(target, True)).encode()
        sock.sendall(b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\n"
                     b"%scontent-length: %d\r\n\r\n%s" %
                     (code, extra, len(body), body))


def peer_gone(sock, seconds):
    """Waits SECONDS; whether the peer closed the connection meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if sock.pending() or select.select([sock], [], [], left)[0]:
            try:
                if not sock.recv(65536):
                    return True
            except (OSError, ssl.SSLError):
                return True


def h1_stream(sock, path, length, gen):
    """Streams GEN's answer; whether the connection may serve again."""
    progress = Progress(path)
    try:
        if not path.startswith("/hang"):
            framing = (b"content-length: %d" % length if length is not None
                       else b"transfer-encoding: chunked")
            sock.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json"
                         b"\r\n%s\r\n\r\n" % framing)
        for item in gen:
            if isinstance(item, float):
                if peer_gone(sock, item):
                    progress.end("eof")
                    return False
                continue
            sock.sendall(item if length is not None else
                         b"%x\r\n%s\r\n" % (len(item), item))
            progress.add(len(item))
        if length is None:
            sock.sendall(b"0\r\n\r\n")
    except (OSError, ssl.SSLError):
        progress.end("write")
        return False
    progress.end("complete")
    return True


def handle(raw, ctx):
    opened = False
    cid = next(CONN_IDS)
    try:
        with ctx.wrap_socket(raw, server_side=True) as sock:
            opened = True
            record({"conn": "open", "alpn": sock.selected_alpn_protocol(),
                    "id": cid})
            if sock.selected_alpn_protocol() == "h2":
                serve_h2(sock, cid)
            else:
                serve_h1(sock)
    except (OSError, ssl.SSLError, ValueError, h2.exceptions.H2Error):
        pass
    finally:
        if opened:
            record({"conn": "closed", "id": cid})


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    ctx.set_alpn_protocols(["http/1.1"] if UPGRADE_403 else ["h2", "http/1.1"])
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port = 0
    if "--port" in sys.argv:
        port = int(sys.argv[sys.argv.index("--port") + 1])
    lsock.bind(("127.0.0.1", port))
    lsock.listen(64)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(lsock.getsockname()[1]))
    import os
    os.rename(PORTFILE + ".tmp", PORTFILE)
    while True:
        raw, _ = lsock.accept()
        threading.Thread(target=handle, args=(raw, ctx), daemon=True).start()


if __name__ == "__main__":
    main()
