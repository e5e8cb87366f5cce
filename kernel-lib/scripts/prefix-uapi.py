#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Export the library kernel's uapi headers under a private namespace.
#
# A program that links the library kernel talks to two kernels at once: the
# host's, through libc, and ours, through skl_syscall().  Both use the same
# names (AF_INET, struct stat, __NR_read ...), usually with the same values
# but not always with the same layout, so the library's copy of the uapi
# headers must not collide with libc's.  This script takes the headers that
# `make headers_install` produced, copies the closure reachable from a list of
# root headers into OUTDIR/<prefix>/, points every #include at the copies and
# renames every identifier the header set defines (macros, typedefs,
# struct/union/enum tags, enumerators, static inline functions, include
# guards) with the rule documented at prefixed() below.  Identifiers that the
# set only uses -- C keywords, compiler built-ins, libc's <stddef.h> types --
# are left alone.  The output is deterministic and is rewritten only where it
# changed, so make does not rebuild needlessly.
#
# Usage: prefix-uapi.py --src INSTALL_HDR_PATH/include --out OUTDIR
#                       [--prefix skl] [ROOT ...]

import argparse
import os
import re
import sys

# The root headers a library-kernel user needs: syscall numbers, the types
# in the syscall signatures (kernel-lib/scripts/gen-syscalls.py maps
# sys_*() argument types onto these), file systems, sockets, and the
# netlink/routing/tun/virtio-net interfaces the network setup code speaks.
# uapi has no dirent header; struct linux_dirent64, like AF_INET, comes from
# <PREFIX/kernel-abi.h> (KERNEL_ABI below).  Roots an installed tree lacks
# are skipped (-v says which); roots named on the command line must exist.
ROOT_HEADERS = [
    # syscall numbers and basic types
    "asm/unistd.h",
    "linux/types.h",
    "linux/errno.h",
    # files and file systems
    "linux/fcntl.h",
    "linux/stat.h",
    "asm/stat.h",
    "asm/statfs.h",
    "linux/fs.h",
    "linux/mount.h",
    "linux/openat2.h",
    "linux/uio.h",
    "linux/aio_abi.h",
    "linux/xattr.h",
    "linux/falloc.h",
    "linux/limits.h",
    # memory
    "linux/mman.h",
    # sockets and networking
    "linux/socket.h",
    "linux/net.h",
    "linux/in.h",
    "linux/in6.h",
    "linux/un.h",
    "linux/if.h",
    "linux/if_ether.h",
    "linux/if_packet.h",
    "linux/if_tun.h",
    "linux/netlink.h",
    "linux/rtnetlink.h",
    "linux/if_link.h",
    "linux/if_addr.h",
    "linux/neighbour.h",
    "linux/route.h",
    "linux/sockios.h",
    "linux/virtio_net.h",
    # events and polling
    "linux/eventpoll.h",
    "linux/eventfd.h",
    "linux/poll.h",
    "linux/futex.h",
    # time
    "linux/time.h",
    "linux/time_types.h",
    "linux/times.h",
    "linux/timex.h",
    # processes, signals, scheduling, resources, identity
    "linux/signal.h",
    "linux/sched.h",
    "linux/sched/types.h",
    "linux/resource.h",
    "linux/capability.h",
    "linux/utsname.h",
    "linux/sysinfo.h",
    "linux/reboot.h",
    "linux/random.h",
    # argument types of further syscalls, so their wrappers are typed
    "linux/io_uring.h",
    "linux/mqueue.h",
    "linux/rseq.h",
    "linux/landlock.h",
    "linux/lsm.h",
    "linux/kexec.h",
]

# Names that are never renamed even if a header happens to #define them
# (linux/coda.h does "#define __inline__" for DJGPP): C keywords, GCC's
# alternate keyword spellings and the preprocessor's own operators.  Only
# identifiers the header set defines are renamed at all, so compiler
# built-ins it merely tests or uses (__GNUC__, __x86_64__, __SIZEOF_LONG__,
# __builtin_bswap32 ...) stay untouched without being listed; the
# RESERVED_PREFIXES guard the "#ifndef __has_builtin"-style fallbacks.
C_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern
    float for goto if inline int long register restrict return short signed
    sizeof static struct switch typedef union unsigned void volatile while
    _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn
    _Static_assert _Thread_local asm typeof defined __extension__
    __restrict __restrict__ __inline __inline__ __signed __signed__
    __volatile __volatile__ __asm __asm__ __typeof __typeof__ __alignof
    __alignof__ __const __const__ __label__ __attribute __attribute__
    __int128 __auto_type __VA_ARGS__ __VA_OPT__
""".split())
RESERVED_PREFIXES = ("__builtin_", "__has_", "__GNUC", "__STDC", "__clang",
                     "__SIZEOF_", "__ORDER_", "__BYTE_ORDER__")

# Struct members whose names glibc turns into macros (<sys/stat.h> has
# "#define st_atime st_atim.tv_sec", <signal.h> has "#define sa_handler
# __sigaction_handler.sa_handler").  Once libc is included first such a
# member cannot be declared or accessed under its own name, so these members
# are renamed like any defined identifier (st_atime -> skl_st_atime).
LIBC_MEMBER_MACROS = frozenset([
    "st_atime", "st_mtime", "st_ctime",
    "sa_handler", "sa_sigaction",
])

# Macros uapi headers test to detect libc (linux/libc-compat.h,
# linux/stat.h).  The prefixed copies never clash with libc, so they must
# always define everything: the macros are treated as undefined.
LIBC_DETECT_MACROS = ("__GLIBC__",)

# Headers of the C implementation itself that uapi headers may include;
# they define nothing a program could clash with, so they stay as they are.
STD_HEADERS = frozenset([
    "stddef.h", "stdint.h", "limits.h", "string.h", "stdarg.h",
    "stdbool.h", "float.h",
])

# Types uapi headers borrow from libc: linux/if.h says "#include
# <sys/socket.h> for struct sockaddr", linux/vm_sockets.h uses sa_family_t.
# Every #include of a header that is neither in the set nor in STD_HEADERS
# is pointed at <PREFIX/libc-types.h> instead, generated from this text with
# the kernel's layout and prefixed like the rest.
LIBC_TYPES_HEADER = "libc-types.h"
LIBC_TYPES = """\
/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Types the uapi headers take from libc, with the kernel's layout
 * (see LIBC_TYPES in prefix-uapi.py).
 */
#ifndef _LIBC_TYPES_H
#define _LIBC_TYPES_H

#include <linux/socket.h>

typedef __kernel_sa_family_t sa_family_t;

struct sockaddr {
	sa_family_t sa_family;
	char sa_data[14];
};

#endif /* _LIBC_TYPES_H */
"""

# Kernel ABI that is not in uapi because libc traditionally owns it: address
# families, socket types and flags, message flags and levels, and the
# structures recvmsg/sendmmsg/getdents64 take.  With --srctree these are
# lifted from the kernel sources into <PREFIX/kernel-abi.h> and prefixed
# like the rest (AF_INET -> SKL_AF_INET, struct user_msghdr ->
# struct skl_user_msghdr).  Each entry: (file, kind, what), kind being
# "define" (regex on the macro name; macros defined more than once in the
# file, i.e. configuration-dependent ones, are skipped), "struct" or "enum".
KERNEL_ABI = [
    ("include/linux/socket.h", "define",
     r"(AF|PF|MSG|SOL|SCM)_\w+|SOMAXCONN"),
    ("include/linux/socket.h", "struct", "linger"),
    ("include/linux/socket.h", "struct", "user_msghdr"),
    ("include/linux/socket.h", "struct", "mmsghdr"),
    ("include/linux/socket.h", "struct", "cmsghdr"),
    ("include/linux/socket.h", "struct", "ucred"),
    ("include/linux/net.h", "enum", "sock_type"),
    ("include/linux/net.h", "define",
     r"SOCK_(MAX|TYPE_MASK|CLOEXEC|NONBLOCK)"),
    ("include/linux/dirent.h", "struct", "linux_dirent64"),
]
KERNEL_ABI_HEADER = "kernel-abi.h"
KERNEL_ABI_INCLUDES = ["linux/types.h", "linux/socket.h", "linux/uio.h",
                       "linux/fcntl.h"]

TOKEN_RE = re.compile(r"""
         (?P<comment>/\*.*?\*/|//[^\n]*)
        |(?P<nl>\n)
        |(?P<ws>(?:[ \t\r\f\v]|\\\n)+)
        |(?P<str>"(?:\\.|[^"\\\n])*")
        |(?P<chr>'(?:\\.|[^'\\\n])*')
        |(?P<num>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
        |(?P<id>[A-Za-z_][A-Za-z0-9_]*)
        |(?P<punct>.)
""", re.S | re.X)

INCLUDE_RE = re.compile(r'^(\s*#\s*include\s*)<([^>]+)>', re.M)


def is_reserved(name):
    """True for names the compiler or C owns (see C_KEYWORDS)."""
    return name in C_KEYWORDS or name.startswith(RESERVED_PREFIXES)


def prefixed(name, lo, up):
    """The one renaming rule, applied to every kind of identifier.

    Leading underscores stay in front, the prefix follows in upper case if
    the name has no lower-case letter and in lower case otherwise, then the
    original name; a name without leading underscores gets an underscore
    between prefix and name:
      AF_INET -> SKL_AF_INET     sockaddr_in -> skl_sockaddr_in
      _IOC    -> _SKL_IOC        __NR_read   -> __skl__NR_read
      __u32   -> __skl__u32      __BITS_PER_LONG -> __SKL__BITS_PER_LONG
    """
    bare = name.lstrip("_")
    lead = name[:len(name) - len(bare)]
    p = lo if any(c.islower() for c in name) else up
    return lead + p + (name if lead else "_" + name)


def has_prefix(name, lo):
    return name.lstrip("_").lower().startswith(lo + "_")


class Header:
    """One header: its tokens and what it defines, uses and includes."""

    def __init__(self, rel, text):
        self.rel = rel
        self.kinds = []
        self.texts = []
        for m in TOKEN_RE.finditer(text):
            self.kinds.append(m.lastgroup)
            self.texts.append(m.group())
        self.macros = set()
        self.ordinary = set()  # typedefs, enumerators, functions
        self.tags_def = set()
        self.tags_ref = set()
        self.includes = []
        # (first token, end token, directive, macro parameter names)
        self.directives = []
        self._scan()

    def _scan(self):
        kinds, texts = self.kinds, self.texts
        code = []
        line_start = True
        i, n = 0, len(kinds)
        while i < n:
            k = kinds[i]
            if k == "nl":
                line_start = True
                i += 1
                continue
            if k in ("ws", "comment"):
                i += 1
                continue
            if line_start and texts[i] == "#":
                j = i
                while j < n and kinds[j] != "nl":
                    j += 1
                self._directive(i, j)
                i = j
                continue
            line_start = False
            code.append(i)
            i += 1
        self._parse_code([texts[c] for c in code],
                         [kinds[c] for c in code])

    def _directive(self, start, end):
        sig = [i for i in range(start + 1, end)
               if self.kinds[i] not in ("ws", "comment")]
        if not sig:
            return
        what = self.texts[sig[0]]
        params = frozenset()
        if what == "include":
            raw = "".join(self.texts[start:end])
            m = re.search(r'<([^>]+)>', raw)
            if m:
                self.includes.append(m.group(1).strip())
        elif what == "define" and len(sig) > 1:
            name_i = sig[1]
            self.macros.add(self.texts[name_i])
            body = sig[2:]
            if name_i + 1 < end and self.texts[name_i + 1] == "(":
                close = next(j for j, i in enumerate(body)
                             if self.texts[i] == ")")
                params = frozenset(
                        self.texts[i] for i in body[:close]
                        if self.kinds[i] == "id")
                body = body[close + 1:]
            # Tags named in macro bodies: _IOR(..., struct foo).
            for a, b in zip(body, body[1:]):
                if self.texts[a] in ("struct", "union", "enum") \
                   and self.kinds[b] == "id" and \
                   self.texts[b] not in params:
                    self.tags_ref.add(self.texts[b])
        self.directives.append((start, end, what, params))

    def _parse_code(self, t, k):
        n = len(t)
        depth = 0
        i = 0

        def skip_group(j):
            """j at an opening bracket: index after its match."""
            pairs = {"(": ")", "[": "]", "{": "}"}
            opener, closer, d = t[j], pairs[t[j]], 0
            while j < n:
                if t[j] == opener:
                    d += 1
                elif t[j] == closer:
                    d -= 1
                    if d == 0:
                        return j + 1
                j += 1
            return j

        def skip_attrs(j):
            while (j < n and t[j] in ("__attribute__", "__attribute")
                   and j + 1 < n and t[j + 1] == "("):
                j = skip_group(j + 1)
            return j

        while i < n:
            w = t[i]
            if w == "extern" and i + 2 < n and t[i + 1] == '"C"' and \
               t[i + 2] == "{":
                i += 3  # C++ linkage block: its contents are file scope
                continue
            if w in ("struct", "union", "enum"):
                j = skip_attrs(i + 1)
                if j < n and k[j] == "id":
                    self.tags_ref.add(t[j])
                    if j + 1 < n and t[j + 1] == "{":
                        self.tags_def.add(t[j])
                    j += 1
                if w == "enum" and j < n and t[j] == "{":
                    self._enumerators(t, k, j, skip_group(j))
            elif w == "typedef" and depth == 0:
                j = i + 1
                while j < n and t[j] != ";":
                    if t[j] in ("(", "[", "{"):
                        j = skip_group(j)
                    else:
                        j += 1
                self._typedef(t[i + 1:j], k[i + 1:j])
            elif w == "static" and depth == 0:
                self._static(t, k, i + 1, skip_attrs)
            if w == "{":
                depth += 1
            elif w == "}":
                depth -= 1
            i += 1

    def _enumerators(self, t, k, start, end):
        expect = True
        d = 0
        for j in range(start + 1, end - 1):
            w = t[j]
            if w in ("(", "[", "{"):
                d += 1
            elif w in (")", "]", "}"):
                d -= 1
            elif w == "," and d == 0:
                expect = True
                continue
            if expect and d == 0 and k[j] == "id":
                self.ordinary.add(w)
                expect = False
            elif expect and k[j] != "id":
                expect = False

    def _typedef(self, t, k):
        # Flatten: drop brace bodies and attribute groups, keep the rest.
        flat = []
        j, n = 0, len(t)
        while j < n:
            if t[j] == "{":
                d = 0
                while j < n:
                    d += t[j] == "{"
                    d -= t[j] == "}"
                    j += 1
                    if d == 0:
                        break
                continue
            if t[j] in ("__attribute__", "__attribute") and \
               j + 1 < n and t[j + 1] == "(":
                d = 0
                j += 1
                while j < n:
                    d += t[j] == "("
                    d -= t[j] == ")"
                    j += 1
                    if d == 0:
                        break
                continue
            flat.append((t[j], k[j]))
            j += 1
        # Split into declarators at top-level commas.
        segs, cur, d = [], [], 0
        for w, kind in flat:
            if w in ("(", "["):
                d += 1
            elif w in (")", "]"):
                d -= 1
            if w == "," and d == 0:
                segs.append(cur)
                cur = []
            else:
                cur.append((w, kind))
        segs.append(cur)
        for seg in segs:
            words = [w for w, _ in seg]
            name = None
            for j in range(len(seg) - 2):
                if words[j] == "(" and words[j + 1] == "*" and \
                   seg[j + 2][1] == "id":
                    name = words[j + 2]
                    break
            if name is None:
                head = []
                d = 0
                for w, kind in seg:
                    if w == "(" and d == 0:
                        break
                    if w == "[":
                        d += 1
                    elif w == "]":
                        d -= 1
                    elif d == 0:
                        head.append((w, kind))
                ids = [w for w, kind in head if kind == "id"]
                if ids:
                    name = ids[-1]
            if name:
                self.ordinary.add(name)

    def _static(self, t, k, j, skip_attrs):
        """A static function or object: its name is the last identifier
        before its parameter list or initializer."""
        n = len(t)
        last = None
        while j < n:
            j = skip_attrs(j)
            if j >= n:
                return
            w = t[j]
            if w == "(" and last:
                self.ordinary.add(last)
                return
            if w in ("=", ";", "["):
                if last:
                    self.ordinary.add(last)
                return
            last = w if k[j] == "id" else last
            j += 1

    def render(self, rename, incmap):
        """The header's text with identifiers and includes rewritten."""
        texts = list(self.texts)
        # Token index -> names left alone there: a whole #include line
        # (None), or the parameters of a function-like macro.
        keep = {}
        for start, end, what, params in self.directives:
            if what == "include" or params:
                for i in range(start, end):
                    keep[i] = params if what != "include" else None
        for i, kind in enumerate(self.kinds):
            if kind != "id":
                continue
            w = texts[i]
            if i in keep and (keep[i] is None or w in keep[i]):
                continue
            texts[i] = rename.get(w, w)
        # Directive-level rewrites: includes and libc detection.
        for start, end, what, _ in reversed(self.directives):
            raw = "".join(texts[start:end])
            if what == "include":
                raw = INCLUDE_RE.sub(
                        lambda m: m.group(1) + "<" +
                        incmap.get(m.group(2).strip(),
                                   m.group(2)) + ">", raw)
            elif what in ("if", "elif", "ifdef", "ifndef"):
                raw = libc_undetect(raw, what)
            texts[start:end] = [raw] + [""] * (end - start - 1)
        return "".join(texts)


def libc_undetect(raw, what):
    for mac in LIBC_DETECT_MACROS:
        if not re.search(r"\b%s\b" % mac, raw):
            continue
        note = " /* %s: never defined for prefixed headers */" % mac
        if what in ("ifdef", "ifndef"):
            val = "0" if what == "ifdef" else "1"
            raw = re.sub(r"#(\s*)%s\s+%s\b" % (what, mac),
                         r"#\1if " + val, raw) + note
        else:
            raw = re.sub(r"\bdefined\s*\(\s*%s\s*\)|\bdefined\s+%s\b|"
                         r"\b%s\b" % (mac, mac, mac), "0", raw) + note
    return raw


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def kernel_abi(srctree):
    """Text of the synthetic header described at KERNEL_ABI."""
    out = ["/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */",
           "/*",
           " * Kernel ABI that uapi leaves to libc, lifted from the kernel",
           " * sources (see KERNEL_ABI in prefix-uapi.py).",
           " */",
           "#ifndef _KERNEL_ABI_H",
           "#define _KERNEL_ABI_H", ""]
    out += ["#include <%s>" % inc for inc in KERNEL_ABI_INCLUDES]
    cache = {}
    for path, kind, what in KERNEL_ABI:
        if path not in cache:
            with open(os.path.join(srctree, path),
                      encoding="utf-8") as f:
                cache[path] = strip_comments(
                        f.read().replace("\\\n", " "))
        text = cache[path]
        out.append("")
        out.append("/* from %s */" % path)
        if kind == "define":
            found = re.findall(r"^[ \t]*#[ \t]*define[ \t]+(%s)\b"
                               r"([^\n]*)" % what, text, re.M)
            count = {}
            for m in found:
                count[m[0]] = count.get(m[0], 0) + 1
            for m in found:
                if count[m[0]] == 1:
                    out.append("#define %s\t%s" %
                               (m[0], m[-1].strip()))
            continue
        m = re.search(r"^%s\s+%s\s*\{" % (kind, what), text, re.M)
        if not m:
            sys.exit("prefix-uapi: no %s %s in %s"
                     % (kind, what, path))
        depth, j = 0, m.end() - 1
        while True:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        body = text[m.start():text.index(";", j) + 1]
        body = re.sub(r"\s*\b__user\b", "", body)
        body = re.sub(r"\b([us])(8|16|32|64)\b", r"__\1\2", body)
        out.append(re.sub(r"[ \t]+\n", "\n", body))
    out += ["", "#endif /* _KERNEL_ABI_H */", ""]
    return "\n".join(out)


def collect(src, roots, extra=None):
    """Breadth-first closure of the roots over #include <...>.

    EXTRA maps synthetic header names to their text; they are roots too.
    Includes that do not resolve inside SRC (libc's) are not followed.
    """
    extra = extra or {}
    headers = {}
    queue = list(roots) + sorted(extra)
    while queue:
        rel = queue.pop(0)
        if rel in headers:
            continue
        if rel in extra:
            text = extra[rel]
        else:
            with open(os.path.join(src, rel), encoding="utf-8") as f:
                text = f.read()
        h = headers[rel] = Header(rel, text)
        for inc in h.includes:
            if inc not in headers and inc not in queue and \
               os.path.isfile(os.path.join(src, inc)):
                queue.append(inc)
    return headers


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return True


def banner(text, origin):
    note = "/* Generated by kernel-lib/scripts/prefix-uapi.py%s; " \
           "do not edit. */\n" % (" from <%s>" % origin if origin else "")
    first, sep, rest = text.partition("\n")
    if "SPDX-License-Identifier" in first:
        return first + sep + note + rest
    return note + text


def main():
    ap = argparse.ArgumentParser(
            description="Copy uapi headers under a private prefix.")
    ap.add_argument("--src", required=True,
                    help="INSTALL_HDR_PATH/include of headers_install")
    ap.add_argument("--out", required=True,
                    help="output directory; headers go to OUT/PREFIX/")
    ap.add_argument("--prefix", default="skl")
    ap.add_argument("--srctree",
                    help="kernel source tree, for <PREFIX/kernel-abi.h>")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("roots", nargs="*", metavar="ROOT")
    args = ap.parse_args()

    lo, up = args.prefix.lower(), args.prefix.upper()
    if args.roots:
        roots = args.roots
        for r in roots:
            if not os.path.isfile(os.path.join(args.src, r)):
                sys.exit("prefix-uapi: root <%s> not found in %s"
                         % (r, args.src))
    else:
        roots = []
        for r in ROOT_HEADERS:
            if os.path.isfile(os.path.join(args.src, r)):
                if r not in roots:
                    roots.append(r)
            elif args.verbose:
                print("prefix-uapi: no <%s>, skipped" % r,
                      file=sys.stderr)

    extra = {LIBC_TYPES_HEADER: LIBC_TYPES}
    if args.srctree:
        extra[KERNEL_ABI_HEADER] = kernel_abi(args.srctree)
    headers = collect(args.src, roots, extra)

    names = set(LIBC_MEMBER_MACROS)
    tags_ref, tags_def = set(), set()
    for h in headers.values():
        names |= h.macros | h.ordinary
        tags_ref |= h.tags_ref
        tags_def |= h.tags_def
    names |= tags_ref
    names = {w for w in names if not is_reserved(w) and
             not has_prefix(w, lo)}
    rename = {w: prefixed(w, lo, up) for w in names}

    if args.verbose:
        undef = sorted(tags_ref - tags_def)
        print("prefix-uapi: tags used but not defined: %s"
              % " ".join(undef), file=sys.stderr)

    incmap = {rel: "%s/%s" % (lo, rel) for rel in headers}
    libc_hdr = "%s/%s" % (lo, LIBC_TYPES_HEADER)
    for h in headers.values():
        for inc in h.includes:
            if inc not in headers and inc not in STD_HEADERS:
                incmap[inc] = libc_hdr

    base = os.path.join(args.out, lo)
    for rel in sorted(headers):
        text = headers[rel].render(rename, incmap)
        write_if_changed(os.path.join(base, rel),
                         banner(text, None if rel in extra else rel))

    write_if_changed(os.path.join(base, "uapi.h"),
                     umbrella(lo, up, roots + sorted(extra)))


def umbrella(lo, up, roots):
    guard = "__%s_UAPI_H" % up
    out = ["/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */",
           "/*",
           " * Generated by kernel-lib/scripts/prefix-uapi.py; do not edit.",
           " * Every exported uapi root header of the library kernel.",
           " */",
           "#ifndef " + guard,
           "#define " + guard, ""]
    out += ["#include <%s/%s>" % (lo, r) for r in roots]
    out += ["", "#endif /* %s */" % guard]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
