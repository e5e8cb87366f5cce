/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_DELAY_H
#define _ASM_SKL_DELAY_H

/* Busy waits measured on the host clock (time.c). */
void skl_ndelay(unsigned long ns);

#define ndelay(n)	skl_ndelay(n)
#define udelay(n)	skl_ndelay((n) * 1000UL)
#define mdelay(n)	skl_ndelay((n) * 1000000UL)

static inline void __delay(unsigned long loops)
{
	skl_ndelay(loops);
}

#endif
