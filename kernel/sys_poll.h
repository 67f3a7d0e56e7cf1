// poll(2) support for the other kernel modules: what changed, and who is
// ready. The waiting design is at the top of kernel/sys_poll.c.
#pragma once
#include "kernel/types.h"

// Something a poller may wait for has changed (pipe, console, socket).
// Call after the change. Any context; takes only poll's leaf lock.
void poll_notify(void);
