"""Generated pictures in docs/ are up to date with the code they show.

docs/tcp_fsm.svg is drawn by tools/tcp_fsm_svg.py from the
TCP_FSM_EDGE(FROM, TO, "label") lines of net/tcp_fsm.h: regenerate it
and compare, and check that every state of the enum and every edge label
is in the picture.
"""

import re
import subprocess
import sys

from netkern import ROOT

TOOL = ROOT / "tools" / "tcp_fsm_svg.py"
HEADER = ROOT / "net" / "tcp_fsm.h"
SVG = ROOT / "docs" / "tcp_fsm.svg"


def test_tcp_fsm_svg_is_generated_from_the_header():
    r = subprocess.run([sys.executable, str(TOOL), "--check", str(HEADER),
                        str(SVG)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_tcp_fsm_svg_shows_every_state_and_edge():
    header = HEADER.read_text()
    pic = SVG.read_text()
    enum = re.search(r"enum tcp_state \{(.*?)\};", header, re.S).group(1)
    states = re.findall(r"TCPS_(\w+)", enum)
    assert len(states) == 11, states
    for st in states:
        assert ">%s</text>" % st in pic, st
    labels = re.findall(r'^TCP_FSM_EDGE\(\w+, \w+, "([^"]*)"\)', header, re.M)
    assert len(labels) >= 20
    for lb in labels:
        assert ">%s</text>" % lb.replace("&", "&amp;") in pic, lb
    assert pic.count("<line ") == len(labels)
