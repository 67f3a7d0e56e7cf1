"""tcppeer.py: Linux's end of the TCP tests, run inside the rig's namespace.

The servers print {"listening": port} once they listen.  Every command
prints one JSON line (the last line of its output) and stops
by itself before its deadline, reporting what it got, so a guest that
stops answering gives a result rather than a hung test.  Data is a
deterministic pseudo-random stream (data(seed, n)); digests are SHA-256.

  sink    --port P [--count N]      accept N connections (default 1) on
          10.0.2.2:P, read each to EOF; reports bytes and sha256 of each
  source  --port P --bytes N --seed S   accept one connection, send N
          bytes, close; reports sha256 of what was sent
  send    --dst A --port P --bytes N --seed S
          connect (retrying while refused: the guest's server may still
          be starting), send N bytes, shutdown(SHUT_WR), read to EOF;
          reading runs at the same time as sending, so against an echo
          server both directions carry data at once; reports sha256 of
          what was sent and of what came back, connect_ms (connect()
          until established, retries included) and total_ms
  conns   --dst A --port P --count N [--parallel K]
          N connections to an echo server, K at a time (all K connected
          and their messages sent before any echo is read; each is
          closed once its echo is in); reports how many echoed
  opens   --dst A --port P --count N [--parallel K]
          N connections, K open at a time, each sending one byte and
          closing (the guest's `reuseport -T` reads each to EOF and
          counts it); reports how many connected and their source ports
  refused --dst A --port P          a connect that must be refused
  reset   --port P --after N        accept one connection, read N bytes,
          then close with SO_LINGER 0 (a RST); reports bytes read
  resetsend --port P --bytes N      accept one connection, send N bytes
          as fast as it takes them, then close with SO_LINGER 0 while the
          guest is still reading (the unsent rest is discarded, a RST
          goes out); reports bytes sent
  blackhole --port P [--bytes N]    accept one connection, send N bytes
          (default none), then keep it open, reading and sending nothing,
          until killed or deadline
"""

import hashlib
import json
import random
import selectors
import socket
import struct
import sys
import time

PEER_IP = "10.0.2.2"


def data(seed, n):
    """n pseudo-random bytes from seed (the same on every run)."""
    rng = random.Random(seed)
    return rng.randbytes(n)


def listener(port, backlog=128):
    """A listening socket on 10.0.2.2:port; says so on stdout (the test
    waits for that line before it lets the guest connect)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((PEER_IP, port))
    s.listen(backlog)
    print(json.dumps({"listening": port}), flush=True)
    return s


def accept_one(port, end):
    """Listen on port and accept one connection by the deadline end.
    Returns (connection, listener): the caller keeps the listener open
    until it is done, as a server would."""
    ls = listener(port)
    ls.settimeout(max(1, end - time.monotonic()))
    c, _ = ls.accept()
    return c, ls


def connect(dst, port, deadline, timeout=10):
    """A connected socket; retries while refused until deadline."""
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((dst, port))
            return s
        except ConnectionRefusedError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def read_all(s, deadline, h=None):
    n = 0
    while time.monotonic() < deadline:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            return n, True
        n += len(b)
        if h is not None:
            h.update(b)
    return n, False


def cmd_sink(a, end):
    ls = listener(a.port)
    ls.settimeout(max(1, end - time.monotonic()))
    out = []
    for _ in range(a.count):
        c, _ = ls.accept()
        h = hashlib.sha256()
        n, eof = read_all(c, end, h)
        c.close()
        out.append({"bytes": n, "eof": eof, "sha256": h.hexdigest()})
    return {"conns": out}


def cmd_source(a, end):
    c, _ls = accept_one(a.port, end)
    d = data(a.seed, a.bytes)
    c.settimeout(max(1, end - time.monotonic()))
    c.sendall(d)
    c.close()
    return {"bytes": len(d), "sha256": hashlib.sha256(d).hexdigest()}


def cmd_send(a, end):
    d = data(a.seed, a.bytes)
    t0 = time.monotonic()
    s = connect(a.dst, a.port, end)
    connect_ms = (time.monotonic() - t0) * 1000
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    h, got, off, eof, err = hashlib.sha256(), 0, 0, False, None
    while not eof and time.monotonic() < end:
        for _, ev in sel.select(min(1.0, end - time.monotonic())):
            try:
                if ev & selectors.EVENT_WRITE and off < len(d):
                    off += s.send(d[off:off + 65536])
                    if off == len(d):
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ)
                if ev & selectors.EVENT_READ:
                    b = s.recv(65536)
                    if not b:
                        eof = True
                    got += len(b)
                    h.update(b)
            except BlockingIOError:
                pass
            except OSError as e:
                err = str(e)
                eof = True
    s.close()
    return {"sent": off, "sent_sha256": hashlib.sha256(d[:off]).hexdigest(),
            "got": got, "got_sha256": h.hexdigest(), "eof": eof,
            "error": err, "connect_ms": round(connect_ms, 1),
            "total_ms": round((time.monotonic() - t0) * 1000, 1)}


def cmd_conns(a, end):
    ok, bad, errors = 0, 0, []
    i = 0
    while i < a.count and time.monotonic() < end:
        k = min(a.parallel, a.count - i)
        socks = []
        try:
            for j in range(k):
                socks.append(connect(a.dst, a.port, end))
            msgs = [b"hello %d from linux\n" % (i + j) for j in range(k)]
            for s, m in zip(socks, msgs):
                s.sendall(m)
            for s, m in zip(socks, msgs):
                got = b""
                s.settimeout(max(1, end - time.monotonic()))
                while len(got) < len(m):
                    b = s.recv(100)
                    if not b:
                        break
                    got += b
                if got == m:
                    ok += 1
                else:
                    bad += 1
                # close now: a server with fewer slots than K (inetd
                # serves 20 at once) takes the next from its accept queue
                s.close()
        except OSError as e:
            errors.append("conn %d: %s" % (i, e))
            bad += k
            if len(errors) > 5:
                break
        finally:
            for s in socks:
                s.close()
        i += k
    return {"ok": ok, "bad": bad, "errors": errors[:5]}


def cmd_opens(a, end):
    ok, errors, ports = 0, [], []
    i = 0
    while i < a.count and time.monotonic() < end and len(errors) <= 5:
        socks = []
        try:
            for _ in range(min(a.parallel, a.count - i)):
                socks.append(connect(a.dst, a.port, end))
            for s in socks:
                s.sendall(b"x")
                ports.append(s.getsockname()[1])
                ok += 1
        except OSError as e:
            errors.append("conn %d: %s" % (i, e))
        finally:
            for s in socks:
                s.close()
        i += max(1, len(socks))
    return {"ok": ok, "errors": errors[:5], "ports": ports}


def cmd_refused(a, end):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((a.dst, a.port))
        return {"result": "connected"}
    except ConnectionRefusedError:
        return {"result": "refused"}
    except OSError as e:
        return {"result": str(e)}


def cmd_reset(a, end):
    c, _ls = accept_one(a.port, end)
    n = 0
    c.settimeout(max(1, end - time.monotonic()))
    while n < a.after:
        b = c.recv(min(65536, a.after - n))
        if not b:
            break
        n += len(b)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    return {"read": n}


def cmd_resetsend(a, end):
    c, _ls = accept_one(a.port, end)
    d = data(a.seed, a.bytes)
    c.settimeout(max(1, end - time.monotonic()))
    c.sendall(d)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    return {"sent": len(d)}


def cmd_blackhole(a, end):
    c, _ls = accept_one(a.port, end)
    if a.bytes:
        c.settimeout(max(1, end - time.monotonic()))
        c.sendall(data(a.seed, a.bytes))
    print(json.dumps({"accepted": True}), flush=True)
    while time.monotonic() < end:
        time.sleep(0.2)
    c.close()
    return {"done": True}


def main(argv):
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("cmd")
    p.add_argument("--dst", default="10.0.2.15")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bytes", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--after", type=int, default=0)
    p.add_argument("--deadline", type=float, default=120)
    a = p.parse_args(argv)
    end = time.monotonic() + a.deadline
    fn = {"sink": cmd_sink, "source": cmd_source, "send": cmd_send,
          "conns": cmd_conns, "opens": cmd_opens, "refused": cmd_refused, "reset": cmd_reset,
          "resetsend": cmd_resetsend,
          "blackhole": cmd_blackhole}[a.cmd]
    try:
        res = fn(a, end)
    except Exception as e:           # report, do not hang the test
        res = {"exception": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
