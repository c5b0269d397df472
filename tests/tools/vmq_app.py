#!/usr/bin/python3
"""vmq-app: ordinary applications for the vmq lab, on the kernel's own UDP and
TCP sockets, so a test sees what a VM's applications see (a frame with a bad
checksum never reaches them).

  vmq-app udp-recv --port P [--count N] [--seconds S] [--idle S]
  vmq-app udp-send --to ADDR --port P --count N [--rate R] [--size BYTES]
  vmq-app tcp-send (--listen ADDR | --connect ADDR) --port P --bytes N [--seed S]
  vmq-app tcp-recv (--listen ADDR | --connect ADDR) --port P [--seconds S]

Each prints one JSON line on stdout; listeners print "ready" on stderr once
bound. tcp-send sends N pseudo-random bytes and reports their SHA-256;
tcp-recv reads until the peer closes and reports the SHA-256 of what arrived.
Every loop is bounded by a count and a time limit.
"""
import argparse
import hashlib
import json
import random
import socket
import sys
import time

CHUNK = 64 * 1024


def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def ready():
    sys.stderr.write("ready\n")
    sys.stderr.flush()


def udp_recv(args):
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # IPv4 and IPv6 alike
        sock.bind(("::", args.port))
    except OSError:  # no IPv6 here
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", args.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    ready()
    received = octets = 0
    deadline = time.monotonic() + args.seconds
    last = None
    while received < args.count:
        now = time.monotonic()
        wait = deadline - now
        if last is not None:
            wait = min(wait, last + args.idle - now)
        if wait <= 0:
            break
        sock.settimeout(wait)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        received += 1
        octets += len(data)
        last = time.monotonic()
    return {"received": received, "bytes": octets}


def udp_send(args):
    sock = socket.socket(family_of(args.to), socket.SOCK_DGRAM)
    payload = bytes(random.Random(args.port).getrandbits(8) for _ in range(args.size))
    start = time.monotonic()
    deadline = start + args.seconds
    sent = 0
    while sent < args.count and time.monotonic() < deadline:
        if args.rate > 0:
            due = start + sent / args.rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        sock.sendto(payload, (args.to, args.port))
        sent += 1
    return {"sent": sent, "bytes": sent * args.size, "seconds": time.monotonic() - start}


def connected_socket(args):
    """The TCP connection: accepted on --listen, or made to --connect."""
    address = args.listen or args.connect
    if args.listen:
        server = socket.socket(family_of(address), socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((address, args.port))
        server.listen(1)
        server.settimeout(args.seconds)
        ready()
        conn, _ = server.accept()
        server.close()
    else:
        conn = socket.create_connection((address, args.port), timeout=args.seconds)
    conn.settimeout(args.seconds)
    return conn


def tcp_send(args):
    data = random.Random(args.seed).randbytes(args.bytes)
    conn = connected_socket(args)
    start = time.monotonic()
    conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)
    conn.recv(1)  # the peer closes once it has everything
    conn.close()
    return {"sent": len(data), "sha256": hashlib.sha256(data).hexdigest(), "seconds": time.monotonic() - start}


def tcp_recv(args):
    conn = connected_socket(args)
    digest = hashlib.sha256()
    received = 0
    start = time.monotonic()
    deadline = start + args.seconds
    while time.monotonic() < deadline:
        chunk = conn.recv(CHUNK)
        if not chunk:
            break
        digest.update(chunk)
        received += len(chunk)
    conn.close()
    return {"received": received, "sha256": digest.hexdigest(), "seconds": time.monotonic() - start}


def main():
    parser = argparse.ArgumentParser(prog="vmq-app", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("udp-recv", help="count UDP datagrams arriving on a port")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=1 << 30, help="stop once this many arrived")
    p.add_argument("--seconds", type=float, default=30, help="listen at most this long")
    p.add_argument("--idle", type=float, default=2, help="stop this long after the last datagram")
    p = sub.add_parser("udp-send", help="send UDP datagrams at a rate")
    p.add_argument("--to", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=10000, help="datagrams per second (0: as fast as possible)")
    p.add_argument("--size", type=int, default=64, help="payload bytes")
    p.add_argument("--seconds", type=float, default=60, help="give up after this long")
    for name, helptext in (("tcp-send", "send N bytes over one TCP connection"),
                           ("tcp-recv", "receive over one TCP connection until the peer closes")):
        p = sub.add_parser(name, help=helptext)
        where = p.add_mutually_exclusive_group(required=True)
        where.add_argument("--listen", metavar="ADDR")
        where.add_argument("--connect", metavar="ADDR")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--seconds", type=float, default=60, help="give up after this long")
        if name == "tcp-send":
            p.add_argument("--bytes", type=int, required=True)
            p.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    handlers = {"udp-recv": udp_recv, "udp-send": udp_send, "tcp-send": tcp_send, "tcp-recv": tcp_recv}
    try:
        result = handlers[args.command](args)
    except OSError as e:
        print("vmq-app %s: %s" % (args.command, e), file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
