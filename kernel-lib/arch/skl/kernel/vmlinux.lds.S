/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linker script for the library kernel. The kernel is linked with -r into
 * one relocatable object that the host linker places later, so there is no
 * load address and no entry point here: only the kernel's special sections
 * (initcalls, setup and parameter tables, per-cpu data, ...) gathered with
 * the start/end symbols generic code looks for.
 */
#include <asm/vmlinux.lds.h>
#include <asm/page.h>
#include <asm/cache.h>
#include <asm/thread_info.h>

OUTPUT_FORMAT("elf64-x86-64")

jiffies = jiffies_64;

SECTIONS
{
	__init_begin = .;
	HEAD_TEXT_SECTION
	INIT_TEXT_SECTION(PAGE_SIZE)
	INIT_DATA_SECTION(16)
	PERCPU_SECTION(L1_CACHE_BYTES)
	__init_end = .;

	_stext = .;
	_text = .;
	.text : {
		TEXT_TEXT
		SCHED_TEXT
		LOCK_TEXT
		IRQENTRY_TEXT
		SOFTIRQENTRY_TEXT
	}
	_etext = .;

	EXCEPTION_TABLE(16)

	_sdata = .;
	RO_DATA(PAGE_SIZE)
	RW_DATA(L1_CACHE_BYTES, PAGE_SIZE, THREAD_SIZE)
	_edata = .;

	BSS_SECTION(0, 0, 0)
	_end = .;

	STABS_DEBUG
	DWARF_DEBUG
	ELF_DETAILS

	DISCARDS
	/DISCARD/ : {
		*(.modinfo)
		*(.eh_frame)
	}
}
