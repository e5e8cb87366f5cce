/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_CMPXCHG_H
#define _ASM_SKL_CMPXCHG_H

/*
 * Real host atomics (GCC builtins) rather than the uniprocessor versions
 * that only mask IRQs: a few kernel words are also touched by host threads
 * that do not hold the CPU, and the builtins cost no more.
 */
#define arch_xchg(ptr, x)						\
	__atomic_exchange_n((ptr), (x), __ATOMIC_SEQ_CST)

#define arch_cmpxchg(ptr, o, n)						\
({									\
	__typeof__(*(ptr)) __old = (o);					\
	__atomic_compare_exchange_n((ptr), &__old, (n), 0,		\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);\
	__old;								\
})

#define arch_cmpxchg_local(ptr, o, n)	arch_cmpxchg((ptr), (o), (n))
#define arch_cmpxchg64(ptr, o, n)	arch_cmpxchg((ptr), (o), (n))
#define arch_cmpxchg64_local(ptr, o, n)	arch_cmpxchg((ptr), (o), (n))
#define arch_cmpxchg_relaxed(ptr, o, n)	arch_cmpxchg((ptr), (o), (n))

#endif
