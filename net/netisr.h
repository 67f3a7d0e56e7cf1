// netisr: one network thread per CPU, each with an LWKT port; packets and
// requests are sent to the thread that owns the flow. Design essay at the
// top of net/netisr.c; student guide docs/netisr.md.
//
// Message types carried here (docs/conventions.md rule 11):
//   packet message (m->m_pkthdr.ph_msg, set up by netisr_dispatch)
//     sender: the driver's RX path (interrupt) or loopback output;
//     target: netisr of CPU netisr_hash(m) % ncpu; reply port: none;
//     freed by: the protocol input function (it consumes the mbuf, and the
//     message lives in the mbuf). Never replied to.
//   any other message (a socket request, a timer, a test):
//     sender: the caller of lwkt_sendmsg/lwkt_domsg(netisr_cpuport(cpu));
//     target: that netisr; reply port and owner: documented by its type.
//
// Lock legend (kernel/lock.h): [o] the netisr thread itself, [a] atomic,
// [i] set at init.
#pragma once
#include "net/shim.h"
#include "net/lwkt_msg.h"
#include "net/mbuf.h"

// Protocols whose input a netisr runs (m_pkthdr.ph_proto).
// (ARP has no entry: it arrives as an Ethernet frame, and ether_input
// hands it to arp_input.)
enum netisr_proto {
	NETISR_ETHER = 0,   // an Ethernet frame from a driver (ether_input)
	NETISR_IP = 1,      // an IPv4 packet from loopback (ip_input)
	NETISR_NPROTO
};

// Protocol input: runs in the netisr thread, consumes m.
typedef void (*netisr_input_t)(struct mbuf *m);
// Rollup hook: runs in each netisr thread at the end of every batch
// (TCP sends its delayed ACKs here). cpu = the netisr's CPU.
typedef void (*netisr_rollup_t)(int cpu);

#define NETISR_MAXCPU 8      // = NCPU
#define NETISR_MAXROLLUP 8
#define NETISR_BATCH 32      // messages per batch before rollups run
#define NETISR_MAXQLEN 1024  // default bound of queued packets per netisr
#define NETISR_MAXQLEN_MAX 65536  // largest bound net.netisr.maxqlen accepts

struct netisr {
	struct lwkt_port ni_port;   // [s] ni_port.mp_lock; owned by the thread
	int ni_cpu;                 // [i]
	int ni_pid;                 // [a] thread id, stored once by netisr_init
	                            //     after the thread started (0 before);
	                            //     read by debuggers only
	uint64 ni_msgs;             // [a] messages handled
	uint64 ni_batches;          // [a] batches (rollup rounds)
	uint64 ni_pkts;             // [a] packet messages handled
	uint64 ni_dropped;          // [a] packets with no input function
	int ni_qlen;                // [a] packets queued on the port now
	uint64 ni_qdrops;           // [a] packets dropped: queue at netisr_maxqlen
	char ni_name[16];           // [i] "netisr0"
	struct net_sysctl ni_oids[5]; // [i] net.netisr.<cpu>.*
};

// Start one netisr thread per CPU. Called from net_init (boot, one
// thread). 0 or -Exxx.
int netisr_init(void);

// Only the ports of netisr_init, no threads: the host tests drive every
// netisr from one thread with netisr_poll (deterministic). 0 or -Exxx.
int netisr_init_ports(void);
// Run the messages queued on cpu's port now, then the rollup hooks: one
// batch without sleeping. Only the port's owner may call it (the host
// test thread after lwkt_port_setowner). Returns the messages run.
int netisr_poll(int cpu);

// Register the input function of a protocol / a rollup hook. Call before
// netisr_init or while no packet of that protocol flows.
int netisr_register(enum netisr_proto proto, netisr_input_t fn);
int netisr_register_rollup(netisr_rollup_t fn);

// THE flow hash: the one way a 4-tuple becomes a hash in this kernel.
// Every argument is a number in HOST byte order (10.0.2.15 is 0x0a00020f,
// port 53 is 53): convert with ntoh32/ntoh16 what you read from a header.
// Symmetric: swapping the two ends gives the same value. Ports count only
// for TCP (6) and UDP (17). Everything that picks a netisr or a member of
// a reuseport group from a flow calls this, with these arguments: the
// driver dispatch (netisr_hash_mbuf), loopback, a connected socket's
// placement (so_cpu), the reuseport pick (in_localgroup_pick), TCP. If
// two of them disagreed, a flow's packets and its socket's requests would
// run on different netisrs (tests/host: flowhash_* checks they agree).
uint32 netisr_hash_ipv4(uint32 saddr, uint32 daddr, uint8 proto,
			uint16 sport, uint16 dport);
// Flow hash of the IPv4 packet at byte offset off of m (off = 14 for an
// Ethernet frame). 0 for anything that is not IPv4. Borrows m.
uint32 netisr_hash_mbuf(struct mbuf *m, int off);
// The CPU whose netisr owns hash.
int netisr_hashcpu(uint32 hash);

// The port of CPU cpu's netisr.
struct lwkt_port *netisr_cpuport(int cpu);
// The netisr of CPU cpu (for tests and statistics).
struct netisr *netisr_get(int cpu);

// Send packet m (an Ethernet frame) to the netisr that owns its flow.
// Computes the hash unless PH_HASHVALID. Consumes m. Any context
// (interrupts included); never sleeps. 0, or -ENXIO before netisr_init
// (m freed).
int netisr_dispatch(struct mbuf *m);
// As netisr_dispatch, for a packet of protocol proto (loopback: NETISR_IP).
int netisr_dispatch_proto(enum netisr_proto proto, struct mbuf *m);
// The CPU whose netisr netisr_dispatch would send Ethernet frame m to.
// Hashes m now (the hash is kept in it: PH_HASHVALID). Borrows m.
int netisr_frame_cpu(struct mbuf *m);

// Interrupt steering (net/netisr_steer.c): a receive interrupt line that
// follows the netisr its frames go to. One per device, used only by its
// interrupt handler ([rx]).
struct netisr_steer {
	int st_cpu;                       // [rx] the hart the line goes to; -1: every hart
	int st_want;                      // [rx] the CPU the last interrupts' frames went to
	int st_streak;                    // [rx] interrupts in a row that pointed at st_want
	uint32 st_frames;                 // [rx] frames of the interrupt being handled
	uint32 st_count[NETISR_MAXCPU];   // [rx] of them, per netisr CPU
	uint64 st_moves;                  // [a] times the line moved
};
void netisr_steer_init(struct netisr_steer *st);
// Count frame m (before netisr_dispatch consumes it).
void netisr_steer_frame(struct netisr_steer *st, struct mbuf *m);
// At the end of an interrupt: true if the line should now go to st_cpu
// (-1: every hart); the caller routes it (intr_route).
bool netisr_steer_end(struct netisr_steer *st);
