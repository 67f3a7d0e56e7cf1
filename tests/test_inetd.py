"""inetd (user/inetd.c), started by init at boot, probed from Linux.

The guest boots on the tap rig (netrig.py); nothing is started by hand:
init runs `inetd -q` before the shell.  Linux's own sockets, inside the
namespace, talk to the services as outside checks do:
  UDP: echo 7 returns the datagram, daytime 13 one line, chargen 19 whole
  pattern lines (at most 512 characters), discard 9 nothing, and port 8
  is closed (ICMP port unreachable: ECONNREFUSED on a connected socket).
  TCP: echo returns 100 KB intact and closes after our FIN; discard takes
  100 KB and closes after our FIN, sending nothing; daytime sends one line
  and closes first (the active close); chargen streams the pattern until
  we close; port 8 refuses the connection (RST).
"""

import json
import re
import sys

from netrig import GUEST_IP, netguest

__all__ = ["netguest"]

PROBE = r'''
import json, socket, sys
ip = sys.argv[1]
res = {}
def udp(port, data, wait=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((ip, port))
    s.settimeout(wait)
    for _ in range(3):          # the first may wait for ARP
        s.send(data)
        try:
            return s.recv(65536).decode("latin-1")
        except socket.timeout:
            continue
        except ConnectionRefusedError:
            return "REFUSED"
    return None
res["echo"] = udp(7, b"hello inetd")
res["daytime"] = udp(13, b"x")
res["chargen"] = udp(19, b"x")
res["discard"] = udp(9, b"x", wait=1.0)
res["port8"] = udp(8, b"x", wait=1.0)
print(json.dumps(res))
'''

TCPPROBE = r'''
import json, random, socket, sys, time
ip = sys.argv[1]
res = {}
data = random.Random(5).randbytes(100 << 10)
def conn(port):
    s = socket.create_connection((ip, port), timeout=30)
    s.settimeout(30)
    return s
def readall(s, limit=None):
    got = b""
    while limit is None or len(got) < limit:
        b = s.recv(65536)
        if not b:
            return got, True
        got += b
    return got, False
for port, name in ((7, "echo"), (9, "discard")):
    s = conn(port)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got, eof = readall(s)
    res[name] = {"same": got == data, "got": len(got), "eof": eof}
    s.close()
s = conn(13)
got, eof = readall(s)
res["daytime"] = {"text": got.decode("latin-1"), "eof": eof}
s.close()
s = conn(19)
got, eof = readall(s, 200000)
res["chargen"] = {"text": got[:200000].decode("latin-1"), "eof": eof}
s.close()
try:
    conn(8)
    res["port8"] = "connected"
except ConnectionRefusedError:
    res["port8"] = "refused"
print(json.dumps(res))
'''


def chargen_ok(text):
    """Whole RFC 864 lines: 72 consecutive characters of the rotating
    printable set, then CR LF."""
    lines = text.split("\r\n")
    assert lines[-1] == "" and len(lines) >= 2, repr(text)
    for ln in lines[:-1]:
        assert len(ln) == 72, repr(ln)
        first = ord(ln[0]) - 32
        assert ln == "".join(chr(32 + (first + k) % 95) for k in range(72))
    return True


def test_inetd_udp_services_from_linux(netguest):
    rig, g = netguest(cpus=2)
    r = rig.ns_run([sys.executable or "/usr/bin/python3", "-c", PROBE,
                    GUEST_IP], timeout=60)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["echo"] == "hello inetd", res
    assert res["daytime"] and res["daytime"].startswith("netkern up ") and \
        res["daytime"].endswith("\r\n"), res
    assert len(res["chargen"]) <= 512 and chargen_ok(res["chargen"]), res
    assert res["discard"] is None, res
    assert res["port8"] == "REFUSED", res


def test_inetd_tcp_services_from_linux(netguest):
    rig, g = netguest(cpus=2)
    r = rig.ns_run([sys.executable or "/usr/bin/python3", "-c", TCPPROBE,
                    GUEST_IP], timeout=120)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["echo"] == {"same": True, "got": 100 << 10, "eof": True}, res
    assert res["discard"] == {"same": False, "got": 0, "eof": True}, res
    d = res["daytime"]
    assert d["eof"] and re.fullmatch(r"netkern up \d+d \d\d:\d\d:\d\d\.\d{3}\r\n",
                                     d["text"]), d
    c = res["chargen"]
    assert not c["eof"], "chargen stopped by itself"
    text = c["text"]
    cut = text.rfind("\r\n") + 2          # whole lines only
    assert cut > 190000 and chargen_ok(text[:cut])
    assert res["port8"] == "refused", res
