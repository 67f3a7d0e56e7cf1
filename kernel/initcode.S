# The first user program: exec("/init", {"/init", 0}). userinit() copies
# these bytes to USERBASE in the first process. Only PC-relative
# addressing, so it runs wherever it is copied.
#include "kernel/syscall.h"
        .section .rodata
        .globl initcode_start
        .globl initcode_end
        .align 4
initcode_start:
        addi sp, sp, -16
        lla a0, init_path
        sd a0, 0(sp)
        sd zero, 8(sp)
        mv a1, sp
        li a7, SYS_exec
        ecall
1:      li a0, 127              # exec failed: exit and let the kernel say so
        li a7, SYS_exit
        ecall
        j 1b
init_path:
        .string "/init"
        .align 4
initcode_end:
