// errno and the common tail of every system-call stub.
//
// The stubs in usys.S (generated from kernel/syscall.h) do
//     li a7, SYS_x; ecall; j __syscall_ret
// so __syscall_ret runs with the kernel's result in a0 and the caller's
// return address still in ra: it behaves as if the caller had called it.
// The kernel returns >= 0 on success and -errno on failure
// (kernel/errno.h); C callers get -1 with errno set instead.
#include "user/user.h"

int errno;

long
__syscall_ret(long r)
{
	if (r >= -EMAXERRNO && r <= -1) {
		errno = (int)-r;
		return -1;
	}
	return r;
}
