// SPDX-License-Identifier: GPL-2.0
/*
 * cpu.c: which CPU the calling thread runs on, cheaply. slot.c compares it
 * with the serving thread's CPU (job_abi.h's server_cpu hint) to decide
 * whether spinning for an answer can help at all.
 */
#include "instance/jobshim/cpu.h"

#include <stdint.h>

/*
 * The CPU this thread runs on, without a system call: RDPID, or RDTSCP's
 * TSC_AUX (Linux keeps the CPU number in its low 12 bits); -1 when the CPU
 * has neither (then every call spins, as before the hint existed). Which
 * one is decided once, with CPUID.
 */
#define CPU_HOW_UNKNOWN 0
#define CPU_HOW_RDPID 1
#define CPU_HOW_RDTSCP 2
#define CPU_HOW_NONE 3
static int cpu_how;

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

long cpu_current(void)
{
	int how = __atomic_load_n(&cpu_how, __ATOMIC_RELAXED);
	uint64_t aux;

	if (how == CPU_HOW_UNKNOWN) {
		uint32_t r[4];

		how = CPU_HOW_NONE;
		cpuid(0, 0, r);
		if (r[0] >= 7) {
			cpuid(7, 0, r);
			if (r[2] & (1u << 22))
				how = CPU_HOW_RDPID;
		}
		if (how == CPU_HOW_NONE) {
			cpuid(0x80000000u, 0, r);
			if (r[0] >= 0x80000001u) {
				cpuid(0x80000001u, 0, r);
				if (r[3] & (1u << 27))
					how = CPU_HOW_RDTSCP;
			}
		}
		__atomic_store_n(&cpu_how, how, __ATOMIC_RELAXED);
	}
	if (how == CPU_HOW_RDPID) {
		__asm__ volatile("rdpid %0" : "=r"(aux));
	} else if (how == CPU_HOW_RDTSCP) {
		uint32_t lo, hi, c;

		__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
		aux = c;
	} else {
		return -1;
	}
	return (long)(aux & 0xfff);
}
