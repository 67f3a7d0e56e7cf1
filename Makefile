# netkern: one entry point.
#   make            kernel/kernel and fs.img
#   make qemu       boot on the serial console (prompt "$ "); quit: Ctrl-A x
#   make qemu-gdb   boot the debug kernel halted and print the gdb command
#                   that attaches to it (docs/gdb.md)
#   make test       host unit tests + QEMU integration tests (pytest)
#   make grade LAB=name   run one lab's graded tests and print the score
#   make handin     a tarball of your commits and answers files for grading
#   make lab-tree LAB=name DEST=dir   a lab's starter tree (docs/labs/README.md)
#   make labcheck   (staff) every starter tree and mistake patch, in full
#   make profile CMD='...'  instruction profile of a guest command (docs/profiling.md)
#   make clean
# Variables: CPUS=N (harts, 1..8, default 2); NETDEV=... (QEMU -netdev
# argument, id must be net0); DEBUG=1 (make qemu boots the debug kernel,
# debug/kernel, built -O0 into debug/: every local visible, every line
# steppable; make qemu-gdb always uses it; tests and make bench use the
# optimised kernel/kernel).

K = kernel
D = drivers
U = user

# Check (and on a fresh machine install) the tools before anything else.
DEPS_STAMP := .deps-ok
$(shell [ -f $(DEPS_STAMP) ] || bash tools/install-deps.sh >&2 && touch $(DEPS_STAMP))

TOOLPREFIX := $(shell for p in riscv64-unknown-elf- riscv64-linux-gnu- riscv64-elf-; do \
	if command -v $${p}gcc >/dev/null 2>&1; then echo $$p; break; fi; done)
ifeq ($(TOOLPREFIX),)
$(error no RISC-V cross compiler found: run 'bash tools/install-deps.sh')
endif

CC = $(TOOLPREFIX)gcc
AS = $(TOOLPREFIX)gas
LD = $(TOOLPREFIX)ld
OBJCOPY = $(TOOLPREFIX)objcopy
OBJDUMP = $(TOOLPREFIX)objdump
QEMU = qemu-system-riscv64
HOSTCC = gcc
PYTHON = /usr/bin/python3

CPUS ?= 2
# The kernel the tests and benchmarks run (kernel/kernel) is built -O2:
# a TCP segment costs about a sixth fewer instructions than at -Og.
# Frame pointers make panic()'s backtrace possible. -O2 keeps locals in
# registers and inlines, so the debug kernel (below) is built -O0 for
# gdb. User programs stay -Og (usertests probes the stack and memory
# in ways a stronger optimiser may fold away). -fno-strict-aliasing, as
# in the BSD and Linux kernels: packet bytes are read through header
# structs and a ring slot through two descriptor types, which ISO C's
# type rules would let the optimiser reorder. -fno-optimize-sibling-calls:
# a call in tail position keeps its caller's frame, so panic backtraces,
# lockcheck's stacks and make profile's flame graphs show every function
# a packet went through (ip_input calls icmp_input, tcp_input, ... last).
# Link-time optimisation (LTO=1, the default): gcc optimises the kernel
# as one program at the link, so the small functions every packet calls
# across files (acquire/release, push_off/pop_off, kmalloc's per-CPU
# caches, the mbuf and netisr helpers) are inlined like static ones.
# Fewer instructions (-icount, bench/run.py --only icounttcp, one
# morning: 6,831 -> 5,724 per 1460 B sent over the e1000, 5,582 -> 5,133
# received, lo0 2.182 -> 1.991 per byte), and fewer function returns,
# each of which costs QEMU a lookup of the next translated block. An
# inlined function has no frame of its own in a backtrace or in make
# profile's stacks; LTO=0 (after make clean: make does not track flags)
# builds file by file. The debug kernel never uses it. memset, memmove,
# memcpy and strlen (kernel/memword.c, kernel/string.c) are compiled
# outside it: gcc may emit calls to them after the link-time pass has
# dropped what looked unused, and may see their loops as calls to
# themselves.
LTO ?= 1
KLTO = $(if $(filter 1,$(LTO)),-flto=auto,)
KOPT = -O2 -fno-strict-aliasing -fno-optimize-sibling-calls $(KLTO)
UOPT = -Og
BASECFLAGS = -Wall -Werror -ggdb -fno-omit-frame-pointer
BASECFLAGS += -march=rv64gc -mabi=lp64d -mcmodel=medany -mno-relax
BASECFLAGS += -ffreestanding -fno-common -nostdlib -fno-stack-protector
BASECFLAGS += -fno-pie -no-pie -fno-builtin-printf -fno-builtin-exit
BASECFLAGS += -I. -MD
CFLAGS = $(BASECFLAGS) $(UOPT)
KCFLAGS = $(BASECFLAGS) $(KOPT) -D__KERNEL__
LIBGCC := $(shell $(CC) -print-libgcc-file-name 2>/dev/null)
LDFLAGS = -z max-page-size=4096 --no-warn-rwx-segments
comma := ,

# entry.o must come first: QEMU jumps to 0x80000000.
KSRCS := $(K)/entry.S $(filter-out $(K)/entry.S,$(wildcard $(K)/*.S)) \
	$(wildcard $(K)/*.c) $(wildcard $(D)/*.c) $(wildcard net/*.c)
KOBJS := $(patsubst %.S,%.o,$(patsubst %.c,%.o,$(KSRCS)))

all: $(K)/kernel fs.img mkfs/fsck

$(K)/%.o: $(K)/%.c
	$(CC) $(KCFLAGS) -c -o $@ $<
$(D)/%.o: $(D)/%.c
	$(CC) $(KCFLAGS) -c -o $@ $<
net/%.o: net/%.c
	$(CC) $(KCFLAGS) -c -o $@ $<
$(K)/%.o: $(K)/%.S
	$(CC) $(KCFLAGS) -c -o $@ $<

# memset, memmove and memcpy themselves (kernel/memword.c, and
# user/lib/memword.c, the same code, built -O2 for user programs too):
# with loop-to-memset pattern matching gcc would turn memset's own loop
# into a call to itself. Everywhere else such calls are welcome.
MEMOBJS = $(K)/memword.o $(U)/lib/memword.o
$(MEMOBJS): KOPT += -fno-tree-loop-distribute-patterns
$(K)/memword.o $(K)/string.o: KLTO = -fno-lto
$(MEMOBJS): UOPT = -O2 -fno-tree-loop-distribute-patterns

$(K)/kernel: $(KOBJS) $(K)/kernel.ld
	$(CC) $(filter-out -MD,$(KCFLAGS)) $(addprefix -Wl$(comma),$(LDFLAGS)) \
		-T $(K)/kernel.ld -o $@ $(KOBJS) $(LIBGCC)
	$(OBJDUMP) -S $@ > $(K)/kernel.asm
	$(OBJDUMP) -t $@ | sed '1,/SYMBOL TABLE/d; s/ .* / /; /^$$/d' > $(K)/kernel.sym

# ---- the debug kernel ------------------------------------------------------
# Same sources, -O0 (every local lives in its stack slot, every line has
# code, no tail calls), objects in debug/ so the optimised kernel the
# tests and benchmarks use is left alone. kernel/lockcheck.c keeps its
# own -O2 (a pragma): nobody steps through it.
DBGDIR = debug
DBGCFLAGS = $(BASECFLAGS) -O0 -D__KERNEL__
DBGOBJS := $(addprefix $(DBGDIR)/obj/,$(KOBJS))

$(DBGDIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(DBGCFLAGS) -c -o $@ $<
$(DBGDIR)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(DBGCFLAGS) -c -o $@ $<

$(DBGDIR)/kernel: $(DBGOBJS) $(K)/kernel.ld
	$(LD) $(LDFLAGS) -T $(K)/kernel.ld -o $@ $(DBGOBJS) $(LIBGCC)

# The kernel QEMU boots: DEBUG=1 picks the debug one.
KERNEL = $(if $(filter 1,$(DEBUG)),$(DBGDIR)/kernel,$(K)/kernel)

# ---- user space ----------------------------------------------------------
# Every user/*.c is one program (user/foo.c -> /foo in fs.img); the library
# is user/lib/*.c + *.S plus the generated system-call stubs.
ULIBSRCS := $(wildcard $(U)/lib/*.c) $(filter-out $(U)/lib/usys.S,$(wildcard $(U)/lib/*.S))
ULIBOBJS := $(patsubst %.S,%.o,$(patsubst %.c,%.o,$(ULIBSRCS))) $(U)/lib/usys.o
UPROGS := $(patsubst $(U)/%.c,$(U)/_%,$(wildcard $(U)/*.c))

$(U)/lib/usys.S: $(K)/syscall.h
	@echo '# generated from kernel/syscall.h by the Makefile: do not edit' > $@
	@echo '#include "kernel/syscall.h"' >> $@
	@sed -n 's/^#define SYS_\([a-z_0-9]*\) .*/\1/p' $< | while read n; do \
		printf '.global %s\n%s:\n li a7, SYS_%s\n ecall\n j __syscall_ret\n' $$n $$n $$n; \
	done >> $@

$(U)/lib/%.o: $(U)/lib/%.c
	$(CC) $(CFLAGS) -c -o $@ $<
$(U)/lib/%.o: $(U)/lib/%.S
	$(CC) $(CFLAGS) -c -o $@ $<
$(U)/%.o: $(U)/%.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(U)/_%: $(U)/%.o $(ULIBOBJS) $(U)/user.ld
	$(LD) $(LDFLAGS) -T $(U)/user.ld -o $@ $< $(ULIBOBJS) $(LIBGCC)
	$(OBJDUMP) -S $@ > $(U)/$*.asm

.PRECIOUS: $(U)/%.o $(U)/lib/%.o

# ---- file system image ---------------------------------------------------
mkfs/mkfs: mkfs/mkfs.c $(K)/fsformat.h $(K)/param.h
	$(HOSTCC) -Wall -Werror -O2 -I. -o $@ mkfs/mkfs.c

mkfs/fsck: mkfs/fsck.c $(K)/fsformat.h $(K)/param.h
	$(HOSTCC) -Wall -Werror -O2 -I. -o $@ mkfs/fsck.c

fs.img: mkfs/mkfs README.md $(UPROGS)
	mkfs/mkfs fs.img README.md $(UPROGS)

# ---- running -------------------------------------------------------------
# Per-user ports so two students on one machine do not collide.
UID := $(shell id -u)
FWDPORT ?= $(shell expr $(UID) % 5000 + 26000)
GDBPORT ?= $(shell expr $(UID) % 5000 + 31000)
# slirp with restrict=on never reaches outside the host. Forwarded:
# host tcp/udp $(FWDPORT) -> guest port 7 (echo), $(FWDPORT)+1 -> 2000.
NETDEV ?= user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:$(FWDPORT)-:7,hostfwd=udp:127.0.0.1:$(FWDPORT)-:7,hostfwd=tcp:127.0.0.1:$(shell expr $(FWDPORT) + 1)-:2000,hostfwd=udp:127.0.0.1:$(shell expr $(FWDPORT) + 1)-:2000
QEMUEXTRA ?=
FSIMG ?= fs.img

QEMUOPTS = -machine virt,aclint=on -bios none -kernel $(KERNEL) -m 256M -smp $(CPUS) -nographic
QEMUOPTS += -global virtio-mmio.force-legacy=false
QEMUOPTS += -drive file=$(FSIMG),if=none,format=raw,id=x0
QEMUOPTS += -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0
QEMUOPTS += -netdev $(NETDEV) -device e1000,netdev=net0,bus=pcie.0,addr=1
QEMUOPTS += $(QEMUEXTRA)

qemu: $(KERNEL) fs.img
	$(QEMU) $(QEMUOPTS)

# .gdbinit: symbols of the kernel QEMU boots, the helpers in tools/gdb,
# then the connection (tools/gdb/gdbinit.tmpl). Rewritten on every
# make qemu-gdb / make gdbinit, as the port and the kernel may change.
# GDBINIT=path writes it elsewhere (the tests do, to run side by side).
GDBINIT ?= $(CURDIR)/.gdbinit
GDBCMD = gdb-multiarch -q -iex 'set auto-load local-gdbinit off' -x $(GDBINIT)
gdbinit:
	@sed -e "s|@PORT@|$(GDBPORT)|; s|@KERNEL@|$(CURDIR)/$(KERNEL)|; s|@TOOLS@|$(CURDIR)/tools/gdb|" \
		< tools/gdb/gdbinit.tmpl > $(GDBINIT)

qemu-gdb: DEBUG = 1
qemu-gdb: $(DBGDIR)/kernel fs.img gdbinit
	@echo "*** QEMU waits for gdb on port $(GDBPORT). In another terminal run:" 1>&2
	@echo "***   $(GDBCMD)" 1>&2
	$(QEMU) $(QEMUOPTS) -S -gdb tcp:127.0.0.1:$(GDBPORT)

# ---- tests ---------------------------------------------------------------
PYTEST = $(PYTHON) -m pytest
TESTFLAGS ?=

# make test: tiers 1-3 through pytest: the host unit tests of net/ (one
# case each, tests/test_host_units.py) and the QEMU tests (tests/test_*.py,
# console logs in tests/logs/); the run ends with the line
# "N passed, M failed". TESTFLAGS go to pytest, e.g. TESTFLAGS='-k usertests'
# or TESTFLAGS=-x; when they name test files (TESTFLAGS='tests/test_tcp.py -x')
# only those run, not the whole of tests/ besides.
TESTPATHS = $(if $(filter tests/%,$(TESTFLAGS)),,tests/)
test: $(K)/kernel $(DBGDIR)/kernel fs.img
	$(PYTEST) -v $(TESTFLAGS) $(TESTPATHS)

# make hosttest: net/ built for Linux against the host shim
# (tests/host/shim_host.c) and its unit tests run (docs/design.md 3, 8 tier 1).
# One test: tests/host/nettest name; list: tests/host/nettest -l.
HOSTNETSRCS = $(filter-out net/shim_kernel.c,$(wildcard net/*.c))
HOSTTESTSRCS = $(wildcard tests/host/*.c)
HOSTSAN = $(shell echo 'int main(void){return 0;}' | $(HOSTCC) -fsanitize=address,undefined \
	-x c - -o /tmp/.hostsan-$(UID) >/dev/null 2>&1 && echo -fsanitize=address,undefined; rm -f /tmp/.hostsan-$(UID))
HOSTCFLAGS = -Wall -Werror -O1 -g -pthread -I. $(HOSTSAN)

# tests/host/kstring.c and ustring.c #include the kernel's memword.c and
# string.c and the user library's string.c (tests/host/test_string.c).
tests/host/nettest: $(HOSTNETSRCS) $(HOSTTESTSRCS) $(wildcard net/*.h tests/host/*.h) \
		$(K)/memword.c $(K)/string.c $(U)/lib/string.c
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $(HOSTNETSRCS) $(HOSTTESTSRCS)

# The e1000 receive hold's bookkeeping (drivers/e1000_hold.c), built with
# the kernel's headers against a softc whose registers are an array.
tests/host/drvtest: drivers/e1000_hold.c tests/host/drv/test_e1000_hold.c tests/host/check.h \
		$(wildcard drivers/*.h kernel/*.h net/*.h)
	$(HOSTCC) $(HOSTCFLAGS) -D__KERNEL__ -o $@ drivers/e1000_hold.c tests/host/drv/test_e1000_hold.c

hosttest: tests/host/nettest tests/host/drvtest
	tests/host/nettest
	tests/host/drvtest

# The same tests without sanitizers, for the lab graders (tests/grading.py
# host_units): about a quarter of the build time.
tests/host/labtest: $(HOSTNETSRCS) $(HOSTTESTSRCS) $(wildcard net/*.h tests/host/*.h) \
		$(K)/string.c $(U)/lib/string.c
	$(HOSTCC) -Wall -Werror -O1 -g -pthread -I. -o $@ $(HOSTNETSRCS) $(HOSTTESTSRCS)

# make fuzz: the libFuzzer target tests/fuzz/fuzz_tcp.c (segments fed to
# tcp_input over a connection in each state, host build of net/) built
# with clang -fsanitize=fuzzer,address,undefined and run for FUZZSECS
# seconds on tests/fuzz/corpus (new inputs go to tests/fuzz/new/, a crash
# to tests/fuzz/crashes/). Replay one input: tests/fuzz/fuzz_tcp FILE.
FUZZCC = clang
FUZZSECS ?= 60
FUZZSRCS = $(HOSTNETSRCS) tests/host/shim_host.c tests/host/tcp_wire.c tests/fuzz/fuzz_tcp.c
tests/fuzz/fuzz_tcp: $(FUZZSRCS) $(wildcard net/*.h tests/host/*.h)
	$(FUZZCC) -Wall -Werror -O1 -g -pthread -I. \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ $(FUZZSRCS)

fuzz: tests/fuzz/fuzz_tcp
	mkdir -p tests/fuzz/new tests/fuzz/crashes
	tests/fuzz/fuzz_tcp -max_total_time=$(FUZZSECS) -detect_leaks=0 -max_len=2048 \
		-artifact_prefix=tests/fuzz/crashes/ tests/fuzz/new tests/fuzz/corpus

# make grade lists the labs with their points; make grade LAB=name runs
# one lab (tests/grade.py; GRADEFLAGS e.g. '--json out.json' or
# '--time-scale 3', TESTFLAGS e.g. '-k ring' go along).
GRADEFLAGS ?=
grade: $(if $(LAB),$(K)/kernel fs.img)
	$(PYTHON) tests/grade.py $(LAB) $(GRADEFLAGS) $(if $(LAB),$(TESTFLAGS))

# make handin: a tarball with a git bundle of your commits and the
# docs/labs/answers-*.txt files; prints its path (tests/grade.py --handin).
handin:
	$(PYTHON) tests/grade.py --handin $(LAB)

# make labcheck (staff): every lab's starter tree in full (builds, boots,
# the earlier lab's whole grader scores full, its own lab loses points)
# and every mistake patch caught; make test runs a quicker starter check.
labcheck: $(K)/kernel fs.img
	LABCHECK_FULL=1 $(PYTEST) -v tests/test_labs.py

# make lab-tree LAB=x DEST=dir: the starter tree of lab x (tools/labgen.py;
# markers explained in docs/labs/README.md).
lab-tree:
	@test -n "$(LAB)" -a -n "$(DEST)" || { echo "usage: make lab-tree LAB=name DEST=dir" >&2; exit 2; }
	$(PYTHON) tools/labgen.py tree $(LAB) $(DEST)

# make bench: the network figures (docs/design.md 8 tier 5; bench/run.py),
# measured and reported, never asserted. Needs root for the namespace and
# tap (without it only the lo0 figures run). Prints a table and writes
# bench/results/latest.txt, latest.json and a dated JSON copy.
# BENCHFLAGS go to bench/run.py, e.g. BENCHFLAGS='--secs 2 --only ifq'.
BENCHFLAGS ?=
bench: $(K)/kernel fs.img
	$(PYTHON) bench/run.py --cpus $(CPUS) $(BENCHFLAGS)

# make profile CMD='ping -c 20 127.0.0.1': run CMD in the guest under
# -icount with the machine-mode sampler (kernel/prof.c) and print the top
# kernel functions by instructions; prof/profile.folded and prof/profile.svg
# (a flame graph). PROFFLAGS go to tools/profile.py (--cpus 2, --period N).
# docs/profiling.md shows how to read it.
CMD ?= ping -c 20 127.0.0.1
PROFFLAGS ?=
profile: $(K)/kernel fs.img
	$(PYTHON) tools/profile.py $(PROFFLAGS) "$(CMD)"

print-%:
	@echo $($*)

clean:
	rm -f $(K)/*.o $(K)/*.d $(D)/*.o $(D)/*.d net/*.o net/*.d $(K)/kernel \
		$(K)/kernel.asm $(K)/kernel.sym $(U)/*.o $(U)/*.d $(U)/_* $(U)/*.asm \
		$(U)/lib/*.o $(U)/lib/*.d $(U)/lib/usys.S mkfs/mkfs mkfs/fsck fs.img .gdbinit
	rm -rf tests/__pycache__ .pytest_cache tests/host/nettest tests/host/labtest tests/host/drvtest \
		$(DBGDIR) tools/gdb/nkgdb/__pycache__ \
		tests/fuzz/fuzz_tcp tests/fuzz/new

-include $(K)/*.d $(D)/*.d net/*.d $(U)/*.d $(U)/lib/*.d
-include $(wildcard $(DBGDIR)/obj/*/*.d)

.PHONY: all qemu qemu-gdb gdbinit test hosttest fuzz grade handin lab-tree labcheck bench profile clean
