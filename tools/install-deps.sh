#!/usr/bin/env bash
# Check for the tools netkern needs and install the missing ones.
# On Debian 12 as root (or with sudo) it runs apt-get itself; otherwise it
# prints the exact command to run. Called by the Makefile on first use and
# by .ci/run.
set -u
need=()
have() { command -v "$1" >/dev/null 2>&1; }
pyhas() { /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }

have riscv64-unknown-elf-gcc || have riscv64-linux-gnu-gcc || need+=(gcc-riscv64-unknown-elf)
have qemu-system-riscv64 || need+=(qemu-system-misc)
have gdb-multiarch || need+=(gdb-multiarch)
have gcc || need+=(gcc)
have make || need+=(make)
[ -x /usr/bin/python3 ] || need+=(python3)
pyhas pytest || need+=(python3-pytest)
pyhas pexpect || need+=(python3-pexpect)
pyhas scapy || need+=(python3-scapy)
have tshark || need+=(tshark)
have ip || need+=(iproute2)
have nft || need+=(nftables)
# The TCP fuzzer (make fuzz, tests/test_fuzz.py): clang and libFuzzer.
have clang || need+=(clang)
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
	need+=(libclang-rt-14-dev)

[ ${#need[@]} -eq 0 ] && exit 0

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
	echo "install-deps: installing ${need[*]}" >&2
	sh -c "$cmd" >&2 || { echo "install-deps: failed; run as root: $cmd" >&2; exit 1; }
elif have sudo && sudo -n true 2>/dev/null; then
	echo "install-deps: installing ${need[*]} with sudo" >&2
	sudo sh -c "$cmd" >&2 || { echo "install-deps: failed; run: sudo sh -c '$cmd'" >&2; exit 1; }
else
	echo "install-deps: missing packages: ${need[*]}" >&2
	echo "install-deps: run: sudo sh -c '$cmd'" >&2
	exit 1
fi
