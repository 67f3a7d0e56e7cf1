"""blindrst.py: a blind-reset attack on a live connection (RFC 5961 3),
run inside the rig's namespace by tests/test_rfc5961.py.

Linux's own TCP opens a connection to the guest's echo service (port 7)
and exchanges "hello".  Then an "attacker" on the same wire forges, with
scapy, a RST from Linux's address and port, with a sequence number inside
the guest's receive window but not exactly RCV.NXT (+1000) -- what a blind
attacker's guess hits far more often than the exact value.  An AF_PACKET
socket on the tap watches for the guest's answer: a challenge ACK
<SEQ=SND.NXT><ACK=RCV.NXT>.  The connection must survive: "world" is
echoed.  Finally a RST at exactly RCV.NXT (what the real peer would send
after the challenge ACK) must end it: Linux's next send draws a RST.

(The "attacker" here reads RCV.NXT off the wire to place its guesses; a
real blind attacker guesses, and only an exact guess resets.)

Prints one JSON line: challenge (the ACK seen, with its fields), alive,
reset_by_exact.
"""

import json
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, Ether  # noqa: E402 (python3-scapy)

GUEST_IP = "10.0.2.15"
GUEST_MAC = "52:54:00:12:34:56"
PEER_IP = "10.0.2.2"


def tcp_of(frame):
    """(src, dst, sport, dport, seq, ack, flags, payload length) of an
    Ethernet/IPv4/TCP frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0xf) * 4
    tot = struct.unpack("!H", frame[16:18])[0]
    t = frame[14 + ihl:]
    if len(t) < 20:
        return None
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", t[:14])
    return (socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34]),
            sport, dport, seq, ack, flags, tot - ihl - (off >> 4) * 4)


def from_guest(sniff, lport, until, stop=None):
    """Segments guest:7 -> Linux:lport seen until `until` (monotonic), or
    up to the first one for which stop(segment) holds."""
    out = []
    while time.monotonic() < until:
        sniff.settimeout(max(0.01, until - time.monotonic()))
        try:
            f = sniff.recv(65535)
        except socket.timeout:
            break
        t = tcp_of(f)
        if t and t[0] == GUEST_IP and t[2] == 7 and t[3] == lport:
            out.append(t)
            if stop is not None and stop(t):
                break
    return out


def echo(s, msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(100)
        if not b:
            break
        got += b
    return got == msg


def main(tap):
    with open("/sys/class/net/%s/address" % tap) as f:
        mac = f.read().strip()
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    sniff.bind((tap, 0))
    res = {"challenge": None, "alive": False, "reset_by_exact": False}
    s = socket.create_connection((GUEST_IP, 7), timeout=10)
    lport = s.getsockname()[1]
    assert echo(s, b"hello")
    time.sleep(0.5)                       # the guest's delayed ACKs settle
    seen = from_guest(sniff, lport, time.monotonic() + 0.5)
    # The guest's RCV.NXT is what Linux has sent: 1 + ISN + 5; read it
    # off the last segment the guest sent (its ACK field).
    rcv_nxt = seen[-1][5] if seen else None
    if rcv_nxt is None:
        print(json.dumps({"error": "no segment from the guest seen"}))
        return
    def rst(seq):
        p = (Ether(src=mac, dst=GUEST_MAC) / IP(src=PEER_IP, dst=GUEST_IP) /
             TCP(sport=lport, dport=7, flags="R", seq=seq, window=0))
        sniff.send(bytes(p))
    rst((rcv_nxt + 1000) & 0xffffffff)    # in the window, not exact
    pure_ack = lambda t: t[6] == 0x10 and t[7] == 0
    for t in from_guest(sniff, lport, time.monotonic() + 3, pure_ack):
        if t[6] == 0x10 and t[7] == 0:    # a pure ACK
            res["challenge"] = {"seq": t[4], "ack": t[5], "rcv_nxt": rcv_nxt}
            break
    try:
        res["alive"] = echo(s, b"world")
    except OSError as e:
        res["alive_error"] = str(e)
    time.sleep(0.5)
    seen = from_guest(sniff, lport, time.monotonic() + 0.3)
    rcv_nxt = rcv_nxt + 5
    rst(rcv_nxt & 0xffffffff)             # exactly RCV.NXT: believed
    time.sleep(0.5)
    try:
        s.sendall(b"x")                   # the guest has no connection: RST
        time.sleep(1.0)
        s.sendall(b"y")
        s.recv(10)
    except (ConnectionResetError, BrokenPipeError):
        res["reset_by_exact"] = True
    except OSError as e:
        res["exact_error"] = str(e)
    s.close()
    print(json.dumps(res))


if __name__ == "__main__":
    main(sys.argv[1])
