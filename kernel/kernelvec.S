# kernelvec: stvec while the hart runs in the kernel. Saves the
# caller-saved registers on the current kernel stack, calls kerneltrap()
# (kernel/trap.c), restores them and sret's back to where the kernel was
# interrupted. Callee-saved registers are preserved by kerneltrap itself.
        .globl kerneltrap
        .globl kernelvec
        .align 4
kernelvec:
        addi sp, sp, -256
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
        # Build a frame record so backtrace() can walk through the trap:
        # ra slot = interrupted pc (sepc), fp slot = interrupted s0.
        csrr t0, sepc
        sd t0, 248(sp)
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
