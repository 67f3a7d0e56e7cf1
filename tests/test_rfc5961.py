"""RFC 5961 against a real Linux peer: a blind RST inside the window.

The guest boots on a tap in a fresh namespace (netrig.py); tests/
blindrst.py runs there: Linux's TCP connects to inetd's echo, an
"attacker" forges (scapy) a RST from Linux's address and port with a
sequence number in the window but not RCV.NXT, and watches the wire.
The guest must answer with a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>
(net/tcp_challenge.c), keep the connection (the echo still works), count
the event, and still believe a RST at exactly RCV.NXT.
"""

import json
import os
import sys

from netrig import netguest, sysctl_int

__all__ = ["netguest"]          # the fixture, imported for pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def test_rfc5961_blind_rst_draws_a_challenge_ack_and_the_connection_lives(netguest):
    rig, g = netguest(cpus=2)
    chal0 = sysctl_int(g, "net.inet.tcp.challenge_sent")
    rst0 = sysctl_int(g, "net.inet.tcp.rstchallenge")
    r = rig.ns_run(["/usr/bin/python3", os.path.join(HERE, "blindrst.py"), rig.tap],
                   timeout=60)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    print("\nblindrst: %s (capture: %s)" % (res, rig.pcap))
    c = res["challenge"]
    assert c is not None, res
    assert c["ack"] == c["rcv_nxt"], res          # ACK = RCV.NXT, the true one
    assert res["alive"], res                      # the RST killed nothing
    assert sysctl_int(g, "net.inet.tcp.rstchallenge") == rst0 + 1
    assert sysctl_int(g, "net.inet.tcp.challenge_sent") == chal0 + 1
    assert res["reset_by_exact"], res             # the exact RST is believed
