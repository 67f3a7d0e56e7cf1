"""core: what every netkern gdb helper shares.

Problem: each helper reads kernel structures; if each wrote its own copy
of a structure's layout, a flag's value or an enum's names, the helpers
would drift from the kernel the first time someone adds a field.

Idea: everything comes from the kernel itself, at the moment of use:
  - types, field offsets and sizes from the kernel's debug information
    (type("struct mbuf"), sizeof("struct proc"));
  - enum names from the enum types (enum_names("enum procstate"));
  - #define constants (flag bits, array sizes) from the headers in the
    tree, read once and cached (defines("net/mbuf.h", "M_")): they are
    not in the debug information, and the headers are the one place they
    are written;
  - globals (static ones too) by name through gdb's symbol tables.
Only the packet formats (Ethernet/IP/TCP header layouts) are decoded by
hand, as any packet tool does; they are fixed by RFCs, not by the kernel.

Commands register through @command(name): the loader (__init__.py) lists
them under `help netkern`, and a command's errors are caught and printed
as one line (nk-x: error) instead of a Python traceback.
"""

import os
import re
import struct

import gdb

TREE = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

# name -> (summary line, module); filled by @command as modules load.
COMMANDS = {}


class NkError(Exception):
    """A helper's own complaint: printed as is, without a traceback."""


# ---- types, symbols, constants ----------------------------------------------

_types = {}


def type_(name):
    """gdb.Type of a C type name ("struct mbuf", "uint64"), cached."""
    t = _types.get(name)
    if t is None:
        try:
            t = gdb.lookup_type(name)
        except gdb.error:
            if not name.startswith("struct "):
                raise
            t = gdb.lookup_type(name[7:])
        _types[name] = t
    return t


def ptr_type(name):
    return type_(name).pointer()


def sizeof(name):
    return type_(name).sizeof


def enum_names(name, strip=""):
    """{value: name} of an enum type, with a common prefix stripped."""
    t = type_(name).strip_typedefs()
    out = {}
    for f in t.fields():
        n = f.name
        if strip and n.startswith(strip):
            n = n[len(strip):]
        out[int(f.enumval)] = n
    return out


def global_(name):
    """The value of a kernel global, static or not."""
    s = gdb.lookup_global_symbol(name)
    if s is None:
        s = gdb.lookup_static_symbol(name)
    if s is None:
        raise NkError("no kernel symbol %r (is the kernel loaded?)" % name)
    return s.value()


_defines = {}
_DEF_RE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(\(?-?(?:0x[0-9a-fA-F]+|\d+)\)?)[uUlL]*\s*(?://.*|/\*.*)?$")


def defines(header, prefix=""):
    """{NAME: value} of the numeric #defines in a header of the tree
    (path relative to the tree), those whose name starts with prefix."""
    if header not in _defines:
        table = {}
        try:
            with open(os.path.join(TREE, header)) as f:
                for line in f:
                    m = _DEF_RE.match(line)
                    if m:
                        table[m.group(1)] = int(m.group(2).strip("()"), 0)
        except OSError as e:
            raise NkError("cannot read %s: %s" % (header, e))
        _defines[header] = table
    return {k: v for k, v in _defines[header].items() if k.startswith(prefix)}


def const(header, name):
    d = defines(header)
    if name not in d:
        raise NkError("%s does not define %s" % (header, name))
    return d[name]


def flagstr(value, header, prefix, strip=True):
    """A flag word as NAME|NAME (bits no #define names shown in hex)."""
    value = int(value)
    names = []
    left = value
    for name, bit in sorted(defines(header, prefix).items(), key=lambda kv: kv[1]):
        if bit and (bit & (bit - 1)) == 0 and value & bit:
            names.append(name[len(prefix):] if strip else name)
            left &= ~bit
    if left:
        names.append("%#x" % left)
    return "|".join(names) if names else "0"


# ---- values -------------------------------------------------------------------

def addr(v):
    """Integer address of a pointer (or integer) gdb.Value."""
    if isinstance(v, int):
        return v
    return int(v.cast(type_("unsigned long")))


def deref(v, typename):
    """v (pointer or address) as a `typename *`, dereferenced."""
    if isinstance(v, int):
        v = gdb.Value(v)
    return v.cast(ptr_type(typename)).dereference()


def parse(expr, typename=None):
    """Evaluate a command argument; with typename, as a pointer to it
    (accepts an address, a pointer, or the object itself)."""
    if not expr.strip():
        raise NkError("needs an expression")
    v = gdb.parse_and_eval(expr)
    if typename is None:
        return v
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT:
        v = v.address
    return v.cast(ptr_type(typename))


def walk(v, next_field, limit=4096):
    """The nodes of a NULL-terminated list, from pointer v along
    next_field: at most limit of them (a list broken into a cycle must
    not hang gdb)."""
    n = 0
    while addr(v) and n < limit:
        yield v
        v = v[next_field]
        n += 1


def parse_ptr(expr):
    """Evaluate a command argument that names an object (the object, or a
    pointer to it): (a pointer to it, its struct tag or None), for the
    commands that accept several kinds (a socket, its inpcb, its tcpcb)."""
    v = parse(expr)
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT:
        v = v.address
        t = v.type.strip_typedefs()
    tag = t.target().strip_typedefs().tag if t.code == gdb.TYPE_CODE_PTR else None
    return v, tag


def cstr(v, limit=64):
    """A char array or char * as a Python string."""
    try:
        t = v.type.strip_typedefs()
        if t.code == gdb.TYPE_CODE_ARRAY:
            n = t.range()[1] + 1
            if v.address is not None:
                raw = read(addr(v.address), n)
            else:
                raw = bytes(int(v[i]) & 0xFF for i in range(n))
        else:
            a = addr(v)
            if a == 0:
                return "(null)"
            raw = read(a, limit)
        return raw.split(b"\0")[0].decode("ascii", "replace")
    except gdb.error:
        return "?"


def read(address, n):
    return bytes(gdb.selected_inferior().read_memory(address, n))


def container_of(ptr, typename, field):
    """The struct typename that has ptr at its member field."""
    t = type_(typename)
    off = None
    for f in t.fields():
        if f.name == field:
            off = f.bitpos // 8
    if off is None:
        raise NkError("%s has no field %s" % (typename, field))
    return gdb.Value(addr(ptr) - off).cast(t.pointer())


def symbol(a):
    """'name+off' for an address that has a symbol, else its hex."""
    a = int(a)
    if a == 0:
        return "0"
    try:
        out = gdb.execute("info symbol %#x" % a, to_string=True)
    except gdb.error:
        return "%#x" % a
    m = re.match(r"(\S+)(?: \+ (\d+))? in section", out)
    if not m:
        return "%#x" % a
    return m.group(1) + ("+%s" % m.group(2) if m.group(2) else "")


def funcname(pc):
    """Name of the function that contains pc, or its hex."""
    try:
        b = gdb.block_for_pc(int(pc))
        while b is not None and b.function is None:
            b = b.superblock
        if b is not None:
            return b.function.name
    except RuntimeError:
        pass
    return symbol(pc)


def where(pc):
    """'func (file:line)' for a code address."""
    sal = gdb.find_pc_line(int(pc))
    loc = ""
    if sal.symtab is not None:
        loc = " (%s:%d)" % (sal.symtab.filename, sal.line)
    return funcname(pc) + loc


# ---- network formats -----------------------------------------------------------

def ip_host(a):
    """Dotted quad of a host-order IPv4 address."""
    a = int(a) & 0xFFFFFFFF
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)


def ip_net(a):
    """Dotted quad of an IPv4 address stored in network order (its bytes in
    memory are the address's bytes; the kernel is little-endian)."""
    return ip_host(struct.unpack(">I", struct.pack("<I", int(a) & 0xFFFFFFFF))[0])


def ntohs(v):
    v = int(v) & 0xFFFF
    return ((v & 0xFF) << 8) | (v >> 8)


def mac(b):
    return ":".join("%02x" % x for x in b)


# ---- CPUs and threads ------------------------------------------------------------

def ncpu():
    return int(global_("ncpu"))


def hart_of_thread(th):
    """Hart id of a gdb thread of QEMU (one thread per hart, in order)."""
    return th.num - 1


def current_hart():
    th = gdb.selected_thread()
    if th is None:
        raise NkError("no thread selected (is gdb attached to QEMU?)")
    return hart_of_thread(th)


def threads():
    inf = gdb.selected_inferior()
    return sorted(inf.threads(), key=lambda t: t.num)


def thread_pc(th):
    """pc of the hart that gdb thread th stands for (its newest frame)."""
    cur = gdb.selected_thread()
    try:
        th.switch()
        return int(gdb.newest_frame().pc())
    finally:
        if cur is not None:
            cur.switch()


def kernbase():
    """Below it, a pc is in user space (kernel/memlayout.h)."""
    return const("kernel/memlayout.h", "KERNBASE")


def kernel_view():
    """gdb reads memory through the selected hart's page table: a hart
    stopped in user mode sees only its process. If the selected one is in
    user mode, select a hart in the kernel for the length of a command;
    returns the thread to go back to, or None."""
    th = gdb.selected_thread()
    if th is None:
        return None
    try:
        if thread_pc(th) >= kernbase():
            return None
        for t in threads():
            if t.num != th.num and thread_pc(t) >= kernbase():
                t.switch()
                return th
    except gdb.error:
        pass
    return None


# ---- commands -------------------------------------------------------------------

def command(name, module=None):
    """Decorator: make fn(arg, from_tty) the gdb command `name`. Its
    docstring is the help text; the first line goes in `help netkern`."""
    def wrap(fn):
        doc = (fn.__doc__ or name).strip()

        class _Cmd(gdb.Command):
            __doc__ = doc

            def __init__(self):
                super().__init__(name, gdb.COMMAND_USER)

            def invoke(self, arg, from_tty):
                back = kernel_view()
                try:
                    fn(arg, from_tty)
                except NkError as e:
                    raise gdb.GdbError("%s: %s" % (name, e))
                except gdb.MemoryError as e:
                    raise gdb.GdbError("%s: cannot read kernel memory (%s); "
                                       "is this CPU in user mode? try `thread N` "
                                       "for a CPU in the kernel" % (name, e))
                except gdb.error as e:
                    raise gdb.GdbError("%s: %s" % (name, e))
                finally:
                    if back is not None:
                        back.switch()

        _Cmd()
        COMMANDS[name] = (doc.splitlines()[0], module or fn.__module__.split(".")[-1])
        return fn
    return wrap


def out(s=""):
    gdb.write(s + "\n")


def _forget_types(event):
    _types.clear()


gdb.events.new_objfile.connect(_forget_types)
