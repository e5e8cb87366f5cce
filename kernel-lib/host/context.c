// SPDX-License-Identifier: GPL-2.0
/*
 * Execution contexts for the host operations: a stack of our own and the
 * callee-saved registers, switched in user space. Kernel threads are
 * contexts that all take turns on one host thread, so a switch between two
 * of them costs a few instructions instead of a futex wake and a host
 * scheduler pass (~2 us on one vCPU, ~40 us across two), and an idle
 * kernel thread costs a stack, not a host thread.
 *
 * x86-64 System V only: the switch saves rbx, rbp, r12-r15, the MXCSR and
 * the x87 control word (everything a callee must preserve) and the stack
 * pointer. Signals are not touched: the runner thread blocks them all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <skl.h>

#include "kernel-lib/host/host.h"

#if !defined(__x86_64__)
#error "kernel-lib contexts are written for x86-64"
#endif

struct skl_context {
	void *sp; /* saved stack pointer; the registers sit on the stack */
	void *stack; /* mapping, guard page first; NULL for a save area */
	size_t stack_size; /* size of the mapping */
	void (*fn)(void *);
	void *arg;
};

void ctx_switch_asm(void **save_sp, void *load_sp);
void ctx_entry_asm(void);

/*
 * ctx_switch_asm(&from->sp, to->sp): push the callee-saved state, store the
 * stack pointer, load the other one, pop its state, return into it.
 * ctx_entry_asm is where a new context "returns" to the first time: r12
 * holds the context, and the C entry never returns.
 */
__asm__(".text\n"
	".globl ctx_switch_asm\n"
	".type ctx_switch_asm, @function\n"
	"ctx_switch_asm:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	subq $8, %rsp\n"
	"	stmxcsr (%rsp)\n"
	"	fnstcw 4(%rsp)\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	ldmxcsr (%rsp)\n"
	"	fldcw 4(%rsp)\n"
	"	addq $8, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size ctx_switch_asm, .-ctx_switch_asm\n"
	".globl ctx_entry_asm\n"
	".type ctx_entry_asm, @function\n"
	"ctx_entry_asm:\n"
	"	movq %r12, %rdi\n"
	"	call ctx_start\n"
	"	ud2\n"
	".size ctx_entry_asm, .-ctx_entry_asm\n");

void ctx_start(struct skl_context *ctx) __attribute__((noreturn, used));

void ctx_start(struct skl_context *ctx)
{
	ctx->fn(ctx->arg);
	/* A kernel thread's function never returns: it ends by switching
	 * away for good. */
	abort();
}

struct skl_context *host_context_alloc(void (*fn)(void *), void *arg,
				       unsigned long stack_size)
{
	struct skl_context *ctx = calloc(1, sizeof(*ctx));
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t *sp;
	char *stack;

	if (!ctx || !fn)
		return ctx;
	stack_size = (stack_size + page - 1) & ~(page - 1);
	stack = mmap(NULL, stack_size + page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
		     -1, 0);
	if (stack == MAP_FAILED) {
		free(ctx);
		return NULL;
	}
	/* A guard page below the stack turns an overflow into a crash. */
	mprotect(stack, page, PROT_NONE);
	ctx->stack = stack;
	ctx->stack_size = stack_size + page;
	ctx->fn = fn;
	ctx->arg = arg;

	/*
	 * The first switch-in pops what ctx_switch_asm pushes, then returns
	 * into ctx_entry_asm with the stack pointer at the 16-byte aligned
	 * top, so that its call enters ctx_start aligned as the ABI wants.
	 */
	sp = (uint64_t *)(stack + stack_size + page);
	*--sp = (uint64_t)ctx_entry_asm; /* return address */
	*--sp = 0; /* rbp */
	*--sp = 0; /* rbx */
	*--sp = (uint64_t)ctx; /* r12: ctx_entry_asm's argument */
	*--sp = 0; /* r13 */
	*--sp = 0; /* r14 */
	*--sp = 0; /* r15 */
	*--sp = 0x037f00001f80ULL; /* MXCSR default, x87 control word default */
	ctx->sp = sp;
	return ctx;
}

void host_context_free(struct skl_context *ctx)
{
	if (!ctx)
		return;
	if (ctx->stack)
		munmap(ctx->stack, ctx->stack_size);
	free(ctx);
}

void host_context_switch(struct skl_context *from, struct skl_context *to)
{
	ctx_switch_asm(&from->sp, to->sp);
}
