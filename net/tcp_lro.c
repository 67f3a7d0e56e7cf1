// TCP receive coalescing (LRO, "GRO" in Linux): the in-order data
// segments of one connection that arrive in one netisr batch reach the
// TCP state machine as one segment. (This header: Problem, Idea, what
// may merge and why the result equals one-by-one processing, then
// Invariants I1-I5, Locking -- none, the table is per netisr -- Races,
// Life of a packet, Testing, References.)
//
// Problem: a bulk receiver on a clean link gets a run of full segments
// of one connection in every batch (up to NETISR_BATCH). Each goes
// through the same steps: the pcb lookup (hash, table lock),
// tcp_input_sync's checks, the ACK and window bookkeeping, sbappend
// under so_rcv.sb_lock, the rollup list. Under QEMU's TCG each call
// and return costs a block lookup too; the ACK is already one per batch
// (net.inet.tcp.ack_batch_max), the rest is paid per segment.
//
// Idea: after tcp_input_parse (the checksum is checked there, per
// segment, before anything here sees it), tcp_lro_input holds a
// segment that may be merged, in a small per-netisr table of flows. A
// following segment of the same flow that continues the held run
// exactly is linked onto it (its headers trimmed off, its mbuf linked:
// no copy). The run is handed on when the batch ends (tcp_lro_rollup,
// before tcp_rollup sends the batch's ACKs), when a segment of its flow
// cannot join it (that segment waits until the run is handed on, so
// the order within a flow never changes), when the table is full, or
// when the run is at its limit. Handing on (tcp_lro_flush) looks the
// connection up once and gives tcp_input_sync one merged segment for as
// many held segments as TCP would have treated alike one by one
// (tcp_lro_span); anything else goes through tcp_input_demux one by
// one, exactly as without LRO.
//
// What may be held (tcp_lro_shape): IPv4 without options, all headers in
// the first mbuf (never so for a datagram ip_reass put together), TCP with ACK
// and nothing but ACK and PSH (no SYN, FIN, RST, URG, ECE, CWR), data,
// no options or only timestamps in the RFC 7323 Appendix A layout
// (NOP NOP TS, 12 bytes). What may join a run (tcp_lro_fits): the same
// 4-tuple, IP TOS, TTL and flags (tcp_lro_ipkey), SEG.SEQ where the run
// ends, the same SEG.ACK, SEG.WND (raw, before scaling), options layout
// and TSecr, a TSval not older than the last one held, less than 64 KB
// of data in all, at most TCP_LRO_MAXSEGS segments.
//
// What the merged segment says: the first segment's SEG.SEQ, SEG.ACK,
// SEG.WND, TSval and TSecr; data: all of it; PSH if any had it. That is
// what processing them one by one does with a run tcp_lro_span admits:
//   - Acceptability: the run starts at RCV.NXT (or, behind a hole, where
//     the highest reassembly entry ends) and ends within the
//     advertised window (RCV.ADV, which never moves left), so each part
//     is acceptable and untrimmed one by one, and the whole is too.
//   - ACK and window: all parts carry the same SEG.ACK and SEG.WND; the
//     first one processes them, the others find SEG.ACK = SND.UNA with
//     data (never a duplicate ACK: RFC 5681 2) and no new window.
//   - TS.Recent (RFC 7323 4.3): only a segment with SEG.SEQ <=
//     Last.ACK.sent updates it; within a run without an ACK sent that is
//     the first part alone. tcp_lro_span ends a run where one by one an
//     ACK would leave (the delayed-ACK rule below), so the next run
//     starts at Last.ACK.sent with its own TSval, as one by one.
//   - PAWS (5.3): a run is merged only if its first TSval is not older
//     than TS.Recent, and each later one is not older than the one
//     before it nor than TS.Recent as the first part leaves it
//     (tcp_lro_span: TSvals compare modulo 2^32, which is not
//     transitive). So all lie less than 2^31 after that TS.Recent, in
//     order: no part would have been rejected, not even after a reply
//     sent between two parts moved TS.Recent to a later one's TSval.
//   - RTT (4.1): only the first part can ACK new data (they share
//     SEG.ACK), so only its TSecr is ever used; all share it anyway.
//   - Delayed ACK / ack_batch_max (net/tcp_input_sync.c
//     tcp_input_delack): the merged segment counts as its nsegs
//     segments, and a run ends at the part after which the unACKed
//     bytes exceed tcp_ack_batch_limit: the ACK leaves after the same
//     byte with the same value (with ack_batch_max=0: every second full
//     segment, so runs of two).
//   - Receive-buffer autotuning counts each part's length in order
//     (sg_seglens).
//   - Counters: rcvtotal counts each segment on arrival (tcp_input);
//     rcvpack counts the parts (tcp_deliver's nsegs), rcvbyte the bytes.
// One difference remains, and is allowed: a reply that one by one would
// have been sent between two parts (tcp_output after an ACK of new data
// lets our own data go, with an ACK field) leaves after the run, with
// a larger ACK field.
// Behind a hole (data in the reassembly queue) a run merges only where
// one by one every part would only extend the highest SACK block with
// its ACK deferred (net/tcp_sackdelay.c, tcp_sackdelay_run: after the
// three immediate duplicate ACKs for that hole, net.inet.tcp.lro_ooo):
// the merged segment is appended to the last reassembly entry, counts
// its parts in rcvoopack and ooo_ackwait, and the run ends where one by
// one the deferred ACK would leave; it never updates TS.Recent (SEG.SEQ
// > RCV.NXT >= Last.ACK.sent), nor would its parts. At 2% loss from
// Linux 85% of the segments arrive behind a hole. Any other segment
// out of order, a connection not ESTABLISHED or without its file, an
// unacceptable SEG.ACK: that segment goes alone (tcp_input_demux), as
// without LRO, and the next ones are tried again: the reassembly queue,
// SACK and the immediate duplicate ACKs a sender counts are unchanged.
//
// Invariants:
//   I1 A flow has at most one run held; its segments are contiguous in
//      sequence space and in arrival order.
//   I2 Nothing is held when a batch has ended (tcp_lro_rollup runs
//      before tcp_rollup: net/netisr.c I4).
//   I3 A segment of a flow with a held run is processed only after that
//      run (tcp_lro_input flushes it first, or appends to it).
//   I4 Each held segment is handed on exactly once, merged or alone.
//   I5 Counted so: lro_held = lro_mergedsegs + lro_unmerged + the
//      segments held now (none once a batch is over).
//
// Locking: none. The table is per netisr, touched only by its thread
// ([o]); the counters are atomics; tcp_lro_on is read relaxed.
//
// Races:
//   - "the connection changes while a run is held": the table holds
//     mbufs and parsed headers only, never a tcpcb; tcp_lro_flush looks
//     the connection up at flush time and decides then (a socket
//     request or a timer of this netisr may have run in between: the
//     run is then simply later, as if it had arrived after them; a
//     connection aborted in between answers each held segment as one
//     for no connection: tcp_lro_conn_closed_while_held). A RST, SYN or
//     FIN of the flow is never held: its run goes first (I3).
//   - "switched off with runs held": tcp_lro_input flushes everything
//     before it lets a segment through, and the rollup flushes whatever
//     the switch says (tcp_lro_switched_off_mid_batch). lro_ooo is read
//     only when a run is handed on.
//
// Life of a packet: e1000 -> netisr -> ether_input -> ip_input ->
// tcp_input -> tcp_input_parse (checksum) -> tcp_lro_input: held ...
// more segments ... end of the batch: tcp_lro_rollup -> tcp_lro_flush
// -> tcp_input_conn (lookup) -> tcp_lro_span -> tcp_lro_merge ->
// tcp_input_sync (one merged segment) -> tcp_deliver (one sbappend) ->
// then tcp_rollup: one ACK, one wakeup.
//
// Testing: make hosttest (tests/host/test_tcp_lro.c, test_tcp_lro_peer.c:
// tcp_lro_*); tests/test_tcp.py::test_tcp_transfers_sha256_on_a_clean_link
// (sha256-checked Linux -> guest transfers with the switch on, then off,
// and the counters). In the guest: sysctl net.inet.tcp.lro (0: off), netstat -s
// (lro_*). Cost: bench/run.py --only icounttcp (the Linux -> guest row
// gives both). gdb: break tcp_lro_flush, tcp_lro_merge.
//
// References: FreeBSD sys/netinet/tcp_lro.c (from Myricom's driver,
// 2007: what may merge; which TSval and TSecr a merged segment carries
// is each implementation's choice -- ours, the first of both, is argued
// above); Linux
// net/ipv4/tcp_offload.c tcp_gro_receive (flush on any flag but ACK/PSH,
// on a change of options or ACK); RFC 7323 4.3, 5.3 (TS.Recent, PAWS);
// RFC 1122 4.2.3.2 (delayed ACK); RFC 5681 2 (duplicate ACKs).
#include "net/tcp_var.h"
#include "net/ip.h"
#include "net/netisr.h"
#include "net/byteorder.h"

#define TCP_LRO_NFLOWS 8        // runs held at once per netisr
#define TCP_LRO_MAXSEGS 32      // segments in one run (= NETISR_BATCH)
#define TCP_LRO_MAXBYTES 65535  // data in one run: less than 64 KB

int tcp_lro_on = 1;
NET_SYSCTL_INT_RANGE(tcp_lro, "net.inet.tcp.lro", SYSCTL_RW, &tcp_lro_on, 0, 1,
		     "merge in-order segments of one flow and one netisr batch before TCP "
		     "input (0: each segment alone)");

static struct {
	uint64 held;        // segments held for merging
	uint64 merged;      // merged segments handed to TCP
	uint64 mergedsegs;  // segments inside them
	uint64 flushes;     // runs handed on
	uint64 unmerged;    // held segments handed on alone (I5)
} tcp_lrostat;
#define LROSTAT_OID(id, d) \
	NET_SYSCTL_UINT64(tcp_lro_##id, "net.inet.tcp.lro_" #id, SYSCTL_RD, &tcp_lrostat.id, d)
LROSTAT_OID(held, "segments held by receive coalescing");
LROSTAT_OID(merged, "coalesced segments handed to TCP");
LROSTAT_OID(mergedsegs, "segments inside coalesced segments");
LROSTAT_OID(flushes, "held runs handed on");
LROSTAT_OID(unmerged, "held segments handed on alone (a run of one, cut, out of order, state)");
#define LROSTAT_ADD(f, n) __atomic_add_fetch(&tcp_lrostat.f, (n), __ATOMIC_RELAXED)

// One flow's run. le_sg is the first segment as tcp_input_parse filled
// it; the others differ only in the per-segment arrays.
struct tcp_lro_ent {
	int le_n;                               // [o] segments held; 0: free
	uint32 le_bytes;                        // [o] their data
	tcp_seq le_next;                        // [o] SEG.SEQ the next one must have
	uint32 le_ipkey;                        // [o] the first one's tcp_lro_ipkey
	struct tcp_seg le_sg;                   // [o] the first one, parsed
	struct mbuf *le_m[TCP_LRO_MAXSEGS];     // [o] each packet (IP header first)
	tcp_seq le_seq[TCP_LRO_MAXSEGS];        // [o] its SEG.SEQ
	uint32 le_len[TCP_LRO_MAXSEGS];         // [o] its data bytes
	uint32 le_tsval[TCP_LRO_MAXSEGS];       // [o] its TSval
	uint8 le_flags[TCP_LRO_MAXSEGS];        // [o] its flags (ACK, maybe PSH)
};

struct tcp_lro {
	int lr_nheld;                           // [o] entries in use
	int lr_victim;                          // [o] entry to flush when all are in use
	struct tcp_lro_ent lr_ent[TCP_LRO_NFLOWS];
};

static struct tcp_lro tcp_lro_cpu[NETISR_MAXCPU];   // [o] of that cpu's netisr

// May sg be held at all? (The shape rules of the file header.)
static bool tcp_lro_shape(const struct tcp_seg *sg)
{
	const uint32 ts_layout = (uint32)TCPOPT_NOP << 24 | (uint32)TCPOPT_NOP << 16 |
				 (uint32)TCPOPT_TIMESTAMP << 8 | TCPOLEN_TIMESTAMP;
	struct mbuf *m = sg->sg_m;
	if ((sg->sg_flags & ~TH_PUSH) != TH_ACK || sg->sg_len == 0 || m->m_len < sg->sg_hdroff)
		return false;
	const struct ip *ip = mtod(m, const struct ip *);
	if (ip->ip_vhl != (IPVERSION << 4 | IP_HDR_LEN >> 2) ||
	    (ntoh16(ip->ip_off) & (IP_MF | IP_OFFMASK)))
		return false;
	int optlen = sg->sg_hdroff - IP_HDR_LEN - TCP_HDR_LEN;
	if (optlen == 0)
		return sg->sg_opt.to_flags == 0;
	const uint8 *o = mtod(m, const uint8 *) + IP_HDR_LEN + TCP_HDR_LEN;
	return optlen == TCPOLEN_TSTAMP_APPA && sg->sg_opt.to_flags == TOF_TS &&
	       ((uint32)o[0] << 24 | (uint32)o[1] << 16 | (uint32)o[2] << 8 | o[3]) == ts_layout;
}

// The IP header fields a run shares besides the addresses, as one word:
// TOS, TTL, flags (DF; tcp_lro_shape excludes fragments). TCP reads none
// of them on input today, but a run must not hide a change: the TOS
// byte's ECN field (RFC 3168 5: a CE mark belongs to the segment that had
// it), a new TTL or DF (another path). Linux's GRO ends a run on each.
static uint32 tcp_lro_ipkey(const struct tcp_seg *sg)
{
	const struct ip *ip = mtod(sg->sg_m, const struct ip *);
	return (uint32)ip->ip_tos << 24 | (uint32)ip->ip_ttl << 16 | ntoh16(ip->ip_off);
}

static bool tcp_lro_sameflow(const struct tcp_seg *a, const struct tcp_seg *b)
{
	return a->sg_src == b->sg_src && a->sg_dst == b->sg_dst &&
	       a->sg_sport == b->sg_sport && a->sg_dport == b->sg_dport;
}

// May sg (of e's flow, tcp_lro_shape; its IP header ipkey) join e's run?
static bool tcp_lro_fits(const struct tcp_lro_ent *e, const struct tcp_seg *sg, uint32 ipkey)
{
	const struct tcp_seg *first = &e->le_sg;
	if (sg->sg_seq != e->le_next || ipkey != e->le_ipkey || sg->sg_ack != first->sg_ack ||
	    sg->sg_win != first->sg_win || sg->sg_hdroff != first->sg_hdroff ||
	    sg->sg_opt.to_flags != first->sg_opt.to_flags ||
	    e->le_n >= TCP_LRO_MAXSEGS || e->le_bytes + sg->sg_len > TCP_LRO_MAXBYTES)
		return false;
	if (!(sg->sg_opt.to_flags & TOF_TS))
		return true;
	return sg->sg_opt.to_tsecr == first->sg_opt.to_tsecr &&
	       TSTMP_GEQ(sg->sg_opt.to_tsval, e->le_tsval[e->le_n - 1]);
}

// Add sg (its IP header ipkey) to e's run (e may be empty). Consumes
// sg->sg_m.
static void tcp_lro_append(struct tcp_lro_ent *e, const struct tcp_seg *sg, uint32 ipkey)
{
	int i = e->le_n++;
	if (i == 0) {
		e->le_sg = *sg;
		e->le_ipkey = ipkey;
	}
	e->le_m[i] = sg->sg_m;
	e->le_seq[i] = sg->sg_seq;
	e->le_len[i] = sg->sg_len;
	e->le_tsval[i] = sg->sg_opt.to_tsval;
	e->le_flags[i] = sg->sg_flags;
	e->le_bytes += sg->sg_len;
	e->le_next = sg->sg_seq + sg->sg_len;
	LROSTAT_ADD(held, 1);
}

// Held segment i of e as tcp_input_parse would have filled it.
static void tcp_lro_seg(const struct tcp_lro_ent *e, int i, struct tcp_seg *sg)
{
	*sg = e->le_sg;
	sg->sg_m = e->le_m[i];
	sg->sg_seq = e->le_seq[i];
	sg->sg_len = e->le_len[i];
	sg->sg_flags = e->le_flags[i];
	sg->sg_opt.to_tsval = e->le_tsval[i];
}

// How many of e's segments from i on tcp_input_sync may take as one
// merged segment now (the rules of the file header): 0 if segment i is
// not the next in order for tp (it and the rest go one by one).
static int tcp_lro_span(struct tcpcb *tp, const struct tcp_lro_ent *e, int i)
{
	const struct tcp_seg *first = &e->le_sg;
	bool ts = (tp->t_flags & TF_BOTH_TSTMP) == TF_BOTH_TSTMP;
	uint32 limit = tcp_ack_batch_limit(tp);
	bool inorder = tp->t_reass.tr_head == NULL && e->le_seq[i] == tp->rcv_nxt;
	if (tp->t_state != TCPS_ESTABLISHED || (tp->t_flags & TF_NOFDREF) ||
	    (!inorder && !tcp_sackdelay_run(tp, e->le_seq[i], &limit)) ||
	    ts != ((first->sg_opt.to_flags & TOF_TS) != 0) ||
	    (ts && TSTMP_LT(e->le_tsval[i], tp->ts_recent)) ||
	    SEQ_GT(first->sg_ack, tp->snd_max) ||
	    SEQ_LT(first->sg_ack, tp->snd_una - tp->t_maxsndwnd))
		return 0;
	// PAWS (RFC 7323 5.3 R1) one by one: part i passed it above; the
	// others meet TS.Recent as part i leaves it (4.3: it takes part i's
	// TSval if part i starts at Last.ACK.sent, tcp_ts_update). Not older
	// than the part before (tcp_lro_fits) does not imply this: TSvals
	// compare modulo 2^32.
	uint32 recent = SEQ_LEQ(e->le_seq[i], tp->last_ack_sent) ? e->le_tsval[i] : tp->ts_recent;
	uint32 unacked = tp->t_unacked_bytes;
	int k = 0;
	for (int j = i; j < e->le_n; j++) {
		if (k > 0 && SEQ_GT(e->le_seq[j] + e->le_len[j], tp->rcv_adv))
			break;   // beyond the advertised window: alone, trimmed
		if (k > 0 && ts && TSTMP_LT(e->le_tsval[j], recent))
			break;   // PAWS would drop it: alone
		k++;
		unacked += e->le_len[j];
		if (unacked > limit)
			break;   // one by one, the ACK would leave after this one
	}
	return k;
}

// Segments i .. i+k-1 of e as one segment for tp (k >= 1): the later
// ones' headers trimmed off, their mbufs linked behind the first's.
// Consumes them.
static void tcp_lro_merge(struct tcpcb *tp, struct tcp_lro_ent *e, int i, int k)
{
	struct tcp_seg sg;
	tcp_lro_seg(e, i, &sg);
	struct mbuf *head = sg.sg_m, *tail = head;
	for (int j = i + 1; j < i + k; j++) {
		struct mbuf *m = e->le_m[j];
		m_adj(m, sg.sg_hdroff);
		m->m_flags &= ~M_PKTHDR;   // the head's header covers the chain
		while (tail->m_next != NULL)
			tail = tail->m_next;
		tail->m_next = m;
		head->m_pkthdr.ph_len += e->le_len[j];
		sg.sg_len += e->le_len[j];
		sg.sg_flags |= e->le_flags[j] & TH_PUSH;
	}
	sg.sg_nsegs = (uint32)k;
	sg.sg_seglens = &e->le_len[i];
	if (k > 1) {
		LROSTAT_ADD(merged, 1);
		LROSTAT_ADD(mergedsegs, k);
	} else {
		LROSTAT_ADD(unmerged, 1);   // I5: cut to one
	}
	tcp_input_sync(tp, &sg);
}

// Hand e's run on (I4) and free e.
static void tcp_lro_flush(struct tcp_lro *lr, struct tcp_lro_ent *e)
{
	struct tcp_seg sg;
	int i = 0, n = e->le_n;
	LROSTAT_ADD(flushes, 1);
	if (n == 1) {
		LROSTAT_ADD(unmerged, 1);   // I5
		tcp_lro_seg(e, 0, &sg);   // alone: the path without LRO
		tcp_input_demux(&sg);
		i = 1;
	}
	while (i < n) {
		struct tcpcb *tp = tcp_input_conn(&e->le_sg);
		if (tp == NULL)
			break;
		int k = tcp_lro_span(tp, e, i);
		if (k == 0) {
			// Alone, as without LRO; the rest may still merge (behind
			// a hole: the first three get their ACKs one by one, then
			// the run extends the highest SACK block, tcp_sackdelay_run).
			LROSTAT_ADD(unmerged, 1);
			tcp_lro_seg(e, i++, &sg);
			tcp_input_demux(&sg);
			continue;
		}
		tcp_lro_merge(tp, e, i, k);
		i += k;
	}
	if (i < n)
		LROSTAT_ADD(unmerged, n - i);
	for (; i < n; i++) {
		tcp_lro_seg(e, i, &sg);
		tcp_input_demux(&sg);
	}
	e->le_n = 0;
	e->le_bytes = 0;
	lr->lr_nheld--;
}

static void tcp_lro_flush_all(struct tcp_lro *lr)
{
	for (int i = 0; i < TCP_LRO_NFLOWS && lr->lr_nheld > 0; i++)
		if (lr->lr_ent[i].le_n > 0)
			tcp_lro_flush(lr, &lr->lr_ent[i]);
}

// The held run of sg's flow, or NULL.
static struct tcp_lro_ent *tcp_lro_find(struct tcp_lro *lr, const struct tcp_seg *sg)
{
	if (lr->lr_nheld == 0)
		return NULL;
	for (int i = 0; i < TCP_LRO_NFLOWS; i++) {
		struct tcp_lro_ent *e = &lr->lr_ent[i];
		if (e->le_n > 0 && tcp_lro_sameflow(&e->le_sg, sg))
			return e;
	}
	return NULL;
}

// A free entry; when all are in use, one is flushed (round robin).
static struct tcp_lro_ent *tcp_lro_alloc(struct tcp_lro *lr)
{
	for (int i = 0; i < TCP_LRO_NFLOWS; i++)
		if (lr->lr_ent[i].le_n == 0) {
			lr->lr_nheld++;
			return &lr->lr_ent[i];
		}
	struct tcp_lro_ent *e = &lr->lr_ent[lr->lr_victim];
	lr->lr_victim = (lr->lr_victim + 1) % TCP_LRO_NFLOWS;
	tcp_lro_flush(lr, e);
	lr->lr_nheld++;
	return e;
}

bool tcp_lro_input(struct tcp_seg *sg)
{
	struct tcp_lro *lr = &tcp_lro_cpu[net_cpuid()];
	if (!__atomic_load_n(&tcp_lro_on, __ATOMIC_RELAXED)) {
		tcp_lro_flush_all(lr);   // race "switched off with runs held"
		return false;
	}
	bool shape = tcp_lro_shape(sg);
	uint32 ipkey = shape ? tcp_lro_ipkey(sg) : 0;
	struct tcp_lro_ent *e = tcp_lro_find(lr, sg);
	if (e != NULL) {
		if (shape && tcp_lro_fits(e, sg, ipkey)) {
			tcp_lro_append(e, sg, ipkey);
			return true;
		}
		tcp_lro_flush(lr, e);   // I3: the run first
	}
	if (!shape)
		return false;
	tcp_lro_append(tcp_lro_alloc(lr), sg, ipkey);
	return true;
}

void tcp_lro_rollup(int cpu)
{
	tcp_lro_flush_all(&tcp_lro_cpu[cpu]);
}
