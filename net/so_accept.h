// Connection-oriented sockets (net/so_accept.c): soconnect's wait and
// SO_LINGER's (declared in net/socket.h and below), and listening
// sockets and the accept queue: listen(2)'s backlog, the
// children a protocol creates for arriving connections (sonewconn), and
// accept(2). Design: the header of net/so_accept.c.
//
// Lock legend (kernel/lock.h): [q] so_qlock of the listening socket.
// Lock order (kernel/lock.h): tcbinfo.ipi_lock is never held with
// so_qlock, and no sockbuf lock is taken under it; accept sleeps and
// sonewconn/soabort wake under it, so so_qlock -> poll_lock -> p->lock.
#pragma once
#include "net/socket.h"

// The protocol's PRU_LISTEN, in the listener's netisr: set the backlog
// (clamped to [1, SOMAXCONN]) and mark the socket SS_ACCEPTCONN.
void solisten_proto(struct socket *so, int backlog);
// A new child socket for a connection arriving at listener head, owned by
// netisr cpu, on head's incomplete queue with one reference (the
// queue's, later the accepting file's). NULL if head no longer listens,
// its queue is full (counted by the caller) or memory ran out. The netisr
// of the new connection; does not sleep.
struct socket *sonewconn(struct socket *head, int cpu);
// The child so is established: move it to head's completed queue and
// wake accept/poll. No-op for a socket that is not a queued child.
void soqcomplete(struct socket *so);
// The child so dies before it was accepted and while it is still
// incomplete: take it off its listener's queue and drop the queue's
// reference. Completed children stay queued (accept returns them and
// the first read reports the error, as Linux does). No-op otherwise.
void soqremove(struct socket *so);
// The listener head closes (its PRU_DETACH, its netisr): stop
// accepting, and abort every queued child by an asynchronous PRU_ABORT
// to the child's netisr, which drops the queue's reference.
void solisten_close(struct socket *head);
// accept(2): the oldest completed child, with its reference passing to
// the caller. -EINVAL (not listening), -EAGAIN (nonblock, none),
// -EINTR, -ECONNABORTED (the listener closed). Thread; may sleep.
int soaccept(struct socket *head, bool nonblock, struct socket **sop);
// Is head's completed queue at its backlog (a SYN now would only wait)?
bool soqfull(struct socket *head);
// poll: is a completed child waiting?
bool soqready(struct socket *head);
// close(2) of a connected stream with SO_LINGER > 0: send the FIN and wait
// until everything sent is acknowledged (SS_SNDDONE), the connection
// ends, or the linger time runs out (then the close goes on in the
// background). Thread; sleeps.
void solinger_wait(struct socket *so);
