// poll(2) support for the other kernel modules: what changed, and who is
// ready. The waiting design is at the top of kernel/sys_poll.c.
#pragma once
#include "kernel/types.h"

// Something a poller may wait for has changed (pipe, console, socket).
// Call after the change. Any context and any lock held except a p->lock
// or a leaf (kernel/lock.h): it takes poll_lock, then p->locks.
void poll_notify(void);
