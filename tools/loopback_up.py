"""Bring the loopback interface up, then run the command given: the first step inside a new network
namespace, whose only interface, ``lo``, starts down (network_namespaces(7)). Uses the SIOCGIFFLAGS and
SIOCSIFFLAGS ioctls (netdevice(7)), so the test tooling needs no iproute2.

    unshare -rn tools/loopback_up.py COMMAND [ARG ...]
"""
import fcntl
import os
import socket
import struct
import sys

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, SIOCGIFFLAGS, request[:18].ljust(40, b"\0"))[:18])[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP).ljust(40, b"\0"))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    loopback_up()
    os.execvp(sys.argv[1], sys.argv[1:])
