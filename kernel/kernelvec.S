# kernelvec: stvec while the hart runs in the kernel. Saves the
# caller-saved registers on the current kernel stack, calls kerneltrap()
# (kernel/trap.c), restores them and sret's back to where the kernel was
# interrupted. Callee-saved registers are preserved by kerneltrap itself.
#
# For gdb, the CFI below describes this frame: the caller's pc is the
# interrupted one (sepc, saved at 248(sp), is the return column) and every
# saved register is where it was stored, so `bt` inside a trap goes on
# into the interrupted function, and `up` there shows its registers.
        .cfi_sections .debug_frame
        .globl kerneltrap
        .globl kernelvec
        .align 4
kernelvec:
        .cfi_startproc
        .cfi_return_column 4417    # DWARF number of the sepc CSR (4096 + 0x141)
        addi sp, sp, -256
        .cfi_def_cfa_offset 256
        sd ra, 0(sp)
        sd s0, 8(sp)               # kept as a frame for the backtrace
        sd gp, 16(sp)
        sd t0, 24(sp)
        sd t1, 32(sp)
        sd t2, 40(sp)
        sd a0, 48(sp)
        sd a1, 56(sp)
        sd a2, 64(sp)
        sd a3, 72(sp)
        sd a4, 80(sp)
        sd a5, 88(sp)
        sd a6, 96(sp)
        sd a7, 104(sp)
        sd t3, 112(sp)
        sd t4, 120(sp)
        sd t5, 128(sp)
        sd t6, 136(sp)
        .cfi_offset ra, -256
        .cfi_offset s0, -248
        .cfi_offset gp, -240
        .cfi_offset t0, -232
        .cfi_offset t1, -224
        .cfi_offset t2, -216
        .cfi_offset a0, -208
        .cfi_offset a1, -200
        .cfi_offset a2, -192
        .cfi_offset a3, -184
        .cfi_offset a4, -176
        .cfi_offset a5, -168
        .cfi_offset a6, -160
        .cfi_offset a7, -152
        .cfi_offset t3, -144
        .cfi_offset t4, -136
        .cfi_offset t5, -128
        .cfi_offset t6, -120
        # Build a frame record so backtrace() can walk through the trap:
        # ra slot = interrupted pc (sepc), fp slot = interrupted s0.
        csrr t0, sepc
        sd t0, 248(sp)
        .cfi_offset 4417, -8
        sd s0, 240(sp)
        addi s0, sp, 256

        call kerneltrap

        ld ra, 0(sp)
        ld s0, 8(sp)
        ld gp, 16(sp)
        ld t0, 24(sp)
        ld t1, 32(sp)
        ld t2, 40(sp)
        ld a0, 48(sp)
        ld a1, 56(sp)
        ld a2, 64(sp)
        ld a3, 72(sp)
        ld a4, 80(sp)
        ld a5, 88(sp)
        ld a6, 96(sp)
        ld a7, 104(sp)
        ld t3, 112(sp)
        ld t4, 120(sp)
        ld t5, 128(sp)
        ld t6, 136(sp)
        addi sp, sp, 256
        sret
        .cfi_endproc

# usertrapvec: uservec (trampoline.S) jumps here, on the process's kernel
# stack with ra and s0 zero, once it has switched to the kernel page table.
# A call rather than a jump, with an undefined return address, so gdb's
# backtrace of a system call ends here: syscall, usertrap, usertrapvec.
        .globl usertrapvec
usertrapvec:
        .cfi_startproc
        .cfi_undefined ra
        call usertrap
        unimp                      # usertrap() does not return
        .cfi_endproc
