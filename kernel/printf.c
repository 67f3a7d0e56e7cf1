// Kernel printf, snprintf, panic and the frame-pointer backtrace.
//
// printf writes synchronously to the UART under pr.lock so lines from
// different harts do not interleave. panic() prints, walks the frame
// pointers of the current kernel stack, and freezes every hart (the
// others notice `panicked` in their timer interrupt or their next printf).
// After the backtrace it lists the locks this hart and thread hold
// (kernel/lockcheck.c).
#include <stdarg.h>
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/console.h"
#include "kernel/memlayout.h"

volatile int panicked = 0;
extern char etext[];  // kernel.ld

static struct {
	struct spinlock lock;
	bool locking;   // false once panicking: print even if a hart holds the lock
} pr;

static const char digits[] = "0123456789abcdef";

// An output sink: the console, or a bounded buffer for snprintf.
struct sink {
	char *buf;      // NULL: console
	size_t size;
	size_t len;     // characters produced (may exceed size)
};

static void sink_put(struct sink *s, char c)
{
	if (s->buf == NULL)
		consputc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void print_num(struct sink *s, uint64 x, int base, bool sign, int width, char pad)
{
	char tmp[24];
	int i = 0;
	bool neg = sign && (int64)x < 0;
	if (neg)
		x = -(int64)x;
	do {
		tmp[i++] = digits[x % base];
	} while ((x /= base) != 0);
	if (neg && pad == '0') {
		sink_put(s, '-');
		width--;
	} else if (neg) {
		tmp[i++] = '-';
	}
	for (int w = i; w < width; w++)
		sink_put(s, pad);
	while (--i >= 0)
		sink_put(s, tmp[i]);
}

// The formats the kernel uses: %d %u %x %p %s %c %%, with l/ll, a width
// and the '0' flag.
static void vformat(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			lng++, fmt++;
		switch (*fmt) {
		case 'd':
			print_num(s, lng ? va_arg(ap, int64) : va_arg(ap, int), 10, true, width, pad);
			break;
		case 'u':
			print_num(s, lng ? va_arg(ap, uint64) : va_arg(ap, uint), 10, false, width, pad);
			break;
		case 'x':
			print_num(s, lng ? va_arg(ap, uint64) : va_arg(ap, uint), 16, false, width, pad);
			break;
		case 'p':
			sink_put(s, '0');
			sink_put(s, 'x');
			print_num(s, va_arg(ap, uint64), 16, false, 16, '0');
			break;
		case 'c':
			sink_put(s, va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (str == NULL)
				str = "(null)";
			int n = 0;
			for (; *str; str++, n++)
				sink_put(s, *str);
			for (; n < width; n++)
				sink_put(s, ' ');
			break;
		}
		case '%':
			sink_put(s, '%');
			break;
		case 0:
			return;
		default:
			sink_put(s, '%');
			sink_put(s, *fmt);
		}
	}
}

void printf(const char *fmt, ...)
{
	struct sink s = { 0 };
	va_list ap;
	bool locking = pr.locking;
	if (locking)
		acquire(&pr.lock);
	va_start(ap, fmt);
	vformat(&s, fmt, ap);
	va_end(ap);
	if (locking)
		release(&pr.lock);
}

int snprintf(char *buf, size_t n, const char *fmt, ...)
{
	struct sink s = { .buf = buf, .size = n };
	va_list ap;
	va_start(ap, fmt);
	vformat(&s, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf[s.len < n ? s.len : n - 1] = 0;
	return s.len;
}

// Walk the frame-pointer chain of the current kernel stack. With
// -fno-omit-frame-pointer each frame keeps the return address at fp-8
// and the caller's fp at fp-16. Fills pc[0..n-1] with call sites
// (innermost first), skipping the first `skip` frames (0: the caller of
// stack_pcs); returns how many.
//
// The walk never leaves the stack it started on (a process slot's kernel
// stack or a hart's boot stack): each caller's frame must lie above the
// current one and at or below the stack's top. The outermost frame of a
// system call saved the user's s0, which a user can set to anything, so
// without this bound a lock acquisition could be made to read a guard
// page.
extern char stack0[];   // start.c: the harts' boot stacks

// The top of the kernel stack that holds fp (frame pointers on it are at
// most this), or 0 if fp is on none.
uint64 stack_top(uint64 fp)
{
	uint64 boot = (uint64)stack0;
	if (fp > boot && fp <= boot + BOOTSTACK * NCPU)
		return boot + ((fp - boot - 1) / BOOTSTACK + 1) * BOOTSTACK;
	if (fp > KSTACK(NPROC - 1) && fp < TRAMPOLINE) {
		uint64 i = (TRAMPOLINE - fp) / (KSTACK_SIZE + PGSIZE);
		return KSTACK(i) + KSTACK_SIZE;
	}
	return 0;
}

static __attribute__((noinline)) int walk_frames(uint64 fp, uint64 *pc, int n, int skip)
{
	uint64 top = stack_top(fp);
	int k = 0;
	for (int depth = 0; k < n && top != 0; depth++) {
		uint64 ra = ((uint64 *)fp)[-1];
		uint64 prev = ((uint64 *)fp)[-2];
		if (ra < KERNBASE || ra >= (uint64)etext)
			break;
		if (depth >= skip)
			pc[k++] = ra - 4;  // the call instruction, not the return point
		if (prev <= fp || prev > top || (prev & 7) != 0)
			break;
		fp = prev;
	}
	return k;
}

// Not a leaf (it calls walk_frames), so its own frame has ra at fp-8; a
// leaf function's frame does not.
int stack_pcs(uint64 *pc, int n, int skip)
{
	int k = walk_frames(r_fp(), pc, n, skip);
	asm volatile("" ::: "memory");  // no tail call: keep this frame
	return k;
}

// Print the current kernel stack's call sites. Turn addresses into lines
// with: riscv64-unknown-elf-addr2line -e kernel/kernel ADDR...
void backtrace(void)
{
	uint64 pc[32];
	int n = stack_pcs(pc, 32, 1);
	printf("backtrace:\n");
	for (int i = 0; i < n; i++)
		printf("  %p\n", (void *)pc[i]);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	struct sink s = { 0 };
	pr.locking = false;
	printf("panic: ");
	va_start(ap, fmt);
	vformat(&s, fmt, ap);
	va_end(ap);
	printf("\n");
	printf("hart %d, pid %d\n", (int)r_tp(), cpus[r_tp()].proc ? cpus[r_tp()].proc->pid : 0);
	backtrace();
	lockcheck_panic_report();  // the locks held, and where they were taken
	panicked = 1;  // freeze the other harts' consoles and timers
	for (;;)
		asm volatile("wfi");
}

void printfinit(void)
{
	initlock(&pr.lock, "pr");
	pr.locking = true;
}
