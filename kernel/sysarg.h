// Fetching system-call arguments from the current process's trapframe.
// Every pointer argument is only an address here; the syscall copies
// through copyin/copyout/copyinstr, which check it.
#pragma once
#include "kernel/types.h"

long argraw(int n);               // raw register a0..a5
int argint(int n);                // as int
uint64 argaddr(int n);            // as a user address (not checked yet)
// Copy the NUL-terminated string whose address is argument n into buf.
// Returns its length, -EFAULT, or -ENAMETOOLONG if it does not fit in max.
int argstr(int n, char *buf, int max);
int fetchaddr(uint64 addr, uint64 *ip);  // 0 or -EFAULT
int fetchstr(uint64 addr, char *buf, int max);  // length or -E...
void syscall(void);
