// Sockets: the kernel object behind a socket file descriptor. Design
// essay: the header of net/socket.c; overview: docs/sockets.md. The
// system calls (argument fetching, descriptors) are kernel/sys_socket.c;
// everything here also builds on the host.
//
// Lock legend (kernel/lock.h): [i] set before the socket is published (to
// a descriptor or a pcb list), read-only after; [a] atomic; [o] owned by
// the netisr of so_cpu (protocol state); [r] so_rcv.sb_lock, [t]
// so_snd.sb_lock; [k] so_rcvdlock (net/tcp_rcvd_async.c).
#pragma once
#include "net/shim.h"
#include "net/sockbuf.h"
#include "net/protosw.h"
#include "kernel/socket.h"
#include "kernel/in.h"

// so_state bits. Set with atomics ([a]); a change that a sleeper waits
// for is followed by sbwakeup of the sockbuf concerned (under its lock).
#define SS_ISCONNECTED   0x01   // has a peer (connect, or TCP established)
#define SS_CANTSENDMORE  0x02   // shutdown(SHUT_WR) or close: sends fail
#define SS_CANTRCVMORE   0x04   // shutdown(SHUT_RD), peer FIN, close: EOF
#define SS_ISCONNECTING  0x08   // TCP: connect in progress
#define SS_ISDISCONNECTING 0x10 // TCP
#define SS_NOFDREF       0x20   // the file is closed; pcb may linger (TCP)
#define SS_ACCEPTCONN    0x40   // listening: SYNs make children (TCP)
#define SS_SNDDONE       0x80   // TCP: all we sent, FIN included, is acked

// so_options bits (SOL_SOCKET flags)
#define SO_OPT_REUSEADDR 0x01
#define SO_OPT_REUSEPORT 0x02
#define SO_OPT_BROADCAST 0x04
#define SO_OPT_KEEPALIVE 0x08
#define SO_OPT_LINGER    0x10
#define SO_OPT_RCVBUF    0x20   // SO_RCVBUF was set: no receive autotuning
// TCP_NODELAY (IPPROTO_TCP) kept here too, so an accepted socket inherits
// it with the rest of so_options (net/so_accept.c so_clone); the tcpcb's
// TF_NODELAY is what TCP acts on.
#define SO_OPT_TCP_NODELAY 0x40
#define SO_OPT_SNDBUF    0x80   // SO_SNDBUF was set: no send autotuning

struct socket {
	int so_type;                      // [i] SOCK_RAW / SOCK_DGRAM / SOCK_STREAM
	int so_protocol;                  // [i] IPPROTO_*
	const struct protosw *so_proto;   // [i]
	void *so_pcb;                     // [o] the protocol's control block
	uint32 so_state;                  // [a] SS_*
	uint32 so_options;                // [a] SO_OPT_*
	int so_linger;                    // [a] seconds (SO_LINGER)
	int so_error;                     // [a] pending error (-Exxx), read-and-clear
	int so_cpu;                       // [a] netisr owning so_pcb (see protosw.h)
	int so_rcvcpu;                    // [a] CPU of the netisr that last handed
	                                  //     so_rcv a datagram; -1: none yet
	int so_refs;                      // [a] file + pcb references
	struct sockbuf so_rcv;            // [r]
	struct sockbuf so_snd;            // [t]

	// Listening sockets (net/so_accept.c): the accept queue, the one
	// structure several netisrs touch ([q] = so_qlock of the listener).
	struct net_lock so_qlock;
	struct socket *so_incq;           // [q] children not yet established
	struct socket *so_comp;           // [q] established, not accepted, oldest first
	struct socket *so_comptail;       // [q]
	int so_incqlen;                   // [q]
	int so_qlen;                      // [q] entries on so_comp
	int so_qlimit;                    // [q] backlog (listen(2)), >= 1
	// A child on a listener's queue ([q] of so_head's so_qlock):
	struct socket *so_head;           // [q] the listener; NULL once accepted or orphaned
	struct socket *so_qnext;          // [q] next on so_incq / so_comp
	bool so_oncomp;                   // [q] on so_comp (else on so_incq)
	struct netmsg_pru so_abortmsg;    // [q] listener close -> child's netisr
	// Asynchronous PRU_RCVD (net/tcp_rcvd_async.c): one embedded message,
	// sent by the reader, replied by the netisr, ordered by so_rcvdlock.
	struct net_lock so_rcvdlock;
	struct netmsg_pru so_rcvdmsg;     // [k] so_rcvdlock decides send vs reply
};

// Boot: initialise every protocol of the table (net_init). 0 or -Exxx.
int socket_init(void);

// socket(2): a new socket of (type, protocol) in domain AF_INET, with one
// reference (the caller's: the file). 0 and *sop, or -EPROTONOSUPPORT,
// -EPROTOTYPE, -ENOMEM, or the protocol's attach error. Thread; sleeps.
int socreate(int type, int protocol, struct socket **sop);
// close(2) of the last descriptor: no more I/O, detach the pcb through the
// netisr, free the buffered data, drop the file's reference. Thread; sleeps.
void soclose(struct socket *so);
// References: the last sorele frees the socket (its buffers must be empty
// of users: the pcb is detached).
void soref(struct socket *so);
void sorele(struct socket *so);

// The requests of protosw.h, each carried to the owning netisr (lwkt_domsg).
// Thread context; sleep. 0 or -Exxx (-EOPNOTSUPP if the protocol has none).
int sobind(struct socket *so, const struct sockaddr_in *sin);
// connect: blocks until established unless nonblock (then -EINPROGRESS
// once the SYN is on its way; poll POLLOUT and SO_ERROR tell the end).
int soconnect(struct socket *so, const struct sockaddr_in *sin, bool nonblock);
int solisten(struct socket *so, int backlog);
int soshutdown(struct socket *so, int how);
int sogetsockname(struct socket *so, struct sockaddr_in *sin);
int sogetpeername(struct socket *so, struct sockaddr_in *sin);
int socontrol(struct socket *so, unsigned long cmd, void *data);

// Send uio's bytes (to: destination or NULL). flags: MSG_DONTWAIT;
// nonblock: the file's O_NONBLOCK. Returns the count sent or -Exxx.
long sosend(struct socket *so, struct uio *uio, const struct sockaddr_in *to,
	    int flags, bool nonblock);
// Receive into uio; *from gets the sender when the protocol has PR_ADDR
// (from may be NULL). flags: MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL. Returns
// the count (0: end of file) or -Exxx (-EAGAIN, -EINTR, -EFAULT, so_error).
long soreceive(struct socket *so, struct uio *uio, struct sockaddr_in *from,
	       int flags, bool nonblock);

// The stream read path of net/soreceive_stream.c: used when
// soreceive_stream_on (TCP, net.inet.tcp.soreceive_stream=1, not MSG_PEEK).
// sbwait_rcvout: sleep until no reader has data out of sb (0 or -EINTR);
// caller holds sb_lock.
// so_rcvready: the wait decision of both stream paths (caller holds
// sb_lock): SORCV_COPY enough is queued, copy now; 0 waited or told the
// sender about room, look again; 1 stop (end of file, or an error left for
// the next read); -Exxx stop with this error. so_rcvdone: the window
// update owed at the end of a read (no lock held).
struct sorcv {
	bool waitall;   // MSG_WAITALL: fill the request
	bool rcvd;      // the protocol wants PRU_RCVD (so_rcvd)
	bool full;      // some copy started from a buffer at least half full
	long got;       // bytes read so far
	long told;      // got when so_rcvd was last called
};
#define SORCV_COPY 2
int so_rcvready(struct socket *so, struct sorcv *rs, long resid, bool nonblock);
void so_rcvdone(struct socket *so, struct sorcv *rs);
bool soreceive_stream_on(struct socket *so, int flags);
long soreceive_stream(struct socket *so, struct uio *uio, int flags, bool nonblock);
int sbwait_rcvout(struct sockbuf *sb);

// PRU_RCVD (net/tcp_rcvd_async.c): so_rcvd_init at allocation (the
// message DONE); so_rcvd after a read freed room -- asynchronous unless
// net.inet.tcp.async_rcvd is 0. Caller's thread, no lock held.
void so_rcvd_init(struct socket *so);
void so_rcvd(struct socket *so);
void so_rcvd_count(bool full);
bool so_rcvd_owed(const struct sockbuf *sb);

// Socket options, on a kernel copy of the value. SOL_SOCKET is handled
// here; other levels go to the protocol (PRU_CTLOUTPUT).
#define SOPT_MAXLEN 64
struct sockopt {
	int sopt_level;
	int sopt_name;
	bool sopt_get;            // getsockopt: fill sopt_val, set sopt_valsize
	void *sopt_val;           // kernel buffer of SOPT_MAXLEN bytes
	socklen_t sopt_valsize;   // bytes in (set) / out (get)
};
int sosetopt(struct socket *so, struct sockopt *sopt);
int sogetopt(struct socket *so, struct sockopt *sopt);

// poll(2): which of events (POLLIN/POLLOUT) hold now, plus POLLERR/POLLHUP.
// Any thread; takes the sockbuf locks briefly.
int sopoll(struct socket *so, int events);

// For protocols (in the owning netisr): state changes that wake sleepers.
void soisconnecting(struct socket *so);
void soisconnected(struct socket *so);
void soisdisconnected(struct socket *so);
void socantsendmore(struct socket *so);
void socantrcvmore(struct socket *so);
// Set a pending error (ICMP unreachable, RST) and wake both sides.
void soseterror(struct socket *so, int err);
// A new socket with no pcb (socreate; host tests with a fake protocol).
struct socket *so_alloc(const struct protosw *pr);
// How many sockets exist now (tests: back to the baseline after close).
int so_count(void);

// Internal to net/socket.c and net/sockopt.c.
struct netmsg_pru;
int so_pru_request(struct socket *so, struct netmsg_pru *nm, enum pru_req req);
int so_takeerror(struct socket *so);
