// The user library's memset, memmove, memcpy and memcmp: the kernel's
// word-wise versions, compiled once more for user space (one copy of the
// code; see kernel/memword.c for how they work).
#include "kernel/memword.c"
