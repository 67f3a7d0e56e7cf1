// Host tests of net/lwkt_msg.c: ping-pong between threads, FIFO order,
// priority to the head, domsg to the own port inline, dropmsg, reply
// flags, and the assertions on bad transitions.
#include "tests/host/test.h"
#include "net/lwkt_msg.h"

struct tmsg {
	struct lwkt_msg msg;   // first: container_of not needed
	int seq;
	int value;
	void *ran_in;          // thread that ran the handler
};

static void reply_handler(struct lwkt_msg *msg)
{
	struct tmsg *t = (struct tmsg *)msg;
	t->value++;
	t->ran_in = net_curthread();
	lwkt_replymsg(msg, t->seq == 7 ? -EINVAL : 0);
}

// A server thread: owns its port, runs handlers until a message with
// seq < 0 arrives.
struct server {
	struct lwkt_port port;
	volatile int ready;
};

static void server_thread(void *arg)
{
	struct server *s = arg;
	lwkt_port_setowner(&s->port);
	__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		struct lwkt_msg *msg = lwkt_waitport(&s->port);
		int stop = ((struct tmsg *)msg)->seq < 0;
		msg->ms_handler(msg);
		if (stop)
			return;
	}
}

static void server_start(struct server *s)
{
	lwkt_initport(&s->port, "server");
	s->ready = 0;
	CHECK(net_kthread_create("server", server_thread, s, 1) > 0);
	while (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		msleep(1);
}

static void server_stop(struct server *s)
{
	struct tmsg t = { .seq = -1 };
	lwkt_initmsg(&t.msg, NULL, reply_handler, 0);
	CHECK(lwkt_domsg(&s->port, &t.msg) == 0);
}

static void lwkt_ping_pong_between_two_threads(void)
{
	struct server s;
	struct lwkt_port mine;
	server_start(&s);
	lwkt_initport(&mine, "client");
	lwkt_port_setowner(&mine);
	struct tmsg t = { .seq = 0 };
	lwkt_initmsg(&t.msg, &mine, reply_handler, 0);
	for (int i = 0; i < 2000; i++) {
		lwkt_sendmsg(&s.port, &t.msg);
		struct lwkt_msg *r = lwkt_waitport(&mine);   // the reply
		CHECK(r == &t.msg);
		CHECK((r->ms_flags & (MSGF_DONE | MSGF_REPLIED | MSGF_QUEUED)) ==
		      (MSGF_DONE | MSGF_REPLIED));
		CHECK(t.value == i + 1);
	}
	CHECK(t.ran_in != net_curthread());
	server_stop(&s);
}

static void lwkt_fifo_order(void)
{
	struct lwkt_port p;
	struct tmsg t[10];
	lwkt_initport(&p, "fifo");
	for (int i = 0; i < 10; i++) {
		t[i].seq = i;
		lwkt_initmsg(&t[i].msg, NULL, reply_handler, 0);
		lwkt_sendmsg(&p, &t[i].msg);
		CHECK(t[i].msg.ms_flags & MSGF_QUEUED);
		CHECK(!lwkt_msg_done(&t[i].msg));
	}
	for (int i = 0; i < 10; i++) {
		struct lwkt_msg *m = lwkt_getport(&p);
		CHECK(m == &t[i].msg);
		CHECK((m->ms_flags & (MSGF_QUEUED | MSGF_DONE)) == 0);
	}
	CHECK(lwkt_getport(&p) == NULL);
}

// A burst of sends to a port whose owner sleeps costs one wakeup: the
// first sender clears mp_waiting, the others see the owner woken already.
static void lwkt_burst_to_sleeping_owner_wakes_once(void)
{
	struct lwkt_port p;
	struct tmsg t[50];
	lwkt_initport(&p, "burst");
	lwkt_port_setowner(&p);
	p.mp_waiting = true;   // as lwkt_waitport leaves it when it sleeps
	uint64 before = __atomic_load_n(&host_wakeups, __ATOMIC_RELAXED);
	for (int i = 0; i < 50; i++) {
		lwkt_initmsg(&t[i].msg, NULL, reply_handler, 0);
		lwkt_sendmsg(&p, &t[i].msg);
	}
	CHECK(__atomic_load_n(&host_wakeups, __ATOMIC_RELAXED) - before == 1);
	for (int i = 0; i < 50; i++)
		CHECK(lwkt_getport(&p) == &t[i].msg);
	CHECK(lwkt_getport(&p) == NULL);
}

// A lazy send wakes a sleeping owner without letting it preempt the
// sender (kernel: wakeup_lazy); the first plain message that comes before
// the owner runs hurries it (once); once the owner has dequeued, nobody
// hurries it. The host shim counts the wakeups and the hurries.
static void lwkt_lazy_send_is_hurried_by_a_plain_one(void)
{
	struct lwkt_port p;
	struct tmsg lazy, a, b, c;
	lwkt_initport(&p, "lazy");
	lwkt_port_setowner(&p);
	lwkt_initmsg(&lazy.msg, NULL, reply_handler, 0);
	lwkt_initmsg(&a.msg, NULL, reply_handler, 0);
	lwkt_initmsg(&b.msg, NULL, reply_handler, 0);
	lwkt_initmsg(&c.msg, NULL, reply_handler, 0);
	p.mp_waiting = true;   // as lwkt_waitport leaves it when it sleeps
	uint64 w0 = __atomic_load_n(&host_wakeups, __ATOMIC_RELAXED);
	uint64 h0 = __atomic_load_n(&host_hurries, __ATOMIC_RELAXED);
	lwkt_sendmsg_lazy(&p, &lazy.msg);
	CHECK(__atomic_load_n(&host_wakeups, __ATOMIC_RELAXED) - w0 == 1);
	CHECK(p.mp_lazy);
	lwkt_sendmsg(&p, &a.msg);    // the owner has not run: hurry it
	CHECK(__atomic_load_n(&host_hurries, __ATOMIC_RELAXED) - h0 == 1);
	CHECK(!p.mp_lazy);
	lwkt_sendmsg(&p, &b.msg);    // hurried already: nothing more
	CHECK(__atomic_load_n(&host_hurries, __ATOMIC_RELAXED) - h0 == 1);
	CHECK(lwkt_getport(&p) == &lazy.msg);
	CHECK(lwkt_getport(&p) == &a.msg);
	CHECK(lwkt_getport(&p) == &b.msg);
	// Lazily woken again, but the owner dequeues before the next plain
	// message: it runs, so that message need not hurry it.
	p.mp_waiting = true;
	lwkt_initmsg(&lazy.msg, NULL, reply_handler, 0);
	lwkt_sendmsg_lazy(&p, &lazy.msg);
	CHECK(lwkt_getport(&p) == &lazy.msg);
	CHECK(!p.mp_lazy);
	lwkt_sendmsg(&p, &c.msg);
	CHECK(__atomic_load_n(&host_hurries, __ATOMIC_RELAXED) - h0 == 1);
	CHECK(lwkt_getport(&p) == &c.msg);
	CHECK(lwkt_getport(&p) == NULL);
	CHECK(__atomic_load_n(&host_wakeups, __ATOMIC_RELAXED) - w0 == 2);
}

static void lwkt_priority_goes_to_head(void)
{
	struct lwkt_port p;
	struct tmsg a, b, pr1, pr2;
	lwkt_initport(&p, "prio");
	lwkt_initmsg(&a.msg, NULL, reply_handler, 0);
	lwkt_initmsg(&b.msg, NULL, reply_handler, 0);
	lwkt_initmsg(&pr1.msg, NULL, reply_handler, MSGF_PRIORITY);
	lwkt_initmsg(&pr2.msg, NULL, reply_handler, MSGF_PRIORITY);
	lwkt_sendmsg(&p, &a.msg);
	lwkt_sendmsg(&p, &b.msg);
	lwkt_sendmsg(&p, &pr1.msg);
	lwkt_sendmsg(&p, &pr2.msg);
	CHECK(lwkt_getport(&p) == &pr2.msg);
	CHECK(lwkt_getport(&p) == &pr1.msg);
	CHECK(lwkt_getport(&p) == &a.msg);
	CHECK(lwkt_getport(&p) == &b.msg);
	CHECK(lwkt_getport(&p) == NULL);
}

static void lwkt_domsg_to_own_port_runs_inline(void)
{
	struct lwkt_port p;
	lwkt_initport(&p, "own");
	lwkt_port_setowner(&p);
	struct tmsg t = { .seq = 7 };
	lwkt_initmsg(&t.msg, NULL, reply_handler, 0);
	CHECK(lwkt_domsg(&p, &t.msg) == -EINVAL);   // would hang if queued
	CHECK(t.ran_in == net_curthread() && t.value == 1);
	CHECK(lwkt_msg_done(&t.msg));
	CHECK((t.msg.ms_flags & (MSGF_SYNC | MSGF_QUEUED)) == 0);
	CHECK(lwkt_getport(&p) == NULL);
}

static void lwkt_domsg_waits_for_other_thread(void)
{
	struct server s;
	server_start(&s);
	for (int i = 0; i < 500; i++) {
		struct tmsg t = { .seq = i % 10 };
		lwkt_initmsg(&t.msg, NULL, reply_handler, 0);
		int err = lwkt_domsg(&s.port, &t.msg);
		CHECK(err == (i % 10 == 7 ? -EINVAL : 0));
		CHECK(t.value == 1 && t.ran_in != net_curthread());
		CHECK(lwkt_msg_done(&t.msg));
	}
	server_stop(&s);
}

static void lwkt_dropmsg_removes_only_queued(void)
{
	struct lwkt_port p;
	struct tmsg a, b, c;
	lwkt_initport(&p, "drop");
	lwkt_initmsg(&a.msg, NULL, reply_handler, 0);
	lwkt_initmsg(&b.msg, NULL, reply_handler, 0);
	lwkt_initmsg(&c.msg, NULL, reply_handler, 0);
	lwkt_sendmsg(&p, &a.msg);
	lwkt_sendmsg(&p, &b.msg);
	lwkt_sendmsg(&p, &c.msg);
	CHECK(lwkt_dropmsg(&p, &c.msg));          // the tail
	CHECK(lwkt_msg_done(&c.msg) && !(c.msg.ms_flags & MSGF_QUEUED));
	CHECK(!lwkt_dropmsg(&p, &c.msg));         // not queued any more
	CHECK(lwkt_getport(&p) == &a.msg);
	CHECK(!lwkt_dropmsg(&p, &a.msg));         // the owner took it
	lwkt_sendmsg(&p, &c.msg);                 // dropped msg is reusable
	CHECK(lwkt_dropmsg(&p, &b.msg));          // the head
	CHECK(lwkt_getport(&p) == &c.msg);
	CHECK(lwkt_getport(&p) == NULL);
}

static void lwkt_reply_flags_follow_ownership(void)
{
	struct lwkt_port target, replyp;
	struct tmsg t;
	lwkt_initport(&target, "target");
	lwkt_initport(&replyp, "reply");
	// No reply port: DONE|REPLIED after the reply, nothing queued.
	lwkt_initmsg(&t.msg, NULL, reply_handler, 0);
	CHECK(t.msg.ms_flags == MSGF_DONE);
	lwkt_sendmsg(&target, &t.msg);
	CHECK(t.msg.ms_flags == MSGF_QUEUED && t.msg.ms_target == &target);
	struct lwkt_msg *m = lwkt_getport(&target);
	CHECK(m->ms_flags == 0);
	lwkt_replymsg(m, 5);
	CHECK(t.msg.ms_flags == (MSGF_DONE | MSGF_REPLIED) && t.msg.ms_error == 5);
	// With a reply port: the reply is queued there, DONE|REPLIED|QUEUED.
	lwkt_initmsg(&t.msg, &replyp, reply_handler, 0);
	lwkt_sendmsg(&target, &t.msg);
	m = lwkt_getport(&target);
	lwkt_replymsg(m, 0);
	CHECK(t.msg.ms_flags == (MSGF_DONE | MSGF_REPLIED | MSGF_QUEUED));
	CHECK(lwkt_getport(&target) == NULL);
	CHECK(lwkt_getport(&replyp) == &t.msg);
	CHECK(t.msg.ms_flags == (MSGF_DONE | MSGF_REPLIED));
	// Resending clears REPLIED.
	lwkt_sendmsg(&target, &t.msg);
	CHECK((t.msg.ms_flags & MSGF_REPLIED) == 0);
}

static struct lwkt_port bad_port;
static struct tmsg bad_msg;

static void do_double_send(void)
{
	lwkt_initport(&bad_port, "bad");
	lwkt_initmsg(&bad_msg.msg, NULL, reply_handler, 0);
	lwkt_sendmsg(&bad_port, &bad_msg.msg);
	lwkt_sendmsg(&bad_port, &bad_msg.msg);   // still queued: panic
}

static void do_double_reply(void)
{
	lwkt_initport(&bad_port, "bad");
	lwkt_initmsg(&bad_msg.msg, NULL, reply_handler, 0);
	lwkt_sendmsg(&bad_port, &bad_msg.msg);
	struct lwkt_msg *m = lwkt_getport(&bad_port);
	lwkt_replymsg(m, 0);
	lwkt_replymsg(m, 0);                      // replied twice: panic
}

static void do_reply_while_queued(void)
{
	lwkt_initport(&bad_port, "bad");
	lwkt_initmsg(&bad_msg.msg, NULL, reply_handler, 0);
	lwkt_sendmsg(&bad_port, &bad_msg.msg);
	lwkt_replymsg(&bad_msg.msg, 0);           // not received yet: panic
}

static void lwkt_bad_transitions_panic(void)
{
	CHECK(expect_panic(do_double_send));
	CHECK(expect_panic(do_double_reply));
	CHECK(expect_panic(do_reply_while_queued));
}

// Several senders, one receiver thread: every message arrives exactly
// once and each sender's messages arrive in its order.
struct flood_arg {
	struct lwkt_port *port;
	int id;
};

#define FLOOD_N 2000
static int flood_last[4];
static int flood_count;

static void flood_handler(struct lwkt_msg *msg)
{
	struct tmsg *t = (struct tmsg *)msg;
	int id = t->value;
	if (t->seq != flood_last[id] + 1)
		flood_last[id] = -1000000;   // out of order: fails the check
	else
		flood_last[id] = t->seq;
	flood_count++;
	free(t);
}

static void *flood_sender(void *p)
{
	struct flood_arg *a = p;
	for (int i = 1; i <= FLOOD_N; i++) {
		struct tmsg *t = malloc(sizeof(*t));
		t->seq = i;
		t->value = a->id;
		lwkt_initmsg(&t->msg, NULL, flood_handler, 0);
		lwkt_sendmsg(a->port, &t->msg);
	}
	return NULL;
}

static void flood_receiver(void *arg)
{
	struct server *s = arg;
	lwkt_port_setowner(&s->port);
	__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&flood_count, __ATOMIC_RELAXED) < 4 * FLOOD_N) {
		struct lwkt_msg *msg = lwkt_waitport(&s->port);
		msg->ms_handler(msg);
	}
	__atomic_store_n(&s->ready, 2, __ATOMIC_RELEASE);
}

static void lwkt_many_senders_fifo_per_sender(void)
{
	struct server s;
	lwkt_initport(&s.port, "flood");
	s.ready = 0;
	CHECK(net_kthread_create("flood", flood_receiver, &s, 0) > 0);
	pthread_t th[4];
	struct flood_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct flood_arg){ &s.port, i };
		pthread_create(&th[i], NULL, flood_sender, &args[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	while (__atomic_load_n(&s.ready, __ATOMIC_ACQUIRE) != 2)
		msleep(1);
	for (int i = 0; i < 4; i++)
		CHECK(flood_last[i] == FLOOD_N);
	CHECK(s.port.mp_nqueued == 4 * FLOOD_N);
}

const struct host_test lwkt_tests[] = {
	{ lwkt_burst_to_sleeping_owner_wakes_once, "lwkt_burst_to_sleeping_owner_wakes_once" },
	{ lwkt_ping_pong_between_two_threads, "lwkt_ping_pong_between_two_threads" },
	{ lwkt_fifo_order, "lwkt_fifo_order" },
	{ lwkt_priority_goes_to_head, "lwkt_priority_goes_to_head" },
	{ lwkt_lazy_send_is_hurried_by_a_plain_one, "lwkt_lazy_send_is_hurried_by_a_plain_one" },
	{ lwkt_domsg_to_own_port_runs_inline, "lwkt_domsg_to_own_port_runs_inline" },
	{ lwkt_domsg_waits_for_other_thread, "lwkt_domsg_waits_for_other_thread" },
	{ lwkt_dropmsg_removes_only_queued, "lwkt_dropmsg_removes_only_queued" },
	{ lwkt_reply_flags_follow_ownership, "lwkt_reply_flags_follow_ownership" },
	{ lwkt_bad_transitions_panic, "lwkt_bad_transitions_panic" },
	{ lwkt_many_senders_fifo_per_sender, "lwkt_many_senders_fifo_per_sender" },
	{ NULL, NULL },
};
