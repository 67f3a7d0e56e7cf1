# First instructions of every hart. QEMU (-bios none) starts all harts at
# 0x80000000 in machine mode with a0 = hart id. Give each hart its own boot
# stack (stack0 in start.c, BOOTSTACK bytes each) and call start().
#include "kernel/param.h"
        .cfi_sections .debug_frame
        .section .text
        .global _entry
_entry:
        .cfi_startproc
        .cfi_undefined ra          # gdb: the first frame, nothing called it
        la sp, stack0
        li t0, 16384            # BOOTSTACK in memlayout.h
        csrr t1, mhartid
        addi t1, t1, 1
        mul t0, t0, t1
        add sp, sp, t0
        mv s0, zero             # end of the frame-pointer chain (backtrace)
        call start
spin:
        wfi
        j spin
        .cfi_endproc

# start() mret's here in supervisor mode: main() as the outermost frame
# of the boot and scheduler stack, for gdb's backtrace.
        .global main_entry
main_entry:
        .cfi_startproc
        .cfi_undefined ra
        mv s0, zero
        call main
        unimp                      # main() does not return
        .cfi_endproc
