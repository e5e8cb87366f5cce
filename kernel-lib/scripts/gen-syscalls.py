#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Generate typed inline wrappers for every system call of the library kernel.
#
# A library kernel has no trap instruction: a program enters it by calling
# skl_syscall(nr, params) with the arguments packed into an array of six
# longs.  Calling that by hand loses all type checking, so this script emits
# one static inline skl_sys_NAME() per syscall number found in the arch's
# generated uapi unistd header, with the argument types of the kernel's own
# "asmlinkage long sys_NAME(...)" prototype from include/linux/syscalls.h.
# Argument types are spelled with the prefixed uapi types that
# prefix-uapi.py exported next to the output (struct stat -> struct
# skl_stat, __kernel_timespec -> __skl__kernel_timespec); kernel-internal
# types become the uapi type they alias (KERNEL_TYPES), and pointers to
# structures the uapi does not export become void *.  Syscalls without a
# generic prototype get untyped long arguments (ARCH_SYSCALLS).  The output
# is deterministic and only rewritten when it changes.
#
# Usage: gen-syscalls.py --srctree LINUX_SRC --unistd UNISTD_H
#                        --prefix skl --out OUTDIR/skl/syscalls.h
#                        [--uapi-dir OUTDIR/skl] [-v]
# --uapi-dir is where prefix-uapi.py wrote the prefixed headers (default: the
# directory of --out); -v lists the types that became void * or long.

import argparse
import importlib.util
import os
import re
import sys

# Syscalls whose entry point is arch code or whose prototype depends on the
# arch configuration: wrappers take this many untyped long arguments.
ARCH_SYSCALLS = {
    "mmap": 6,  # sys_mmap is defined per arch
    "clone": 5,  # argument order depends on CONFIG_CLONE_BACKWARDS*
    "rt_sigreturn": 0,  # takes the arch's pt_regs, not user arguments
    "riscv_flush_icache": 3,  # riscv stand-in used by the tests
    "riscv_hwprobe": 5,
}

# Kernel-internal type names in syscall prototypes, mapped to the uapi type
# with the same representation (looked up again in the prefixed headers) or
# to a plain C type.  Anything not found here nor in the prefixed headers
# is reported and becomes long (scalars) or void * (pointers).
KERNEL_TYPES = {
    "size_t": "__kernel_size_t",
    "ssize_t": "__kernel_ssize_t",
    "loff_t": "__kernel_loff_t",
    "off_t": "__kernel_off_t",
    "pid_t": "__kernel_pid_t",
    "uid_t": "__kernel_uid32_t",
    "gid_t": "__kernel_gid32_t",
    "qid_t": "__kernel_uid32_t",
    "old_uid_t": "__kernel_old_uid_t",
    "old_gid_t": "__kernel_old_gid_t",
    "mode_t": "__kernel_mode_t",
    "umode_t": "unsigned short",
    "timer_t": "__kernel_timer_t",
    "clockid_t": "__kernel_clockid_t",
    "key_t": "__kernel_key_t",
    "mqd_t": "__kernel_mqd_t",
    "time_t": "__kernel_old_time_t",
    "old_time32_t": "__s32",
    "key_serial_t": "__s32",
    "rwf_t": "__kernel_rwf_t",
    "fd_set": "__kernel_fd_set",
    "old_sigset_t": "unsigned long",
    "uint32_t": "__u32", "uint64_t": "__u64", "int32_t": "__s32",
    "u8": "__u8", "u16": "__u16", "u32": "__u32", "u64": "__u64",
    "s8": "__s8", "s16": "__s16", "s32": "__s32", "s64": "__s64",
}

C_TYPE_WORDS = frozenset("""
    void char short int long signed unsigned float double _Bool
    const volatile restrict
""".split())

# The configuration include/linux/syscalls.h is read for: a generic 64-bit
# arch; every CONFIG_* / __ARCH_WANT_* test is false.
PP_VALUES = {"BITS_PER_LONG": 64}

PROTO_RE = re.compile(r"\basmlinkage\s+long\s+sys_(\w+)\s*\(([^)]*)\)\s*;")


def load_prefix_uapi():
    """prefix-uapi.py as a module: one tokenizer and one naming rule."""
    sys.dont_write_bytecode = True  # the source tree may be read-only
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
            "prefix_uapi", os.path.join(here, "prefix-uapi.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pp_eval(expr):
    """Value of an #if expression under PP_VALUES (unknown names are 0)."""
    expr = re.sub(r"\bdefined\s*\(?\s*(\w+)\s*\)?",
                  lambda m: "1" if m.group(1) in PP_VALUES else "0", expr)
    expr = re.sub(r"\b[A-Za-z_]\w*\b",
                  lambda m: str(PP_VALUES.get(m.group(), 0)), expr)
    if not re.fullmatch(r"[0-9\s()<>=!&|+*/-]*", expr):
        return False
    expr = expr.replace("&&", " and ").replace("||", " or ")
    expr = re.sub(r"!(?!=)", " not ", expr)
    try:
        return bool(eval(expr, {"__builtins__": {}}))
    except Exception:
        return False


def active_text(text):
    """TEXT with comments removed and inactive #if branches dropped."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
    text = text.replace("\\\n", " ")
    out = []
    stack = []  # (parent active, this branch active, any taken)
    live = True
    for line in text.split("\n"):
        m = re.match(r"\s*#\s*(\w+)\s*(.*)", line)
        if not m:
            if live:
                out.append(line)
            continue
        d, rest = m.group(1), m.group(2)
        if d in ("if", "ifdef", "ifndef"):
            if d == "if":
                v = pp_eval(rest)
            else:
                v = rest.split()[0] in PP_VALUES
                v = v if d == "ifdef" else not v
            stack.append((live, v, v))
            live = live and v
        elif d == "elif" and stack:
            parent, _, taken = stack.pop()
            v = not taken and pp_eval(rest)
            stack.append((parent, v, taken or v))
            live = parent and v
        elif d == "else" and stack:
            parent, _, taken = stack.pop()
            stack.append((parent, not taken, True))
            live = parent and not taken
        elif d == "endif" and stack:
            live = stack.pop()[0]
    return "\n".join(out)


def read_prototypes(srctree):
    path = os.path.join(srctree, "include/linux/syscalls.h")
    with open(path, encoding="utf-8") as f:
        text = active_text(f.read())
    protos = {}
    for m in PROTO_RE.finditer(text):
        name, params = m.group(1), " ".join(m.group(2).split())
        if name not in protos:
            protos[name] = params
    return protos


def read_table(srctree):
    """Syscall name -> entry point, from the generic syscall.tbl."""
    path = os.path.join(srctree, "scripts/syscall.tbl")
    entries = {}
    if not os.path.isfile(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split("#", 1)[0].split()
            if len(w) < 4 or w[1] in ("32", "time32", "stat64"):
                continue
            entries.setdefault(w[2], w[3])
    return entries


def read_unistd(path):
    nrs = []
    with open(path, encoding="utf-8") as f:
        for m in re.finditer(r"^\s*#\s*define\s+__NR_(\w+)\s+\S",
                             f.read(), re.M):
            if m.group(1) != "syscalls" and m.group(1) not in nrs:
                nrs.append(m.group(1))
    return nrs


class UapiIndex:
    """Where each prefixed tag and typedef is defined."""

    def __init__(self, pu, uapi_dir, lo, up):
        self.pu, self.lo, self.up = pu, lo, up
        self.tags = {}
        self.types = {}
        for root, dirs, files in os.walk(uapi_dir):
            dirs.sort()
            for fn in sorted(files):
                if not fn.endswith(".h") or fn == "syscalls.h":
                    continue
                path = os.path.join(root, fn)
                rel = os.path.relpath(path, uapi_dir)
                with open(path, encoding="utf-8") as f:
                    h = pu.Header(rel, f.read())
                for t in sorted(h.tags_def):
                    self.tags.setdefault(t, rel)
                for t in sorted(h.ordinary):
                    self.types.setdefault(t, rel)
        self.files = set(self._files(uapi_dir))
        if "asm/unistd.h" not in self.files:
            sys.exit("gen-syscalls: no %s/asm/unistd.h; run "
                     "prefix-uapi.py first" % uapi_dir)

    @staticmethod
    def _files(d):
        for root, _, files in os.walk(d):
            for fn in files:
                yield os.path.relpath(os.path.join(root, fn), d)

    def name(self, n):
        return self.pu.prefixed(n, self.lo, self.up)

    def public(self, rel):
        """The header a program should include to get REL's names.

        asm-generic headers are reached through the arch's asm/
        header of the same name, or through linux/types.h.
        """
        if not rel.startswith("asm-generic/"):
            return rel
        asm = "asm/" + rel[len("asm-generic/"):]
        return asm if asm in self.files else "linux/types.h"


class Mapper:
    """Turns one kernel parameter declaration into a prefixed C type."""

    def __init__(self, index):
        self.ix = index
        self.includes = set()
        self.unknown = set()

    def typedef(self, word):
        """Prefixed or plain spelling of type name WORD, or None."""
        seen = set()
        while word not in seen:
            seen.add(word)
            p = self.ix.name(word)
            if p in self.ix.types:
                self.includes.add(self.ix.public(
                        self.ix.types[p]))
                return p
            if word not in KERNEL_TYPES:
                return None
            word = KERNEL_TYPES[word]
            if all(w in C_TYPE_WORDS for w in word.split()):
                return word
        return None

    def param(self, decl):
        """The prefixed C type of one parameter declaration."""
        decl = re.sub(r"\b__user\b|\b__force\b", " ", decl)
        toks = re.findall(r"[A-Za-z_]\w*|\*|\[[^\]]*\]|\S", decl)
        arrays = [t for t in toks if t.startswith("[")]
        toks = [t for t in toks if not t.startswith("[")]
        if len(toks) > 1 and re.match(r"[A-Za-z_]", toks[-1]) and \
           toks[-1] not in C_TYPE_WORDS and \
           toks[-2] not in ("struct", "union", "enum"):
            words = [t for t in toks[:-1] if t not in
                     ("const", "volatile", "*")]
            if words:
                toks.pop()  # the parameter's name
        ptr = toks.count("*") + len(arrays)
        out = []
        opaque = False
        i = 0
        while i < len(toks):
            t = toks[i]
            if t in ("struct", "union", "enum") and i + 1 < len(toks):
                tag = toks[i + 1]
                p = self.ix.name(tag)
                if p in self.ix.tags:
                    self.includes.add(self.ix.public(
                            self.ix.tags[p]))
                    out.append("%s %s" % (t, p))
                else:
                    self.unknown.add("%s %s" % (t, tag))
                    opaque = True
                i += 2
                continue
            if t in C_TYPE_WORDS or t == "*":
                out.append(t)
            else:
                m = self.typedef(t)
                if m is None:
                    self.unknown.add(t)
                    opaque = True
                else:
                    out.append(m)
            i += 1
        out += ["*"] * len(arrays)
        if opaque:
            if ptr:
                lead = "const " if toks[0] == "const" else ""
                return lead + "void *"
            return "long"
        return join_type(out)


def join_type(toks):
    """C spelling of type tokens: "const char *const *"."""
    s = ""
    for t in toks:
        if t == "*":
            s += "*" if s.endswith("*") else " *"
        elif s.endswith("*"):
            s += t
        else:
            s += (" " if s else "") + t
    return s


def split_params(params):
    params = params.strip()
    if params in ("", "void"):
        return []
    return [p.strip() for p in params.split(",")]


def render(args, nrs, protos, table, mapper):
    lo, up = args.prefix.lower(), args.prefix.upper()
    guard = "__%s_SYSCALLS_H" % up
    body = []
    notes = []
    for name in nrs:
        nr = mapper.ix.name("__NR_" + name)
        entry = table.get(name, "sys_" + name)
        fn = "%s_sys_%s" % (lo, name)
        if name in ARCH_SYSCALLS:
            typed = ["long"] * ARCH_SYSCALLS[name]
            sig = "arch-specific; %d untyped arguments" % len(typed)
        elif entry.startswith("sys_") and entry[4:] in protos:
            raw = split_params(protos[entry[4:]])
            typed = [mapper.param(p) for p in raw]
            sig = "%s(%s)" % (entry, ", ".join(raw))
        else:
            typed = ["long"] * 6
            sig = "no prototype for %s; 6 untyped arguments" % entry
            notes.append(name)
        if len(typed) > 6:
            sys.exit("gen-syscalls: %s has %d arguments"
                     % (name, len(typed)))
        decl = ", ".join("%s%sa%d" % (t, "" if t.endswith("*") else " ",
                                      i + 1)
                         for i, t in enumerate(typed)) or "void"
        vals = ", ".join("(long)a%d" % (i + 1)
                         for i in range(len(typed))) or "0"
        body += ["",
                 "/* %s */" % sig,
                 "#ifdef %s" % nr,
                 "static inline long %s(%s)" % (fn, decl),
                 "{",
                 "\tlong p[6] = { %s };" % vals,
                 "",
                 "\treturn %s_syscall(%s, p);" % (lo, nr),
                 "}",
                 "#endif"]
    incs = ["asm/unistd.h"] + sorted(mapper.includes - {"asm/unistd.h"})
    head = ["/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */",
            "/*",
            " * Generated by kernel-lib/scripts/gen-syscalls.py; do not edit.",
            " * Typed wrappers around %s_syscall(), one per syscall number"
            % lo,
            " * of <%s/asm/unistd.h>; each returns the kernel's result, a"
            % lo,
            " * negative errno on failure.  %s.h declares %s_syscall() too;"
            % (lo, lo),
            " * it may define %s_SYSCALL_DECLARED to skip the copy below."
            % up,
            " */",
            "#ifndef " + guard,
            "#define " + guard,
            ""]
    head += ["#include <%s/%s>" % (lo, i) for i in incs]
    head += ["",
             "#if defined(__SIZEOF_LONG__) && __SIZEOF_LONG__ != 8",
             "#error \"%s syscall wrappers pass every argument in one long\""
             % lo,
             "#endif",
             "",
             "#ifndef %s_SYSCALL_DECLARED" % up,
             "#define %s_SYSCALL_DECLARED" % up,
             "long %s_syscall(long nr, long *params);" % lo,
             "#endif"]
    tail = ["", "#endif /* %s */" % guard, ""]
    return "\n".join(head + body + tail), notes


def main():
    ap = argparse.ArgumentParser(
            description="Generate typed syscall wrappers.")
    ap.add_argument("--srctree", required=True, help="Linux source tree")
    ap.add_argument("--unistd", required=True,
                    help="generated uapi unistd header with __NR_* numbers")
    ap.add_argument("--prefix", default="skl")
    ap.add_argument("--out", required=True,
                    help="output file, normally OUTDIR/PREFIX/syscalls.h")
    ap.add_argument("--uapi-dir",
                    help="prefixed headers (default: directory of --out)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    lo, up = args.prefix.lower(), args.prefix.upper()
    pu = load_prefix_uapi()
    uapi_dir = args.uapi_dir or os.path.dirname(os.path.abspath(args.out))
    index = UapiIndex(pu, uapi_dir, lo, up)
    mapper = Mapper(index)
    nrs = read_unistd(args.unistd)
    if not nrs:
        sys.exit("gen-syscalls: no __NR_ numbers in %s" % args.unistd)
    text, notes = render(args, nrs, read_prototypes(args.srctree),
                         read_table(args.srctree), mapper)
    if args.verbose or notes:
        for n in notes:
            print("gen-syscalls: warning: no prototype for %s" % n,
                  file=sys.stderr)
    if args.verbose and mapper.unknown:
        print("gen-syscalls: opaque types: %s"
              % " ".join(sorted(mapper.unknown)), file=sys.stderr)
    pu.write_if_changed(args.out, text)


if __name__ == "__main__":
    main()
