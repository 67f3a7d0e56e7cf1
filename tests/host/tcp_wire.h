// A fake wire for the TCP host tests: the whole stack runs in the test
// thread, deterministically. The loopback interface "lo0" (127.0.0.1,
// MTU 1500) does not loop packets back by itself: its output captures
// every IP packet on a FIFO (the wire), and wire_run() delivers them --
// through netisr_dispatch_proto, so each lands on the netisr its flow
// hash picks -- then runs every netisr's queue (netisr_poll, with the
// fake CPU set to that netisr's), and advances the virtual clock to the
// next callout when nothing else is left. With wire_delay_ms set, each
// packet spends that long on the wire (one way), so a round trip takes
// virtual time and RTTs can be counted. Two endpoints on 127.0.0.1
// with different ports are the two "stacks" of a test; a filter sees
// each packet first and may drop it, hold it back (reorder) or count it.
#pragma once
#include "tests/host/test.h"
#include "net/tcp_var.h"
#include "net/socket.h"
#include "net/so_accept.h"
#include "net/in_pcb.h"
#include "net/ip.h"
#include "net/netisr.h"
#include "net/byteorder.h"

// A captured TCP segment, as the filter sees it (host order).
struct wire_seg {
	uint16 ws_sport, ws_dport;
	uint32 ws_seq, ws_ack;
	uint8 ws_flags;
	uint32 ws_len;      // data bytes
	uint16 ws_win;
	int ws_n;           // index: TCP segments seen on the wire so far (from 0)
	uint64 ws_time;     // virtual clock when it crossed
	bool ws_has_mss;
	uint16 ws_mss;
	struct tcpopt ws_opt;   // every option, as tcp_dooptions parses it
};

enum wire_verdict { WIRE_PASS, WIRE_DROP, WIRE_HOLD };
// The filter (NULL = pass everything). WIRE_HOLD keeps the packet aside
// until the next packet has been delivered (a swap of two).
extern enum wire_verdict (*wire_filter)(const struct wire_seg *ws);
// A filter for loss tests: drop the data segments k[0..n-1] (1-based,
// seglen bytes each) of what so sends next, once each (a retransmission
// passes). n <= 8. Installs itself as wire_filter.
void wire_drop_segments(struct socket *so, const int *k, int n, uint32 seglen);
// Every TCP segment that crossed (or was dropped), in order; up to 4096.
#define WIRE_LOGMAX 4096
extern struct wire_seg wire_log[WIRE_LOGMAX];
extern int wire_nlog;
// One-way delay of every packet, in virtual ms (0: delivered at once).
extern uint64 wire_delay_ms;
// With WIRE_PCAP=file in the environment, wire_setup writes every packet
// put on the wire (before the filter: what a tcpdump on the sender's
// side sees, drops included) to that pcap file (raw IPv4, virtual time).
// docs/pcap/ holds files made this way.

// Set up mbufs, IP, the netisr ports (2 fake CPUs, no threads, owned by
// this thread), lo0, TCP. RFC 7323 (window scale, timestamps) starts
// OFF: most tests count 1460-byte segments and 16-bit windows; the
// tests of the options turn them on with tw_rfc7323(true).
void wire_setup(void);
// Offer (or not) RFC 7323 window scale and timestamps in new SYNs.
void tw_rfc7323(bool on);
// Deliver packets, run netisrs and timers until nothing is left to do or
// the virtual clock has advanced by ms. Returns the ms elapsed.
uint64 wire_run(uint64 ms);
// Deliver what is on the wire and run the netisrs, without moving the
// clock.
void wire_settle(void);
// Only run what is queued on the netisrs (nothing from the wire).
void wire_netisrs(void);
// Put every packet now on the wire on its netisr's queue, then run the
// netisrs: the packets of one burst are one input batch (up to
// NETISR_BATCH), as a driver's receive interrupt makes them. What the
// netisrs send stays on the wire. Returns the packets delivered.
int wire_burst(void);
// Drop every trace of earlier segments from the log.
void wire_log_clear(void);

// Sockets.
struct socket *tw_socket(void);
struct socket *tw_listen(uint16 port, int backlog);
// Nonblocking connect to 127.0.0.1:port (from lport if != 0).
struct socket *tw_connect(uint16 port, uint16 lport);
// Nonblocking connect of socket so (options set already) to 127.0.0.1:port.
struct socket *tw_connect_so(struct socket *so, uint16 port);
// A connected pair: client and the accepted server socket (after
// wire_settle). Checks both ESTABLISHED.
void tw_pair(uint16 port, struct socket **cli, struct socket **srv);
long tw_send(struct socket *so, const void *buf, size_t n);
long tw_recv(struct socket *so, void *buf, size_t n, int flags);
struct tcpcb *tw_tp(struct socket *so);
enum tcp_state tw_state(struct socket *so);
// Send a forged segment from 127.0.0.1:sport to 127.0.0.1:dport.
void tw_forge(uint16 sport, uint16 dport, uint32 seq, uint32 ack, uint8 flags);
// Send a forged SYN from 127.0.0.1:sport to 127.0.0.1:dport with an MSS
// option of mss (0: none).
void tw_forge_syn(uint16 sport, uint16 dport, uint32 seq, uint16 mss);
// Send any segment: flags, window, options (optlen bytes, a multiple of
// 4 up to 40) and datalen bytes of data, from 127.0.0.1:sport.
void tw_forge_raw(uint16 sport, uint16 dport, uint32 seq, uint32 ack, uint8 flags,
		  uint16 win, const uint8 *opts, int optlen, int datalen);
// Set an int socket option.
void tw_setopt(struct socket *so, int level, int name, int v);
// Count logged segments matching (sport, any flag of flags, data or not).
int tw_count(uint16 sport, uint8 flags, bool data);
// Fill buf with a pattern from offset off.
void tw_pattern(uint8 *buf, size_t n, size_t off);

// ---- the frame of every test over the wire ------------------------------------------
// A test's start: a fresh wire (RFC 7323 off), and the sockets and mbufs
// in use now (s0, m0), which clean() compares at the end.
#define BEGIN()                                   \
	wire_setup();                             \
	int s0 = so_count();                      \
	uint64 m0 = mbstat.mbs_inuse
// A test's end, after closing its sockets: no filter, the wire run past
// every timer (2 MSL, FIN_WAIT_2, the syncache's), then nothing may be
// left: no tcpcb, no syncache entry, the sockets and mbufs of the start.
void clean(int s0, uint64 m0);
// so's local port.
uint16 port_of(struct socket *so);
// The net.inet.tcp.pcblist text now (a static buffer, overwritten by the
// next call).
const char *tw_pcblist(void);
// Send n bytes of the pattern (tw_pattern from offset 0) on so: all of it
// must fit in the send buffer.
void send_pattern(struct socket *so, size_t n);
// Receive exactly n bytes at so (running the wire meanwhile) and check
// they are the pattern from offset 0. n <= 128 KiB.
void recv_check(struct socket *so, size_t n);
