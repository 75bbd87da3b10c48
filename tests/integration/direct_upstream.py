"""A recording HTTPS upstream for the direct driver's integration tests.

Serves HTTP/2 (python3-h2) or HTTP/1.1 by ALPN on 127.0.0.1 and appends
one JSON line per request (protocol, method, path, header list as
received, duplicates kept) to the record file. Run as a subprocess so a
test can SIGKILL it by pid.

  direct_upstream.py CERT KEY PORTFILE RECORD [--token T] [--upgrade-403]
                     [--port N]

/stream answers 200 and sends a chunk every 50 ms until the client goes
or 2000 chunks were sent. With --token, a request without
"Authorization: Bearer T" is answered 401. With --upgrade-403, every
connection is answered "403" followed by more bytes that look like a
second response, and every byte received after the request head is
recorded as {"late": N}.
"""
import json
import socket
import ssl
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events

CERT, KEY, PORTFILE, RECORD = sys.argv[1:5]
TOKEN = None
UPGRADE_403 = "--upgrade-403" in sys.argv
if "--token" in sys.argv:
    TOKEN = sys.argv[sys.argv.index("--token") + 1]
LOCK = threading.Lock()


def record(entry):
    with LOCK:
        with open(RECORD, "a") as f:
            f.write(json.dumps(entry) + "\n")


def answer_for(headers):
    auth = [v for n, v in headers if n == "authorization"]
    if TOKEN is not None and auth != ["Bearer " + TOKEN]:
        return 401, b'{"kind":"Status","code":401}'
    return 200, b'{"ok":true}'


def serve_h2(sock):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
        client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    while True:
        data = sock.recv(65536)
        if not data:
            return
        for ev in conn.receive_data(data):
            if not isinstance(ev, h2.events.RequestReceived):
                continue
            headers = [(n.lower(), v) for n, v in ev.headers]
            pseudo = dict(h for h in headers if h[0].startswith(":"))
            record({"proto": "h2", "method": pseudo.get(":method"),
                    "path": pseudo.get(":path"),
                    "authority": pseudo.get(":authority"),
                    "headers": [h for h in headers
                                if not h[0].startswith(":")]})
            sid = ev.stream_id
            if pseudo.get(":path", "").startswith("/stream"):
                conn.send_headers(sid, [(":status", "200"),
                                        ("content-type", "application/json")])
                sock.sendall(conn.data_to_send())
                for i in range(2000):
                    conn.send_data(sid, b'{"n":%d}\n' % i)
                    sock.sendall(conn.data_to_send())
                    time.sleep(0.05)
                return
            code, body = answer_for(headers)
            conn.send_headers(sid, [(":status", str(code)),
                                    ("content-type", "application/json"),
                                    ("content-length", str(len(body)))])
            conn.send_data(sid, body, end_stream=True)
        sock.sendall(conn.data_to_send())


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
        if target.startswith("/stream"):
            sock.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json"
                         b"\r\ntransfer-encoding: chunked\r\n\r\n")
            for i in range(2000):
                chunk = b'{"n":%d}\n' % i
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                time.sleep(0.05)
            return
        code, body = answer_for(headers)
        sock.sendall(b"HTTP/1.1 %d X\r\ncontent-type: application/json\r\n"
                     b"content-length: %d\r\n\r\n%s" % (code, len(body), body))


def handle(raw, ctx):
    try:
        with ctx.wrap_socket(raw, server_side=True) as sock:
            if sock.selected_alpn_protocol() == "h2":
                serve_h2(sock)
            else:
                serve_h1(sock)
    except (OSError, ssl.SSLError, ValueError):
        pass


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
