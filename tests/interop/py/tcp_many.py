#!/usr/bin/python3
"""Opens COUNT TCP connections to ADDR:PORT (an echo server) and keeps them all
open at once; then sends a distinct message on each and checks that each comes
back unchanged on its own connection; then closes them all. Everything must be
done within TIMEOUT seconds. Prints one summary line; exit status 0 on success.

usage: tcp_many.py ADDR PORT COUNT TIMEOUT
"""
import errno
import resource
import selectors
import socket
import sys
import time


def main() -> int:
    addr, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = count + 64
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
    deadline = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    socks = []
    t0 = time.monotonic()

    # Phase 1: connect all, non-blocking, all in flight together.
    pending = {}
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((addr, port))
        if rc not in (0, errno.EINPROGRESS):
            print(f"FAIL: connect #{i}: {errno.errorcode.get(rc, rc)}")
            return 1
        socks.append(s)
        pending[s.fileno()] = i
        sel.register(s, selectors.EVENT_WRITE, i)
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            print(f"FAIL: {len(pending)} of {count} connections not established within {timeout} s")
            return 1
        for key, _ in sel.select(min(left, 1.0)):
            s = key.fileobj
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                print(f"FAIL: connection #{key.data}: {errno.errorcode.get(err, err)}")
                return 1
            sel.unregister(s)
            del pending[s.fileno()]
    t_conn = time.monotonic() - t0

    # Phase 2: every connection is open; a distinct message on each.
    msgs = [f"connection {i} of {count}: {i * 7919 % 1000003:07d}\n".encode() * (1 + i % 3) for i in range(count)]
    got = [b""] * count
    for i, s in enumerate(socks):
        sent = 0
        while sent < len(msgs[i]):  # small messages: the send buffer takes them at once
            try:
                sent += s.send(msgs[i][sent:])
            except BlockingIOError:
                time.sleep(0.001)
                if time.monotonic() > deadline:
                    print(f"FAIL: send on #{i} blocked past the deadline")
                    return 1
        sel.register(s, selectors.EVENT_READ, i)
    waiting = count
    while waiting:
        left = deadline - time.monotonic()
        if left <= 0:
            short = [i for i in range(count) if len(got[i]) < len(msgs[i])]
            print(f"FAIL: {len(short)} echoes incomplete after {timeout} s (first: #{short[0]}, {len(got[short[0]])}/{len(msgs[short[0]])} bytes)")
            return 1
        for key, _ in sel.select(min(left, 1.0)):
            i = key.data
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                print(f"FAIL: recv on #{i}: {e}")
                return 1
            if not data:
                print(f"FAIL: connection #{i} closed by the server after {len(got[i])} bytes")
                return 1
            got[i] += data
            if len(got[i]) > len(msgs[i]) or not msgs[i].startswith(got[i]):
                print(f"FAIL: connection #{i} echoed {got[i][:80]!r}, expected {msgs[i][:80]!r}")
                return 1
            if len(got[i]) == len(msgs[i]):
                sel.unregister(key.fileobj)
                waiting -= 1
    t_echo = time.monotonic() - t0

    # Phase 3: close all; each sees the server's FIN (an orderly end, no reset).
    for s in socks:
        s.shutdown(socket.SHUT_WR)
        sel.register(s, selectors.EVENT_READ)
    open_ = count
    while open_:
        left = deadline - time.monotonic()
        if left <= 0:
            print(f"FAIL: {open_} connections not closed by the server within {timeout} s")
            return 1
        for key, _ in sel.select(min(left, 1.0)):
            try:
                data = key.fileobj.recv(65536)
            except OSError as e:
                print(f"FAIL: while closing: {e}")
                return 1
            if data:
                print(f"FAIL: unexpected data while closing: {data[:80]!r}")
                return 1
            sel.unregister(key.fileobj)
            key.fileobj.close()
            open_ -= 1
    t_all = time.monotonic() - t0
    print(f"ok: {count} connections open at once in {t_conn:.2f} s, {count} echoes by {t_echo:.2f} s, all closed by {t_all:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
