// poll(2) support for the other kernel modules: what changed, and who is
// ready. The waiting design is at the top of kernel/sys_poll.c.
#pragma once
#include "kernel/types.h"

struct proc;

// Something a poller may wait for has changed (pipe, console, socket).
// Call after the change. Any context and any lock held except a p->lock
// or a leaf (kernel/lock.h): it takes poll_lock, then p->locks.
void poll_notify(void);
// The same, when only process p can be waiting for this change (the one
// poller a socket buffer recorded, net/sockbuf.c sbpollnotify): the
// generation moves for everyone, but only p is woken.
void poll_notify_proc(struct proc *p);
