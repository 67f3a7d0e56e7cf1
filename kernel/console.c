// The console: a line discipline between the UART and processes that
// read and write the console device (major CONSOLE in devsw[]).
//
// Input is edited a line at a time, as on a Unix tty in canonical mode:
// backspace/DEL erases a character, ^U the line, ^D ends input (a read at
// the start of a line returns 0), ^P prints the process table. A reader
// sleeps until a whole line (or ^D) is there. '\r' is taken as '\n', so a
// terminal in raw mode and a pipe both work.
//
// Locking: cons.lock protects the input buffer and its indices [s]; it is
// taken in the UART interrupt and by readers. cons.wlock, a sleeplock, is
// held for the whole of one write(), so output from two processes does not
// interleave inside a single write (kernel printf does not take it: a
// panic must always get through).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/console.h"
#include "kernel/devsw.h"
#include "kernel/vm.h"
#include "kernel/poll.h"
#include "kernel/sys_poll.h"

#define BACKSPACE 0x100
#define C(x) ((x) - '@')  // control-x

struct devsw devsw[NDEV];

static struct {
	struct spinlock lock;
	struct sleeplock wlock;  // one writer at a time
	char buf[256];
	uint r;  // [s] read index
	uint w;  // [s] end of committed lines (readers may take up to here)
	uint e;  // [s] edit index
} cons;

// Kernel output of one character (printf, echo).
void consputc(int c)
{
	if (c == BACKSPACE) {
		uartputc_sync('\b');
		uartputc_sync(' ');
		uartputc_sync('\b');
	} else {
		uartputc_sync(c);
	}
}

// write() on the console: n bytes from src. Returns n or -EFAULT.
static int consolewrite(bool user_src, uint64 src, int n)
{
	char buf[64];
	int i = 0;
	acquiresleep(&cons.wlock);
	while (i < n) {
		int m = MIN(n - i, (int)sizeof(buf));
		if (either_copyin(buf, user_src, src + i, m) != 0)
			break;
		for (int j = 0; j < m; j++)
			uartputc_sync(buf[j]);
		i += m;
	}
	releasesleep(&cons.wlock);
	return i > 0 || n == 0 ? i : -EFAULT;
}

// read() on the console: up to n bytes, at most one line. Sleeps until a
// line is complete. Returns the count (0 at ^D), -EINTR if killed, or
// -EFAULT.
static int consoleread(bool user_dst, uint64 dst, int n)
{
	int got = 0;
	acquire(&cons.lock);
	while (got < n) {
		while (cons.r == cons.w) {
			if (killed(myproc())) {
				release(&cons.lock);
				return -EINTR;
			}
			sleep(&cons.r, &cons.lock);
		}
		char c = cons.buf[cons.r++ % sizeof(cons.buf)];
		if (c == C('D')) {
			if (got > 0)
				cons.r--;  // leave ^D for the next read, which returns 0
			break;
		}
		if (either_copyout(user_dst, dst + got, &c, 1) != 0) {
			cons.r--;
			release(&cons.lock);
			return got > 0 ? got : -EFAULT;
		}
		got++;
		if (c == '\n')
			break;
	}
	release(&cons.lock);
	return got;
}

// One input byte from the UART interrupt.
void consoleintr(int c)
{
	acquire(&cons.lock);
	switch (c) {
	case C('P'):
		procdump();
		break;
	case C('U'):
		while (cons.e != cons.w && cons.buf[(cons.e - 1) % sizeof(cons.buf)] != '\n') {
			cons.e--;
			consputc(BACKSPACE);
		}
		break;
	case C('H'):
	case '\x7f':
		if (cons.e != cons.w) {
			cons.e--;
			consputc(BACKSPACE);
		}
		break;
	default:
		if (c == 0 || cons.e - cons.r >= sizeof(cons.buf))
			break;  // buffer full: drop
		if (c == '\r')
			c = '\n';
		if (c != C('D'))
			consputc(c);  // echo
		cons.buf[cons.e++ % sizeof(cons.buf)] = c;
		if (c == '\n' || c == C('D') || cons.e - cons.r == sizeof(cons.buf)) {
			cons.w = cons.e;
			wakeup(&cons.r);
			poll_notify();
		}
	}
	release(&cons.lock);
}

int console_poll(int events)
{
	int rev = events & POLLOUT;
	acquire(&cons.lock);
	if ((events & POLLIN) && cons.r != cons.w)
		rev |= POLLIN;
	release(&cons.lock);
	return rev;
}

void consoleinit(void)
{
	initlock(&cons.lock, "cons");
	initsleeplock(&cons.wlock, "conswrite");
	uartinit();
	devsw[CONSOLE].read = consoleread;
	devsw[CONSOLE].write = consolewrite;
}
