/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_ATOMIC_H
#define _ASM_SKL_ATOMIC_H

#include <linux/types.h>
#include <asm/cmpxchg.h>
#include <asm/barrier.h>

/* atomic_t and atomic64_t on the host's atomic instructions. */

#define ATOMIC64_INIT(i)	{ (i) }

#define arch_atomic_read(v)	__atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define arch_atomic_set(v, i)	__atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)
#define arch_atomic64_read(v)	__atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define arch_atomic64_set(v, i)	__atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)

#define SKL_ATOMIC_OP(pfx, type, op)					\
static __always_inline void arch_##pfx##_##op(type i, pfx##_t *v)	\
{									\
	__atomic_fetch_##op(&v->counter, i, __ATOMIC_RELAXED);		\
}									\
static __always_inline type arch_##pfx##_fetch_##op(type i, pfx##_t *v)	\
{									\
	return __atomic_fetch_##op(&v->counter, i, __ATOMIC_SEQ_CST);	\
}

#define SKL_ATOMIC_RETURN(pfx, type, op)				\
static __always_inline type arch_##pfx##_##op##_return(type i, pfx##_t *v) \
{									\
	return __atomic_##op##_fetch(&v->counter, i, __ATOMIC_SEQ_CST);	\
}

SKL_ATOMIC_OP(atomic, int, add)
SKL_ATOMIC_OP(atomic, int, sub)
SKL_ATOMIC_OP(atomic, int, and)
SKL_ATOMIC_OP(atomic, int, or)
SKL_ATOMIC_OP(atomic, int, xor)
SKL_ATOMIC_RETURN(atomic, int, add)
SKL_ATOMIC_RETURN(atomic, int, sub)
SKL_ATOMIC_OP(atomic64, s64, add)
SKL_ATOMIC_OP(atomic64, s64, sub)
SKL_ATOMIC_OP(atomic64, s64, and)
SKL_ATOMIC_OP(atomic64, s64, or)
SKL_ATOMIC_OP(atomic64, s64, xor)
SKL_ATOMIC_RETURN(atomic64, s64, add)
SKL_ATOMIC_RETURN(atomic64, s64, sub)

#define arch_atomic_add arch_atomic_add
#define arch_atomic_sub arch_atomic_sub
#define arch_atomic_and arch_atomic_and
#define arch_atomic_or arch_atomic_or
#define arch_atomic_xor arch_atomic_xor
#define arch_atomic_fetch_add arch_atomic_fetch_add
#define arch_atomic_fetch_sub arch_atomic_fetch_sub
#define arch_atomic_fetch_and arch_atomic_fetch_and
#define arch_atomic_fetch_or arch_atomic_fetch_or
#define arch_atomic_fetch_xor arch_atomic_fetch_xor
#define arch_atomic_add_return arch_atomic_add_return
#define arch_atomic_sub_return arch_atomic_sub_return
#define arch_atomic64_add arch_atomic64_add
#define arch_atomic64_sub arch_atomic64_sub
#define arch_atomic64_and arch_atomic64_and
#define arch_atomic64_or arch_atomic64_or
#define arch_atomic64_xor arch_atomic64_xor
#define arch_atomic64_fetch_add arch_atomic64_fetch_add
#define arch_atomic64_fetch_sub arch_atomic64_fetch_sub
#define arch_atomic64_fetch_and arch_atomic64_fetch_and
#define arch_atomic64_fetch_or arch_atomic64_fetch_or
#define arch_atomic64_fetch_xor arch_atomic64_fetch_xor
#define arch_atomic64_add_return arch_atomic64_add_return
#define arch_atomic64_sub_return arch_atomic64_sub_return

#define arch_atomic_xchg(v, n)		arch_xchg(&(v)->counter, (n))
#define arch_atomic_cmpxchg(v, o, n)	arch_cmpxchg(&(v)->counter, (o), (n))
#define arch_atomic64_xchg(v, n)	arch_xchg(&(v)->counter, (n))
#define arch_atomic64_cmpxchg(v, o, n)	arch_cmpxchg(&(v)->counter, (o), (n))

#endif
