#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks of the prefixed uapi headers and the typed syscall wrappers.

The library kernel exports its uapi under <skl/...> (kernel-lib/scripts/
prefix-uapi.py) and one typed skl_sys_*() wrapper per syscall
(kernel-lib/scripts/gen-syscalls.py).  These cases check what a program
relies on: both headers compile in one translation unit with glibc's, they
define no name outside the skl namespace, the prefixed ABI matches the real
one, and the wrappers are typed.

Which headers are checked: if $SKL_HEADERS_DIR is set, the real generated
headers of our arch there (the directory holding skl/, or skl/ itself);
otherwise each case regenerates them into a temporary directory from a
riscv stand-in (a 64-bit asm-generic arch with the generic syscall table,
like ours), whose `make headers_install` output is cached across cases.
The Linux tree is $SKL_LINUX_SRC, default /tmp/ref/linux-source-6.12.

Protocol (tests/run-tests): `headers-test.py --list` prints the cases,
`headers-test.py CASE` runs one: exit 0 pass, 77 skip, anything else fail.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(TOP, "kernel-lib", "scripts")
PREFIX = "skl"
LINUX_SRC = os.environ.get("SKL_LINUX_SRC", "/tmp/ref/linux-source-6.12")
# The flags Shoal's own C code builds with (docs: STYLE.md, "Build").
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wshadow",
          "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wformat=2"]
# __NR_read in the generic syscall table (scripts/syscall.tbl) that both
# riscv and our arch use; read from the tree when it is there.
GENERIC_NR_READ = 63

LIBC_HEADERS = ["sys/socket.h", "netinet/in.h", "sys/stat.h", "fcntl.h",
                "signal.h", "time.h", "poll.h", "sys/epoll.h", "net/if.h",
                "sys/uio.h", "sys/mman.h", "sys/resource.h", "sys/un.h",
                "sys/utsname.h", "sys/eventfd.h", "sched.h", "errno.h"]


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


def need_tool(name):
    if shutil.which(name) is None:
        raise Skip("%s not found" % name)


def standin_install():
    """INSTALL_HDR_PATH of the riscv stand-in, made once and cached."""
    if not os.path.isfile(os.path.join(LINUX_SRC, "Makefile")):
        raise Skip("no Linux tree at %s (set SKL_LINUX_SRC)" % LINUX_SRC)
    need_tool("make")
    cache = os.path.join(tempfile.gettempdir(),
                         "skl-headers-test.%d" % os.getuid())
    key = re.sub(r"\W", "_", os.path.abspath(LINUX_SRC))
    final = os.path.join(cache, key)
    if os.path.isfile(os.path.join(final, "usr/include/asm/unistd_64.h")):
        return os.path.join(final, "usr")
    os.makedirs(cache, exist_ok=True)
    work = tempfile.mkdtemp(dir=cache)
    r = run(["make", "-s", "-C", LINUX_SRC, "O=" + work, "ARCH=riscv",
             "headers_install", "INSTALL_HDR_PATH=" + work + "/usr"])
    if r.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise Skip("make headers_install of the stand-in failed:\n"
                   + r.stderr[-2000:])
    try:
        os.rename(work, final)
    except OSError:             # another case won the race
        shutil.rmtree(work, ignore_errors=True)
    return os.path.join(final, "usr")


def generate(out):
    """Run both generators on the stand-in into OUT; their stderr."""
    usr = standin_install()
    src = os.path.join(usr, "include")
    cmds = [[sys.executable, os.path.join(SCRIPTS, "prefix-uapi.py"),
             "--src", src, "--out", out, "--prefix", PREFIX,
             "--srctree", LINUX_SRC],
            [sys.executable, os.path.join(SCRIPTS, "gen-syscalls.py"),
             "--srctree", LINUX_SRC,
             "--unistd", os.path.join(src, "asm/unistd_64.h"),
             "--prefix", PREFIX,
             "--out", os.path.join(out, PREFIX, "syscalls.h")]]
    errs = ""
    for cmd in cmds:
        r = run(cmd)
        if r.returncode != 0:
            raise Fail("%s failed:\n%s" % (" ".join(cmd), r.stderr))
        errs += r.stderr
    return errs


def headers_dir(tmp):
    """Directory to put on -I: the one holding skl/."""
    env = os.environ.get("SKL_HEADERS_DIR")
    if env:
        if os.path.isfile(os.path.join(env, "uapi.h")):
            env = os.path.dirname(os.path.abspath(env))
        if not os.path.isfile(os.path.join(env, PREFIX, "uapi.h")):
            raise Fail("SKL_HEADERS_DIR=%s has no %s/uapi.h"
                       % (env, PREFIX))
        return env
    generate(tmp)
    return tmp


def expected_nr_read():
    tbl = os.path.join(LINUX_SRC, "scripts/syscall.tbl")
    if os.path.isfile(tbl):
        with open(tbl) as f:
            for line in f:
                w = line.split()
                if len(w) >= 3 and w[2] == "read" and w[1] != "32":
                    return int(w[0])
    return GENERIC_NR_READ


def compile_c(tmp, inc, source, extra=()):
    need_tool("gcc")
    path = os.path.join(tmp, "t.c")
    with open(path, "w") as f:
        f.write(source)
    return run(["gcc"] + CFLAGS + ["-I", inc] + list(extra) +
               ["-c", path, "-o", os.path.join(tmp, "t.o")])


def must_compile(tmp, inc, source):
    r = compile_c(tmp, inc, source)
    if r.returncode != 0:
        raise Fail("compile failed:\n" + r.stderr[-4000:])


def libc_includes():
    return "".join("#include <%s>\n" % h for h in LIBC_HEADERS)


SKL_INCLUDES = "#include <skl/uapi.h>\n#include <skl/syscalls.h>\n"


def case_libc_then_skl(tmp):
    """glibc headers first, then ours, in one translation unit."""
    inc = headers_dir(tmp)
    must_compile(tmp, inc, libc_includes() + SKL_INCLUDES +
                 "int skl_test_dummy;\n")


def case_skl_then_libc(tmp):
    """Ours first, then glibc's: guards and names must not collide."""
    inc = headers_dir(tmp)
    must_compile(tmp, inc, SKL_INCLUDES + libc_includes() +
                 "int skl_test_dummy;\n")


def case_alone(tmp):
    """Each header compiles on its own, without any libc header."""
    inc = headers_dir(tmp)
    must_compile(tmp, inc, "#include <skl/syscalls.h>\n"
                 "int skl_test_dummy;\n")
    must_compile(tmp, inc, "#include <skl/uapi.h>\n"
                 "int skl_test_dummy;\n")


def prefixed_ok(name):
    return name.lstrip("_").lower().startswith(PREFIX + "_")


def skl_text(tmp, inc):
    """Preprocessed (-dD) text that comes from files under skl/."""
    need_tool("gcc")
    path = os.path.join(tmp, "scan.c")
    with open(path, "w") as f:
        f.write(SKL_INCLUDES)
    r = run(["gcc", "-std=gnu11", "-E", "-dD", "-I", inc, path])
    if r.returncode != 0:
        raise Fail("preprocessing failed:\n" + r.stderr[-4000:])
    root = os.path.join(os.path.realpath(inc), PREFIX) + os.sep
    keep, out = False, []
    for line in r.stdout.split("\n"):
        m = re.match(r'# \d+ "([^"]*)"', line)
        if m:
            keep = os.path.realpath(m.group(1)).startswith(root)
            continue
        if keep:
            out.append(line)
    return "\n".join(out)


def defined_names(text):
    """(kind, name) of everything TEXT defines."""
    found = set()
    for m in re.finditer(r"^\s*#\s*define\s+(\w+)", text, re.M):
        found.add(("macro", m.group(1)))
    code = "\n".join(l for l in text.split("\n")
                     if not l.lstrip().startswith("#"))
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
    for m in re.finditer(r"\b(struct|union|enum)\s+(\w+)", code):
        found.add((m.group(1), m.group(2)))
    for m in re.finditer(r"\benum\s+(?:\w+\s*)?\{([^}]*)\}", code):
        for e in re.finditer(r"(?:^|,)\s*(\w+)", m.group(1)):
            found.add(("enumerator", e.group(1)))
    for m in re.finditer(r"\bstatic\s+(?:__inline__|inline)\b[^;{]*?"
                         r"(\w+)\s*\(", code):
        found.add(("function", m.group(1)))
    # typedef ... NAME; with bodies and attributes dropped.
    flat = code
    while True:
        new = re.sub(r"\{[^{}]*\}", " ", flat)
        if new == flat:
            break
        flat = new
    flat = re.sub(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)", " ", flat)
    for m in re.finditer(r"\btypedef\b([^;]*);", flat):
        decl = re.sub(r"\[[^\]]*\]", "", m.group(1))
        fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
        if fp:
            found.add(("typedef", fp.group(1)))
            continue
        decl = decl.split("(")[0]
        for part in decl.split(","):
            ids = re.findall(r"\w+", part)
            if ids:
                found.add(("typedef", ids[-1]))
    return found


def case_no_unprefixed_names(tmp):
    """Every macro, tag, typedef, enumerator and function is prefixed."""
    inc = headers_dir(tmp)
    names = defined_names(skl_text(tmp, inc))
    if not any(k == "typedef" for k, _ in names) or \
       ("macro", "SKL_AF_INET") not in names:
        raise Fail("scanner found too little; is the output complete?")
    # Macros in branches the compiler did not take count too.
    for d, _, files in os.walk(os.path.join(inc, PREFIX)):
        for fn in files:
            with open(os.path.join(d, fn)) as f:
                text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
                for m in re.finditer(r"^\s*#\s*define\s+(\w+)", text,
                                     re.M):
                    names.add(("macro", m.group(1)))
    bad = sorted("%s %s" % (k, n) for k, n in names if not prefixed_ok(n))
    if bad:
        raise Fail("unprefixed definitions:\n  " + "\n  ".join(bad))


def case_abi_matches(tmp):
    """Prefixed sizes and constants equal glibc's and the syscall table's."""
    inc = headers_dir(tmp)
    checks = [
        "sizeof(struct skl_sockaddr_in) == sizeof(struct sockaddr_in)",
        "sizeof(struct skl_sockaddr_in6) == sizeof(struct sockaddr_in6)",
        "sizeof(struct skl_sockaddr_un) == sizeof(struct sockaddr_un)",
        "sizeof(struct skl_sockaddr) == sizeof(struct sockaddr)",
        "sizeof(struct skl_iovec) == sizeof(struct iovec)",
        "sizeof(struct skl_pollfd) == sizeof(struct pollfd)",
        "sizeof(struct skl_ifreq) == sizeof(struct ifreq)",
        "sizeof(struct __skl__kernel_timespec) == sizeof(struct timespec)",
        "SKL_AF_INET == AF_INET",
        "SKL_AF_INET6 == AF_INET6",
        "SKL_AF_NETLINK == AF_NETLINK",
        "(int)SKL_SOCK_STREAM == (int)SOCK_STREAM",
        "SKL_SOCK_CLOEXEC == SOCK_CLOEXEC",
        "SKL_O_RDWR == O_RDWR",
        "SKL_EPOLLIN == EPOLLIN",
        "SKL_POLLIN == POLLIN",
        "SKL_SIGTERM == SIGTERM",
        "SKL_S_IFDIR == S_IFDIR",
        "SKL_IFNAMSIZ == IFNAMSIZ",
        "SKL_ENOENT == ENOENT",
        "__skl__NR_read == %d" % expected_nr_read(),
    ]
    src = libc_includes() + SKL_INCLUDES + "".join(
        '_Static_assert(%s, "%s");\n' % (c, c.replace('"', "'"))
        for c in checks)
    must_compile(tmp, inc, src)


TYPED = """
long skl_syscall(long nr, long *params);
long use(void);

long use(void)
{
	char buf[8];
	struct skl_stat st;

	return skl_sys_read(0, %s, sizeof(buf)) + skl_sys_fstat(0, &st);
}
"""


def case_typed_wrappers(tmp):
    """skl_sys_read exists, and a wrong pointer type is an error."""
    inc = headers_dir(tmp)
    must_compile(tmp, inc, libc_includes() + SKL_INCLUDES + TYPED % "buf")
    r = compile_c(tmp, inc, libc_includes() + SKL_INCLUDES +
                  TYPED % "(int *)buf")
    if r.returncode == 0:
        raise Fail("skl_sys_read accepted an int * buffer")
    if "skl_sys_read" not in r.stderr:
        raise Fail("unexpected diagnostic:\n" + r.stderr[-2000:])


def case_deterministic(tmp):
    """The generators are fast and give identical output on a rerun."""
    outs = []
    for i in range(2):
        out = os.path.join(tmp, "run%d" % i)
        standin_install()
        start = time.monotonic()
        generate(out)
        took = time.monotonic() - start
        if took > 5:
            raise Fail("generation took %.1f s (limit 5 s)" % took)
        outs.append(out)
    a, b = snapshot(outs[0]), snapshot(outs[1])
    if a != b:
        diff = sorted(set(a.items()) ^ set(b.items()))
        raise Fail("outputs differ: %s" % ", ".join(k for k, _ in diff[:10]))


def snapshot(root):
    files = {}
    for d, dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                files[os.path.relpath(p, root)] = f.read()
    return files


CASES = [
    ("libc-then-skl", case_libc_then_skl),
    ("skl-then-libc", case_skl_then_libc),
    ("alone", case_alone),
    ("no-unprefixed-names", case_no_unprefixed_names),
    ("abi-matches", case_abi_matches),
    ("typed-wrappers", case_typed_wrappers),
    ("deterministic", case_deterministic),
]


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        for name, _ in CASES:
            print(name)
        return 0
    cases = dict(CASES)
    if len(argv) != 2 or argv[1] not in cases:
        sys.stderr.write("usage: %s --list | CASE\n" % argv[0])
        return 2
    tmp = tempfile.mkdtemp(prefix="skl-headers-test.")
    try:
        cases[argv[1]](tmp)
    except Skip as e:
        sys.stderr.write("skip: %s\n" % e)
        return 77
    except Fail as e:
        sys.stderr.write("%s: %s\n" % (argv[1], e))
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
