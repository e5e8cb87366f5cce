// SPDX-License-Identifier: GPL-2.0
/*
 * loader.c: the shim loads the program itself instead of letting the kernel
 * do it, because the kernel's execve would drop the shim: the program must
 * start with the shim's SIGSYS handler installed and the shim's text still
 * mapped at SHOAL_SHIM_BASE. So this file does what fs/binfmt_elf.c and
 * fs/binfmt_script.c do for a static or dynamic x86-64 program: follow
 * `#!` lines, map the PT_LOAD segments of the program and of its PT_INTERP
 * (ld.so), zero their bss, build a new stack (argc, argv, envp, auxv) and
 * jump to the entry point of the interpreter, or of the program when it is
 * static. A program that lives in the instance is read through forwarded
 * calls and copied into anonymous memory (its pages cannot be mapped). It
 * runs once per shim start, single-threaded, so its scratch buffers are
 * static.
 */
#include "instance/jobshim/loader.h"

#include "instance/jobshim/forward.h"
#include "instance/jobshim/lib.h"
#include "instance/jobshim/shim.h"
#include "instance/jobshim/sys.h"

#define LOADER_HEAD 256 /* like BINPRM_BUF_SIZE: the `#!` line must fit */
#define LOADER_MAX_PHDRS 64
#define LOADER_SCRIPT_DEPTH 4 /* `#!` interpreters that are scripts themselves */
#define LOADER_STACK (8UL << 20)
#define PAGE_DOWN(x) ((x) & ~(SHIM_PAGE - 1))
#define PAGE_UP(x) (((x) + SHIM_PAGE - 1) & ~(SHIM_PAGE - 1))

/* Defined in start.S: switch to @sp and jump to @entry with rdx = 0. */
void shim_jump(unsigned long entry, unsigned long sp) __attribute__((noreturn));

struct loaded {
	unsigned long base; /* load bias (0 for ET_EXEC) */
	unsigned long entry;
	unsigned long phdr; /* address of the program headers in memory */
	unsigned long phnum;
};

struct elf_image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[LOADER_MAX_PHDRS];
};

static struct elf_image loader_prog, loader_interp;
static char loader_interp_path[4096];
static char loader_script_line[LOADER_SCRIPT_DEPTH][LOADER_HEAD + 1];

static long read_exact(const struct loader_file *f, void *buf, size_t len, long off)
{
	long r = loader_pread(f, buf, len, off);

	if (r < 0)
		return r;
	return (size_t)r == len ? 0 : -ENOEXEC;
}

/* Read and check the ELF header and program headers of @fd into @img. */
static long elf_read(const struct loader_file *fd, struct elf_image *img)
{
	Elf64_Ehdr *eh = &img->eh;
	long r = read_exact(fd, eh, sizeof(*eh), 0);

	if (r)
		return r;
	if (shim_memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64 ||
	    (eh->e_type != ET_EXEC && eh->e_type != ET_DYN) ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phnum > LOADER_MAX_PHDRS)
		return -ENOEXEC;
	return read_exact(fd, img->ph, eh->e_phnum * sizeof(Elf64_Phdr), (long)eh->e_phoff);
}

static int elf_prot(uint32_t flags)
{
	return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
	       ((flags & PF_X) ? PROT_EXEC : 0);
}

/*
 * Map the PT_LOAD segments of @img from @fd. The whole span is reserved
 * first (PROT_NONE): for ET_EXEC with MAP_FIXED_NOREPLACE at its link
 * address, so a program that would land on the shim or anything else fails
 * cleanly; for ET_DYN wherever the kernel puts it. Segments are then mapped
 * with MAP_FIXED inside the reservation, as the kernel's loader does.
 */
static long elf_map(const struct loader_file *fd, const struct elf_image *img, struct loaded *out)
{
	const Elf64_Ehdr *eh = &img->eh;
	unsigned long lo = ~0UL, hi = 0, base = 0;
	long r;
	int i;

	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];

		if (p->p_type != PT_LOAD || !p->p_memsz)
			continue;
		if (p->p_filesz > p->p_memsz || (p->p_vaddr - p->p_offset) % SHIM_PAGE)
			return -ENOEXEC;
		if (PAGE_DOWN(p->p_vaddr) < lo)
			lo = PAGE_DOWN(p->p_vaddr);
		if (PAGE_UP(p->p_vaddr + p->p_memsz) > hi)
			hi = PAGE_UP(p->p_vaddr + p->p_memsz);
	}
	if (lo >= hi)
		return -ENOEXEC;
	if (eh->e_type == ET_EXEC) {
		r = shim_mmap(lo, hi - lo, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (r < 0)
			return r;
		if ((unsigned long)r != lo)
			return -ENOEXEC; /* an old kernel ignoring the flag */
	} else {
		r = shim_mmap(0, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r < 0)
			return r;
		base = (unsigned long)r - lo;
	}

	out->phdr = 0;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];
		unsigned long start = base + PAGE_DOWN(p->p_vaddr);
		unsigned long file_end = base + p->p_vaddr + p->p_filesz;
		unsigned long mem_end = base + p->p_vaddr + p->p_memsz;
		int prot = elf_prot(p->p_flags);

		if (p->p_type == PT_PHDR)
			out->phdr = base + p->p_vaddr;
		if (p->p_type != PT_LOAD || !p->p_memsz)
			continue;
		/* The headers are in the segment that maps file offset e_phoff. */
		if (!out->phdr && eh->e_phoff >= p->p_offset &&
		    eh->e_phoff < p->p_offset + p->p_filesz)
			out->phdr = base + p->p_vaddr + (eh->e_phoff - p->p_offset);
		if (p->p_filesz) {
			/* Writable while the bss tail of the last file page is zeroed. */
			int tail = mem_end > file_end && (file_end % SHIM_PAGE);

			r = loader_map(fd, start, PAGE_UP(file_end) - start,
				       prot | (tail ? PROT_WRITE : 0), MAP_PRIVATE | MAP_FIXED,
				       (long)PAGE_DOWN(p->p_offset));
			if (r < 0)
				return r;
			if (tail) {
				shim_memset((void *)file_end, 0, PAGE_UP(file_end) - file_end);
				if (!(prot & PROT_WRITE))
					shim_mprotect(start, PAGE_UP(file_end) - start, prot);
			}
		} else {
			file_end = start;
		}
		if (PAGE_UP(mem_end) > PAGE_UP(file_end)) {
			r = shim_mmap(PAGE_UP(file_end), PAGE_UP(mem_end) - PAGE_UP(file_end), prot,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (r < 0)
				return r;
		}
	}
	out->base = base;
	out->entry = base + eh->e_entry;
	out->phnum = eh->e_phnum;
	return 0;
}

/*
 * Parse a `#!` line in @line (NUL-terminated, at most LOADER_HEAD bytes of
 * the file) the way binfmt_script does: the interpreter is the first word,
 * the optional argument is the rest of the line without its surrounding
 * blanks, as one word. Returns 0 or -ENOEXEC.
 */
static long script_parse(char *line, size_t len, char **interp, char **arg)
{
	char *p = line + 2, *end, *e;

	end = line;
	while ((size_t)(end - line) < len && *end != '\n')
		end++;
	if ((size_t)(end - line) == len && len == LOADER_HEAD)
		return -ENOEXEC; /* the line does not fit: Linux refuses too */
	*end = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return -ENOEXEC;
	*interp = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	*arg = NULL;
	if (*p) {
		*p++ = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		e = end;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (*p)
			*arg = p;
	}
	return 0;
}

static unsigned long count(char *const *v)
{
	unsigned long n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* Copy the string @s below *@top on the new stack; returns its address. */
static unsigned long push_str(unsigned long *top, const char *s)
{
	size_t len = shim_strlen(s) + 1;

	*top -= len;
	shim_memcpy((void *)*top, s, len);
	return *top;
}

/*
 * Build the new stack. The program sees @npre leading arguments from @pre
 * (the `#!` interpreters and their arguments, then the script's path), then
 * @argv from its second entry on (or from its first when @npre is 0).
 */
static long stack_build(const char *const *pre, unsigned long npre, char *const *argv,
			char *const *envp, const struct loaded *prog, const struct loaded *interp,
			const char *execfn, unsigned long *sp_out)
{
	unsigned long argc0 = count(argv), envc = count(envp), skip = npre ? 1 : 0;
	unsigned long argc = npre + (argc0 > skip ? argc0 - skip : 0);
	unsigned long strbytes = 0, i, words, top, sp, *w, *strs, nstr, rnd, plat = 0, fn;
	const struct shim_aux *aux = &shim_g.aux;
	long r;

	for (i = 0; i < npre; i++)
		strbytes += shim_strlen(pre[i]) + 1;
	for (i = skip; i < argc0; i++)
		strbytes += shim_strlen(argv[i]) + 1;
	for (i = 0; i < envc; i++)
		strbytes += shim_strlen(envp[i]) + 1;
	if (strbytes + (argc + envc) * 8 > LOADER_STACK / 4)
		return -E2BIG;

	r = shim_mmap(0, LOADER_STACK, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (r < 0)
		return r;
	top = (unsigned long)r + LOADER_STACK;

	/* Strings at the top, as the kernel lays them out. */
	fn = push_str(&top, execfn);
	top -= 16;
	rnd = top;
	r = sys3(__NR_getrandom, (long)rnd, 16, 0);
	if (r != 16)
		return r < 0 ? r : -EIO;
	if (aux->platform)
		plat = push_str(&top, (const char *)aux->platform);

	/*
	 * The argument and environment strings go below those; their new
	 * addresses are collected in a temporary array just under the fixed
	 * strings (the stack has room: E2BIG above bounds everything).
	 */
	strs = (unsigned long *)(PAGE_DOWN(top) - (argc + envc + 1) * 8);
	top = (unsigned long)strs - 8;
	nstr = 0;
	for (i = 0; i < npre; i++)
		strs[nstr++] = push_str(&top, pre[i]);
	for (i = skip; i < argc0; i++)
		strs[nstr++] = push_str(&top, argv[i]);
	for (i = 0; i < envc; i++)
		strs[nstr++] = push_str(&top, envp[i]);

	/* Words: argc, argv + NULL, envp + NULL, up to 24 auxv pairs; the
	 * stack pointer at argc is 16-byte aligned, as the ABI wants. */
	words = 1 + argc + 1 + envc + 1 + 2 * 24;
	sp = (top - words * 8) & ~15UL;
	w = (unsigned long *)sp;
	*w++ = argc;
	for (i = 0; i < argc; i++)
		*w++ = strs[i];
	*w++ = 0;
	for (i = 0; i < envc; i++)
		*w++ = strs[argc + i];
	*w++ = 0;
#define AUX(k, v)                          \
	do {                               \
		*w++ = (unsigned long)(k); \
		*w++ = (unsigned long)(v); \
	} while (0)
	AUX(AT_PHDR, prog->phdr);
	AUX(AT_PHENT, sizeof(Elf64_Phdr));
	AUX(AT_PHNUM, prog->phnum);
	AUX(AT_PAGESZ, SHIM_PAGE);
	AUX(AT_BASE, interp ? interp->base : 0);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, prog->entry);
	AUX(AT_UID, aux->uid);
	AUX(AT_EUID, aux->euid);
	AUX(AT_GID, aux->gid);
	AUX(AT_EGID, aux->egid);
	AUX(AT_SECURE, 0);
	AUX(AT_RANDOM, rnd);
	AUX(AT_HWCAP, aux->hwcap);
	AUX(AT_HWCAP2, aux->hwcap2);
	AUX(AT_CLKTCK, aux->clktck ? aux->clktck : 100);
	AUX(AT_EXECFN, fn);
	if (plat)
		AUX(AT_PLATFORM, plat);
	if (aux->minsigstksz)
		AUX(AT_MINSIGSTKSZ, aux->minsigstksz);
	if (aux->sysinfo_ehdr)
		AUX(AT_SYSINFO_EHDR, aux->sysinfo_ehdr);
	if (aux->rseq_size)
		AUX(27 /* AT_RSEQ_FEATURE_SIZE */, aux->rseq_size);
	if (aux->rseq_align)
		AUX(28 /* AT_RSEQ_ALIGN */, aux->rseq_align);
	AUX(AT_NULL, 0);
#undef AUX
	*sp_out = sp;
	return 0;
}

/*
 * Map the ELF file @path into @img/@out; its PT_INTERP path, if any, goes to
 * @interp (NULL: a PT_INTERP is refused, as for an interpreter itself).
 */
static long elf_load(const char *path, struct elf_image *img, struct loaded *out, char *interp)
{
	struct loader_file f;
	long r;
	int i;

	r = loader_open(path, &f);
	if (r)
		return r;
	r = elf_read(&f, img);
	if (!r)
		r = elf_map(&f, img, out);
	if (interp)
		interp[0] = 0;
	for (i = 0; !r && i < img->eh.e_phnum; i++) {
		const Elf64_Phdr *p = &img->ph[i];

		if (p->p_type != PT_INTERP)
			continue;
		if (!interp || p->p_filesz < 2 || p->p_filesz > sizeof(loader_interp_path)) {
			r = -ENOEXEC;
			break;
		}
		r = read_exact(&f, interp, p->p_filesz, (long)p->p_offset);
		interp[p->p_filesz - 1] = 0;
		break;
	}
	loader_close(&f);
	return r;
}

/*
 * What /proc/self/exe will say: an absolute path (static glibc asserts it).
 * A relative one resolved where relative paths do: in the instance kernel's
 * cwd, or the host's in passthrough mode.
 */
static void note_exe(const char *cur)
{
	char cwd[sizeof(shim_g.exe)];
	size_t n, m = shim_strlen(cur);
	long r;

	shim_g.exe[0] = 0;
	if (cur[0] == '/') {
		if (m < sizeof(shim_g.exe))
			shim_memcpy(shim_g.exe, cur, m + 1);
		return;
	}
	r = shim_g.passthrough ? sys2(__NR_getcwd, (long)cwd, sizeof(cwd))
			       : forward_getcwd(cwd, sizeof(cwd));
	if (r <= 0)
		return;
	n = shim_strlen(cwd);
	if (n == 1)
		n = 0; /* "/" */
	if (n + 1 + m >= sizeof(shim_g.exe))
		return;
	shim_memcpy(shim_g.exe, cwd, n);
	shim_g.exe[n] = '/';
	shim_memcpy(shim_g.exe + n + 1, cur, m + 1);
}

static const char *base_name(const char *p)
{
	const char *b = p;

	for (; *p; p++) {
		if (*p == '/' && p[1])
			b = p + 1;
	}
	return b;
}

long loader_exec(const char *path, char *const *argv, char *const *envp)
{
	/* Leading arguments: per script level, interpreter [+ arg], and the
	 * script path last; the deepest interpreter ends up first. */
	const char *pre[LOADER_SCRIPT_DEPTH * 3 + 1];
	const char *cur = path;
	unsigned long npre = 0, i;
	struct loaded prog, interp;
	int depth, host;
	long r, sp_r;
	unsigned long sp;
	char *head;
	const char *tmp[LOADER_SCRIPT_DEPTH * 3 + 1];

	for (depth = 0;; depth++) {
		char *ip, *arg;
		unsigned long k;

		if (depth > LOADER_SCRIPT_DEPTH)
			return -ELOOP;
		head = loader_script_line[depth < LOADER_SCRIPT_DEPTH ? depth : 0];
		r = loader_read_head(cur, head, LOADER_HEAD, &host);
		if (r < 0)
			return r;
		head[r] = 0;
		if (r >= 4 && !shim_memcmp(head, ELFMAG, SELFMAG))
			break;
		if (r < 2 || head[0] != '#' || head[1] != '!' || depth == LOADER_SCRIPT_DEPTH)
			return -ENOEXEC;
		r = script_parse(head, (size_t)r, &ip, &arg);
		if (r)
			return r;
		/* New leading arguments: interp [arg] cur, then the old ones
		 * without their first (which was the old interpreter's script
		 * position already replaced). Build into tmp, copy back. */
		k = 0;
		tmp[k++] = ip;
		if (arg)
			tmp[k++] = arg;
		tmp[k++] = cur;
		for (i = 1; i < npre; i++)
			tmp[k++] = pre[i];
		for (i = 0; i < k; i++)
			pre[i] = tmp[i];
		npre = k;
		cur = ip;
	}
	/* The first leading argument of a script chain replaces argv[0]; the
	 * script path replaces nothing: stack_build skips argv[0] only. */

	r = elf_load(cur, &loader_prog, &prog, loader_interp_path);
	if (r)
		return r;
	note_exe(cur);
	interp.base = 0;
	if (loader_interp_path[0]) {
		r = elf_load(loader_interp_path, &loader_interp, &interp, NULL);
		if (r)
			return r;
	}
	sp_r = stack_build(pre, npre, argv, envp, &prog, interp.base ? &interp : NULL, path, &sp);
	if (sp_r)
		return sp_r;
	sys2(__NR_prctl, PR_SET_NAME, (long)base_name(path));
	shim_jump(interp.base ? interp.entry : prog.entry, sp);
}
