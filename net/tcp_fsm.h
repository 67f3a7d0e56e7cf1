// The TCP connection states of RFC 9293 3.3.2 (Figure 5) and what each
// state may do.
//
// The enum order is BSD's and code relies on it (docs/conventions.md rule 10):
//   state <  TCPS_ESTABLISHED   not yet synchronized (no data accepted)
//   state >= TCPS_ESTABLISHED   synchronized (TCPS_HAVEESTABLISHED)
//   state >  TCPS_CLOSE_WAIT    we have sent (or must send) our FIN
// (TCPS_HAVERCVDFIN lists the states where the peer's FIN was received.)
//
// tcp_fsm_edges below is the state diagram of RFC 9293 Figure 5, one
// TCP_FSM_EDGE(FROM, TO, "event / action") per arrow, exactly as the RFC
// draws it (RST and abort transitions to CLOSED are drawn by no arrow in
// the figure; the code takes them through tcp_drop). A script greps the
// TCP_FSM_EDGE lines to draw the diagram in docs/tcp.md; keep one edge
// per line and no comments between them.
//
// Lock legend: [i] constant tables.
#pragma once

enum tcp_state {
	TCPS_CLOSED = 0,      // no connection (a fresh or finished tcpcb)
	TCPS_LISTEN,          // waiting for a SYN (passive open)
	TCPS_SYN_SENT,        // our SYN sent (active open)
	TCPS_SYN_RECEIVED,    // SYN received and SYN,ACK sent
	TCPS_ESTABLISHED,     // data flows both ways
	TCPS_CLOSE_WAIT,      // peer's FIN received, waiting for our close
	TCPS_FIN_WAIT_1,      // closed, our FIN sent, not yet acknowledged
	TCPS_CLOSING,         // both FINs sent, ours not yet acknowledged
	TCPS_LAST_ACK,        // closed after the peer's FIN, our FIN unacked
	TCPS_FIN_WAIT_2,      // our FIN acknowledged, waiting for the peer's
	TCPS_TIME_WAIT,       // both closed, waiting 2 MSL for stray segments
	TCP_NSTATES
};

#define TCPS_HAVEESTABLISHED(s) ((s) >= TCPS_ESTABLISHED)
#define TCPS_HAVERCVDFIN(s) \
	((s) == TCPS_CLOSE_WAIT || (s) == TCPS_CLOSING || (s) == TCPS_LAST_ACK || \
	 (s) == TCPS_TIME_WAIT)
// May we still send data? (ESTABLISHED and CLOSE_WAIT; RFC 9293 3.10.2.)
#define TCPS_CANSEND(s) ((s) == TCPS_ESTABLISHED || (s) == TCPS_CLOSE_WAIT)
// Is received text accepted? (RFC 9293 3.10.7.4, seventh: ESTABLISHED,
// FIN_WAIT_1, FIN_WAIT_2; SYN_RECEIVED once its ACK moved it on.)
#define TCPS_CANRECV(s) \
	((s) == TCPS_ESTABLISHED || (s) == TCPS_FIN_WAIT_1 || (s) == TCPS_FIN_WAIT_2)

// The RFC names, for netstat and the pcblist sysctl.
static const char *const tcp_statenames[TCP_NSTATES] __attribute__((unused)) = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT",
	"FIN_WAIT_1", "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT",
};

struct tcp_fsm_edge {
	enum tcp_state e_from;   // [i]
	enum tcp_state e_to;     // [i]
	const char *e_label;     // [i] "event / action" as in Figure 5
};

#define TCP_FSM_EDGE(from, to, label) { TCPS_##from, TCPS_##to, label }

static const struct tcp_fsm_edge tcp_fsm_edges[] __attribute__((unused)) = {
TCP_FSM_EDGE(CLOSED, LISTEN, "passive OPEN / create TCB"),
TCP_FSM_EDGE(CLOSED, SYN_SENT, "active OPEN / create TCB, snd SYN"),
TCP_FSM_EDGE(LISTEN, CLOSED, "CLOSE / delete TCB"),
TCP_FSM_EDGE(LISTEN, SYN_RECEIVED, "rcv SYN / snd SYN,ACK"),
TCP_FSM_EDGE(LISTEN, SYN_SENT, "SEND / snd SYN"),
TCP_FSM_EDGE(SYN_SENT, CLOSED, "CLOSE / delete TCB"),
TCP_FSM_EDGE(SYN_SENT, SYN_RECEIVED, "rcv SYN / snd SYN,ACK"),
TCP_FSM_EDGE(SYN_SENT, ESTABLISHED, "rcv SYN,ACK / snd ACK"),
TCP_FSM_EDGE(SYN_RECEIVED, LISTEN, "rcv RST (passive open)"),
TCP_FSM_EDGE(SYN_RECEIVED, ESTABLISHED, "rcv ACK of SYN"),
TCP_FSM_EDGE(SYN_RECEIVED, FIN_WAIT_1, "CLOSE / snd FIN"),
TCP_FSM_EDGE(ESTABLISHED, FIN_WAIT_1, "CLOSE / snd FIN"),
TCP_FSM_EDGE(ESTABLISHED, CLOSE_WAIT, "rcv FIN / snd ACK"),
TCP_FSM_EDGE(FIN_WAIT_1, FIN_WAIT_2, "rcv ACK of FIN"),
TCP_FSM_EDGE(FIN_WAIT_1, CLOSING, "rcv FIN / snd ACK"),
TCP_FSM_EDGE(FIN_WAIT_2, TIME_WAIT, "rcv FIN / snd ACK"),
TCP_FSM_EDGE(CLOSING, TIME_WAIT, "rcv ACK of FIN"),
TCP_FSM_EDGE(CLOSE_WAIT, LAST_ACK, "CLOSE / snd FIN"),
TCP_FSM_EDGE(LAST_ACK, CLOSED, "rcv ACK of FIN / delete TCB"),
TCP_FSM_EDGE(TIME_WAIT, CLOSED, "Timeout=2MSL / delete TCB"),
};
#define TCP_FSM_NEDGES ((int)(sizeof(tcp_fsm_edges) / sizeof(tcp_fsm_edges[0])))
