/* SPDX-License-Identifier: GPL-2.0 */
/*
 * start.S: the pieces of the shim that must be assembly: the process entry
 * (the kernel leaves argc at %rsp and no return address), the signal
 * restorer (rt_sigreturn, in shim text so the filter lets it through even
 * when it would not anyway), the final jump into the program with the stack
 * the loader built, and the fast entry that rewritten call sites reach.
 */
	.text
	.globl _start
	.type _start, @function
_start:
	xor %ebp, %ebp
	mov %rsp, %rdi		/* shim_main(initial stack) */
	and $-16, %rsp
	call shim_main
	hlt

	.globl shim_restorer
	.type shim_restorer, @function
shim_restorer:
	mov $15, %eax		/* __NR_rt_sigreturn */
	syscall
	hlt

	/* shim_jump(entry, sp): the ELF entry contract: %rsp at argc, %rdx =
	 * 0 (no rtld_fini for a static program), other registers cleared. */
	.globl shim_jump
	.type shim_jump, @function
shim_jump:
	mov %rsi, %rsp
	mov %rdi, %rax
	xor %edx, %edx
	xor %ecx, %ecx
	xor %ebx, %ebx
	xor %ebp, %ebp
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	jmp *%rax

	/* shim_fast_entry: called by the stub of a rewritten call site
	 * (patch.c) with the call's number in %eax and its arguments where
	 * the syscall instruction takes them. Like the kernel, it keeps every
	 * register but %rax (the result), %rcx and %r11. The program's stack
	 * may be misaligned at a syscall: aligned here for the C code. */
	.globl shim_fast_entry
	.type shim_fast_entry, @function
shim_fast_entry:
	push %rbp
	mov %rsp, %rbp
	and $-16, %rsp
	push %r9
	push %r8
	push %r10
	push %rdx
	push %rsi
	push %rdi		/* args[0..5] at %rsp, in syscall order */
	mov %rsp, %rsi
	mov %rax, %rdi
	call handler_fast_call	/* (nr, args): it copies args, we restore them */
	pop %rdi
	pop %rsi
	pop %rdx
	pop %r10
	pop %r8
	pop %r9
	leave
	ret

	.section .note.GNU-stack, "", @progbits
