"""The wire's side of the guest test (tests/integration/test_guest.py), run in
the lab's wire namespace with ordinary kernel sockets, so the frames carry
whatever the wire's offloads make of them (veth's defaults: checksums left to
the receiver's side, CHECKSUM_PARTIAL).

  wire_traffic.py udp --dst IP --port P --count N --rate R [--max-seconds S]
      N datagrams of 64 bytes, "VMQG" + 32-bit big-endian sequence number +
      padding, paced at R per second.
  wire_traffic.py tcp --dst IP --port P --bytes N [--seed S] [--max-seconds S]
      one connection carrying N pseudo-random bytes (from the seed), closed.

Prints one JSON object: what was sent, how long it took, and for tcp the
SHA-256 of the bytes. Both stop after --max-seconds whatever happened.
"""
import argparse
import hashlib
import json
import random
import socket
import struct
import sys
import time


def udp(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    padding = b"\0" * (64 - 8)
    start = time.monotonic()
    deadline = start + args.max_seconds
    sent = errors = 0
    for seq in range(args.count):
        due = start + seq / args.rate
        now = time.monotonic()
        if now > deadline:
            break
        if due > now:
            time.sleep(due - now)
        try:
            sock.sendto(b"VMQG" + struct.pack(">I", seq) + padding, (args.dst, args.port))
            sent += 1
        except OSError:
            errors += 1
    return {"sent": sent, "errors": errors, "seconds": round(time.monotonic() - start, 3)}


def tcp(args):
    data = random.Random(args.seed).randbytes(args.bytes)
    start = time.monotonic()
    sock = socket.create_connection((args.dst, args.port), timeout=min(10.0, args.max_seconds))
    sock.settimeout(args.max_seconds)
    chunk = 65536
    for offset in range(0, len(data), chunk):
        if time.monotonic() - start > args.max_seconds:
            raise TimeoutError("sent %d of %d bytes in %ss" % (offset, len(data), args.max_seconds))
        sock.sendall(data[offset:offset + chunk])
    sock.shutdown(socket.SHUT_WR)
    # The guest closes once it has read everything: then every byte was acknowledged.
    while sock.recv(4096):
        pass
    sock.close()
    return {"sent": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "seconds": round(time.monotonic() - start, 3)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("udp", "tcp"))
    parser.add_argument("--dst", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--bytes", type=int, default=1 << 20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=30)
    args = parser.parse_args()
    try:
        result = udp(args) if args.mode == "udp" else tcp(args)
    except OSError as e:
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
