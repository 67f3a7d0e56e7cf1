// Sleeplocks: long-term locks (disk buffers, inodes) whose holder may
// sleep. A thread that finds the lock taken sleeps until it is released.
#include "kernel/types.h"
#include "kernel/lock.h"
#include "kernel/proc.h"

void initsleeplock(struct sleeplock *lk, const char *name)
{
	initlock(&lk->lk, "sleep lock");
	lk->name = name;
	lk->locked = 0;
	lk->pid = 0;
	lk->cls = 0;
}

// May sleep: process or kernel-thread context only.
void acquiresleep(struct sleeplock *lk)
{
	if (__builtin_expect(lockcheck_on, 0))
		lockcheck_acquiresleep(lk);
	acquire(&lk->lk);
	while (lk->locked)
		sleep(lk, &lk->lk);
	lk->locked = 1;
	lk->pid = myproc()->pid;
	release(&lk->lk);
}

void releasesleep(struct sleeplock *lk)
{
	if (__builtin_expect(lockcheck_on, 0))
		lockcheck_releasesleep(lk);
	acquire(&lk->lk);
	lk->locked = 0;
	lk->pid = 0;
	wakeup(lk);
	release(&lk->lk);
}

bool holdingsleep(struct sleeplock *lk)
{
	acquire(&lk->lk);
	bool r = lk->locked && lk->pid == myproc()->pid;
	release(&lk->lk);
	return r;
}
