// The protocol switch: what the socket layer (net/socket.c) asks of a
// protocol (raw IP, UDP, TCP), and the LWKT message that
// carries each request to the netisr thread that owns the protocol control
// block (pcb).
//
// Why messages: a pcb belongs to exactly one netisr (docs/design.md 4), so its
// protocol state needs no lock. A system call never calls a pru_* function
// itself; it fills a struct netmsg_pru on its own stack and sends it with
// lwkt_domsg to so->so_port (net/socket.c so_pru_*()). The netisr runs
// so_pru_dispatch(), which calls the pru_* function below, and replies
// with its result. The pru_* functions therefore always run in the owning
// netisr thread and may touch the pcb freely.
//
// Message type (docs/conventions.md rule 11):
//   struct netmsg_pru
//     sender: a user thread in a socket system call (net/socket.c
//       so_pru_*), via lwkt_domsg (it waits for the answer);
//     target: the netisr of so->so_cpu (for PRU_ATTACH: of
//       pr_attach_cpu(), the pcb does not exist yet);
//     reply port: none -- lwkt_domsg's sync wakeup (MSGF_SYNC);
//     freed by: nobody -- it lives in the sender's stack frame, which
//       outlives the reply. PRU_SEND carries an mbuf chain that the
//       handler consumes on every path.
//   Later (TCP, DragonFly 96c6eb29): PRU_RCVD becomes an asynchronous message
//   embedded in the socket (lwkt_sendmsg, its own in-flight flag); the
//   request code stays the same.
//
// Owning netisr: pr_attach_cpu(so) picks the netisr for a new pcb (raw:
// 0; UDP and TCP: round-robin over the netisrs, to spread senders -- the
// addresses are not known yet). A handler of PRU_BIND/PRU_CONNECT may
// move the pcb to another netisr (UDP and TCP connect: the netisr of the
// 4-tuple's netisr_hash_ipv4); it does so by storing the new cpu in
// so->so_cpu (atomically) before replying: later requests go there.
//
// Lock legend (kernel/lock.h): [i] set at init (the table is const).
#pragma once
#include "net/shim.h"
#include "net/lwkt_msg.h"
#include "net/mbuf.h"
#include "kernel/in.h"

struct socket;
struct sockopt;

// pr_flags
#define PR_ATOMIC   0x01   // each send is one datagram (no partial sends)
#define PR_ADDR     0x02   // received data carries the sender's address
#define PR_CONNREQUIRED 0x04   // must be connected to send (TCP)
#define PR_WANTRCVD 0x08   // tell the protocol after data is read (TCP window)
#define PR_LISTEN   0x10   // listen/accept make sense (TCP)

// Requests carried by struct netmsg_pru (nm_req). The switch in
// so_pru_dispatch (net/socket.c) maps each one to its pru_* function.
enum pru_req {
	PRU_ATTACH,      // create the pcb (nm_arg = protocol number)
	PRU_DETACH,      // destroy the pcb; afterwards no input reaches so
	PRU_BIND,        // nm_sin: local address
	PRU_CONNECT,     // nm_sin: peer address
	PRU_LISTEN,      // nm_arg: backlog
	PRU_ACCEPT,      // nm_sin: out, the peer of the accepted connection
	PRU_SEND,        // nm_m (consumed), nm_sin: destination or NULL
	PRU_SHUTDOWN,    // no more sends (SHUT_WR): FIN for TCP
	PRU_RCVD,        // the user read data: window update (TCP)
	PRU_CONTROL,     // nm_arg: ioctl command, nm_data: kernel buffer
	PRU_SOCKADDR,    // nm_sin: out, local address
	PRU_PEERADDR,    // nm_sin: out, peer address (-ENOTCONN)
	PRU_CTLOUTPUT,   // nm_sopt: a non-SOL_SOCKET option, get or set
	PRU_ABORT,       // drop the connection (a listener's unaccepted child)
	PRU_NREQ
};

// The protocol's half of each request. Each runs in the owning netisr
// thread and returns 0 or -Exxx. NULL means "not supported": the socket
// layer answers -EOPNOTSUPP without sending a message.
struct pr_usrreqs {
	int (*pru_attach)(struct socket *so, int proto);
	int (*pru_detach)(struct socket *so);
	int (*pru_bind)(struct socket *so, const struct sockaddr_in *sin);
	int (*pru_connect)(struct socket *so, const struct sockaddr_in *sin);
	int (*pru_listen)(struct socket *so, int backlog);
	int (*pru_accept)(struct socket *so, struct sockaddr_in *sin);
	// Consumes m (an M_PKTHDR chain of user data) on every path.
	int (*pru_send)(struct socket *so, struct mbuf *m, const struct sockaddr_in *to);
	int (*pru_shutdown)(struct socket *so);
	int (*pru_rcvd)(struct socket *so);
	int (*pru_control)(struct socket *so, unsigned long cmd, void *data);
	int (*pru_sockaddr)(struct socket *so, struct sockaddr_in *sin);
	int (*pru_peeraddr)(struct socket *so, struct sockaddr_in *sin);
	int (*pru_ctloutput)(struct socket *so, struct sockopt *sopt);
	int (*pru_abort)(struct socket *so);
};

struct protosw {
	int pr_type;                       // [i] SOCK_RAW, SOCK_DGRAM, SOCK_STREAM
	int pr_protocol;                   // [i] IPPROTO_*; 0 = any (the default)
	int pr_flags;                      // [i] PR_*
	uint32 pr_sendspace;               // [i] default so_snd high water mark
	uint32 pr_recvspace;               // [i] default so_rcv high water mark
	// Which netisr a new pcb belongs to. Any thread.
	int (*pr_attach_cpu)(struct socket *so);
	// Which netisr runs a send to `to` (NULL: the peer), or -1 for
	// so_cpu; NULL: always so_cpu (net/so_sendcpu.c). The sender's thread.
	int (*pr_send_cpu)(struct socket *so, const struct sockaddr_in *to);
	const struct pr_usrreqs *pr_usrreqs;   // [i]
	int (*pr_init)(void);              // [i] boot (socket_init), or NULL
	const char *pr_name;               // [i] "raw icmp"
};

// A socket request in flight (see the message type above).
struct netmsg_pru {
	struct lwkt_msg nm_msg;       // first: the handler casts back
	enum pru_req nm_req;          // [o] what to do
	struct socket *nm_so;         // [o] on which socket
	struct sockaddr_in *nm_sin;   // [o] address in or out, or NULL
	struct mbuf *nm_m;            // [o] PRU_SEND: data, consumed
	struct sockopt *nm_sopt;      // [o] PRU_CTLOUTPUT
	void *nm_data;                // [o] PRU_CONTROL
	long nm_arg;                  // [o] protocol, backlog, ioctl command
};

// net/so_sendcpu.c: the netisr that runs a send of so to to (NULL: the
// peer): its flow's (net.netisr.send_flow) or so_cpu. Sender's thread.
int so_send_cpu(struct socket *so, const struct sockaddr_in *to);
// The netisr of a flow, host order; src 0: as ip_output would choose.
// -1: no route.
int so_flow_cpu(uint32 src, uint32 dst, uint8 proto, uint16 sport, uint16 dport);

// The protocol table (net/socket.c): the entry for (type, protocol), or
// NULL. protocol 0 picks the type's default (none for SOCK_RAW).
const struct protosw *pffindproto(int type, int protocol);

// net/raw_ip.c
extern const struct pr_usrreqs rip_usrreqs;
int rip_init(void);
int rip_attach_cpu(struct socket *so);
int rip_send_cpu(struct socket *so, const struct sockaddr_in *to);
// A received IP packet of a protocol that raw sockets may want (ICMP):
// deliver a copy of the whole packet (IP header first, hlen bytes) to
// every matching raw socket. Netisr thread; borrows m.
void rip_input(struct mbuf *m, int hlen);

// net/tcp_usrreq.c (the rest: net/tcp_var.h)
extern const struct pr_usrreqs tcp_usrreqs;
int tcp_init(void);
int tcp_attach_cpu(struct socket *so);

// net/udp.c
extern const struct pr_usrreqs udp_usrreqs;
int udp_init(void);
int udp_attach_cpu(struct socket *so);
int udp_send_cpu(struct socket *so, const struct sockaddr_in *to);
// Input (ip_protosw[IPPROTO_UDP]): m has the IP header (hlen bytes).
// Netisr thread; consumes m.
void udp_input(struct mbuf *m, int hlen);
