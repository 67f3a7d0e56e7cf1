// exec: replace the calling process's memory with a program from the file
// system.
//
// The new image is built in a fresh page table and only committed when
// everything has succeeded, so a failing exec returns an error to a
// process that is still intact. Layout (memlayout.h): ELF segments from
// USERBASE up, an unmapped guard page, USTACKPAGES of stack, then the heap
// that sbrk grows. The stack starts with the argument strings, then the
// argv[] array; main receives argc in a0 and argv in a1.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/kalloc.h"
#include "kernel/vm.h"
#include "kernel/fs.h"
#include "kernel/stat.h"
#include "kernel/elf.h"
#include "kernel/sysarg.h"

static int flags2perm(uint32 flags)
{
	int perm = 0;
	if (flags & ELF_PROG_FLAG_EXEC)
		perm |= PTE_X;
	if (flags & ELF_PROG_FLAG_WRITE)
		perm |= PTE_W;
	return perm;
}

// Copy sz bytes at file offset off into user va (page-aligned, already
// mapped) of page table pt. 0, -EIO or -ENOEXEC. Caller holds ip's lock.
static int loadseg(pagetable_t pt, uint64 va, struct inode *ip, uint off, uint sz)
{
	for (uint i = 0; i < sz; i += PGSIZE) {
		uint64 pa = walkaddr(pt, va + i);
		KASSERT(pa != 0);
		uint n = MIN(sz - i, PGSIZE);
		int r = readi(ip, false, pa, off + i, n);
		if (r < 0)
			return r;
		if ((uint)r != n)
			return -ENOEXEC;  // file shorter than its headers say
	}
	return 0;
}

// Load every PT_LOAD segment of ip into pt; *szp becomes the top. On an
// error *szp is the top of what was mapped before it, for the caller to
// free (a file cut short after its headers fails in loadseg with a
// segment already mapped: freeing the page table as if nothing were
// mapped panicked in freewalk).
static int load_program(pagetable_t pt, struct inode *ip, struct elfhdr *eh, uint64 *szp)
{
	struct proghdr ph;
	uint64 sz = 0;
	*szp = 0;
	for (int i = 0; i < eh->phnum; i++) {
		uint off = eh->phoff + i * sizeof(ph);
		if (readi(ip, false, (uint64)&ph, off, sizeof(ph)) != sizeof(ph))
			return -ENOEXEC;
		if (ph.type != ELF_PROG_LOAD)
			continue;
		if (ph.memsz < ph.filesz || ph.vaddr + ph.memsz < ph.vaddr ||
		    ph.vaddr % PGSIZE != 0 || ph.vaddr < USERBASE ||
		    ph.vaddr + ph.memsz >= TRAPFRAME / 2 || ph.vaddr < PGROUNDUP(sz))
			return -ENOEXEC;
		if (sz == 0)
			sz = ph.vaddr;  // leave everything below the first segment unmapped
		int r = uvmalloc(pt, sz, ph.vaddr + ph.memsz, flags2perm(ph.flags), &sz);
		if (r < 0)
			return r;
		*szp = sz;
		r = loadseg(pt, ph.vaddr, ip, ph.off, ph.filesz);
		if (r < 0)
			return r;
	}
	*szp = sz;
	return sz == 0 ? -ENOEXEC : 0;
}

// Push the argument strings and the argv array onto the new stack. Returns
// the new sp (argv is at sp), or -E2BIG / -EFAULT.
static long push_args(pagetable_t pt, uint64 sp, uint64 stackbase, char **argv, int argc)
{
	uint64 ustack[MAXARG + 1];
	for (int i = 0; i < argc; i++) {
		uint64 n = strlen(argv[i]) + 1;
		sp = (sp - n) & ~15UL;  // keep 16-byte alignment (RISC-V ABI)
		if (sp < stackbase)
			return -E2BIG;
		if (copyout(pt, sp, argv[i], n) != 0)
			return -EFAULT;
		ustack[i] = sp;
	}
	ustack[argc] = 0;
	sp -= (argc + 1) * sizeof(uint64);
	sp &= ~15UL;
	if (sp < stackbase)
		return -E2BIG;
	if (copyout(pt, sp, ustack, (argc + 1) * sizeof(uint64)) != 0)
		return -EFAULT;
	return sp;
}

// Run path with argv (kernel strings, argc of them). Returns only on
// error: -ENOENT, -EACCES (a directory), -ENOEXEC, -ENOMEM, -E2BIG.
int kexec(const char *path, char **argv, int argc)
{
	struct proc *p = myproc();
	struct elfhdr eh;
	pagetable_t pt = NULL;
	uint64 sz = 0;
	int r;

	begin_op();
	struct inode *ip = namei(path);
	if (ip == NULL) {
		end_op();
		return -ENOENT;
	}
	ilock(ip);
	r = -EACCES;
	if (itype(ip) != T_FILE)
		goto bad;
	r = -ENOEXEC;
	if (readi(ip, false, (uint64)&eh, 0, sizeof(eh)) != sizeof(eh))
		goto bad;
	if (eh.magic != ELF_MAGIC || eh.machine != EM_RISCV)
		goto bad;
	r = -ENOMEM;
	if ((pt = proc_pagetable(p)) == NULL)
		goto bad;
	if ((r = load_program(pt, ip, &eh, &sz)) < 0)
		goto bad;
	iunlockput(ip);
	end_op();
	ip = NULL;

	// Guard page (left unmapped), then the stack.
	uint64 stackbase = PGROUNDUP(sz) + PGSIZE;
	uint64 stacktop = stackbase + USTACKPAGES * PGSIZE;
	if ((r = uvmalloc(pt, stackbase, stacktop, PTE_W, NULL)) < 0)
		goto bad;
	sz = stacktop;
	long sp = push_args(pt, stacktop, stackbase, argv, argc);
	if (sp < 0) {
		r = sp;
		goto bad;
	}

	// Commit: nothing can fail from here on.
	const char *last = path;
	for (const char *s = path; *s; s++)
		if (*s == '/')
			last = s + 1;
	strlcpy(p->name, last, sizeof(p->name));
	pagetable_t oldpt = p->pagetable;
	uint64 oldsz = p->sz;
	p->pagetable = pt;
	p->sz = sz;
	p->heap_base = sz;
	p->trapframe->epc = eh.entry;
	p->trapframe->sp = sp;
	p->trapframe->a1 = sp;
	proc_freepagetable(oldpt, oldsz);
	return argc;  // lands in a0: main's argc

bad:
	if (pt)
		proc_freepagetable(pt, sz);
	if (ip) {
		iunlockput(ip);
		end_op();
	}
	return r;
}

// exec(path, argv): copy the path and the argument strings into the
// kernel, then kexec. Every pointer is checked: -EFAULT; more than MAXARG
// arguments or one longer than MAXARGLEN: -E2BIG.
long sys_exec(void)
{
	char path[MAXPATH];
	char *argv[MAXARG + 1] = { 0 };
	int argc = 0;
	long r = argstr(0, path, MAXPATH);
	if (r < 0)
		return r;
	uint64 uargv = argaddr(1);
	for (;; argc++) {
		uint64 uarg;
		if ((r = fetchaddr(uargv + argc * sizeof(uint64), &uarg)) < 0)
			goto out;
		if (uarg == 0)
			break;
		r = -E2BIG;
		if (argc >= MAXARG)
			goto out;
		r = -ENOMEM;
		if ((argv[argc] = kmalloc(MAXARGLEN)) == NULL)
			goto out;
		r = fetchstr(uarg, argv[argc], MAXARGLEN);
		if (r == -ENAMETOOLONG)
			r = -E2BIG;
		if (r < 0) {
			argc++;  // so out: frees this one too
			goto out;
		}
	}
	r = kexec(path, argv, argc);
out:
	for (int i = 0; i < argc && i <= MAXARG; i++)
		kfree(argv[i]);
	return r;
}
