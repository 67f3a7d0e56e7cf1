// so_sendcpu: which netisr runs a datagram send -- the one its flow
// belongs to, so a request/response stays on one CPU.
//
// Problem
//   A socket's requests go to the netisr of so_cpu (net/protosw.h). For a
//   connected socket that is its flow's netisr. But an unconnected UDP
//   socket's so_cpu is picked round robin at socket() and a raw socket's
//   is netisr 0, while the datagram it sends -- and the answer to it --
//   is handled on the netisr of its flow's hash. With CPUS=2, a ping-pong
//   over lo0 (netbench udprtt, netbench rtt, ping) then crosses CPUs
//   twice per round trip: the sender, which the scheduler placed on the
//   CPU where its answers arrive (wake-affine, kernel/sched.c), sends
//   its request to the other CPU's netisr, which hands the packet back
//   to the flow's netisr. Each crossing is an IPI to a hart that sleeps
//   in wfi -- under QEMU a host thread the loaded host must schedule --
//   and a CPUS=2 round trip took 1.7-2.8x the CPUS=1 one.
//
// Idea
//   A datagram send is a request about one flow, (local address, local
//   port, destination, destination port), not about the socket: run it
//   on that flow's netisr, the CPU its packets and its answers are
//   handled on (netisr_hash_ipv4, the one hash of the stack). The user
//   thread computes that CPU before sending the PRU_SEND message
//   (pr_send_cpu of the protocol); when it runs on that CPU already,
//   the message wakes a netisr of its own CPU: no IPI, and the request,
//   the loopback packet, its delivery, the answer and the wake-up of the
//   sender all happen on one CPU, as on one hart.
//   Switch net.netisr.send_flow = 0: every request on so_cpu (the old
//   behaviour), to compare on one boot.
//
// Invariants
//   I1 Only sends move: bind, connect, close and the implicit bind of a
//      first send (local port 0) still run on so_cpu, the pcb's owner,
//      which is the only writer of the pcb's addresses.
//   I2 Sends of one socket to one destination always go to the same
//      netisr (the hash is a function of the flow), so they stay in
//      order; a connected socket's sends go to so_cpu, which is its
//      flow's netisr already (udp_connect).
//   I3 What a send on another netisr reads of the pcb (local address and
//      port; a raw pcb's addresses) is read with atomic loads: the owner
//      writes them only at bind/connect, before the send that uses them
//      (the same thread's earlier request, or another process's racing
//      one, which gets the old or the new address, as it would on so_cpu).
//
// Locking: none of its own; the knob is atomic ([a]).
//
// Races
//   "connect while sending to a flow": another process sharing the socket
//     connects while a sendto runs on the flow's netisr: the send sees the
//     socket unconnected (sent) or connected (EISCONN), as on so_cpu.
//   "switch flipped between two sends": a socket's two sends to one
//     destination may run on two netisrs, and the second may overtake
//     the first; UDP and raw IP promise no order. Only at the flip.
//
// Life of a datagram sent (UDP, lo0, switch on)
//   user thread on CPU F: sendto -> sosend -> sosend_dgram -> so_pru_send
//   -> so_send_cpu -> pr_send_cpu = udp_send_cpu: hash -> F
//   -> lwkt_domsg(netisr F) (same CPU: a local wake-up, no IPI)
//   -> netisr F: udp_send -> ip_output -> lo0 -> netisr_dispatch (F
//   again: the same hash) -> udp_input -> the server's socket, wake it:
//   the server joins F (wake-affine), answers, its send hashes to F too.
//
// Testing
//   tests/test_smp.py: with CPUS=2 a UDP ping-pong ends with client,
//   server and the flow's netisr on one CPU and a bounded number of IPIs
//   per exchange; netbench udprtt / udpflows report ipis= and cpu_*.
//   gdb: break so_send_cpu, udp_send_cpu.
//
// References
//   Linux Documentation/networking/scaling.rst ("RFS: Receive Flow
//   Steering": process a flow on the CPU where its consumer runs; here
//   the consumer is moved instead, and the send follows the flow);
//   DragonFly BSD sys/net/netisr2.h (a flow's netisr from its hash).
#include "net/socket.h"
#include "net/netisr.h"
#include "net/in_pcb.h"

static int send_flow = 1;   // [a]
NET_SYSCTL_INT_RANGE(netisr_send_flow, "net.netisr.send_flow", SYSCTL_RW, &send_flow, 0, 1,
		     "1: a datagram send runs on its flow's netisr; 0: on the socket's (so_cpu)");

// The netisr that runs a send of so to to (NULL: to the peer). The
// caller's thread, before the PRU_SEND message; any CPU.
int so_send_cpu(struct socket *so, const struct sockaddr_in *to)
{
	int own = __atomic_load_n(&so->so_cpu, __ATOMIC_ACQUIRE);
	const struct protosw *pr = so->so_proto;
	if (!__atomic_load_n(&send_flow, __ATOMIC_RELAXED) || pr->pr_send_cpu == NULL)
		return own;
	int cpu = pr->pr_send_cpu(so, to);
	return cpu >= 0 ? cpu : own;
}

// The netisr of the flow (src, dst, proto, sport, dport) in host order;
// src 0: the address ip_output would choose for dst. -1 if there is no
// route (the send fails on so_cpu with the error the protocol gives).
int so_flow_cpu(uint32 src, uint32 dst, uint8 proto, uint16 sport, uint16 dport)
{
	if (src == INADDR_ANY && (src = in_pcbsrcaddr(dst)) == 0)
		return -1;
	return netisr_hashcpu(netisr_hash_ipv4(src, dst, proto, sport, dport));
}
