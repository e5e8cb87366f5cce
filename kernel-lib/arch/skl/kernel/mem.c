// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's RAM: one block the host allocates at boot (mem= on the
 * command line, 64 MiB by default). Physical addresses are offsets into the
 * block (asm/page.h); the buddy allocator takes all of it after boot but
 * the first page, the zero page. Pages the kernel never touches cost the
 * host nothing.
 */
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/swap.h>
#include <asm/skl.h>

unsigned long skl_ram_start, skl_ram_size;
static void *ram_block;
static unsigned long ram_block_size = 64 << 20;
void *empty_zero_page;

static int __init skl_mem_param(char *arg)
{
	unsigned long size = memparse(arg, &arg);

	if (size < (16 << 20) || size > (1UL << 40))
		return -EINVAL;
	ram_block_size = size;
	return 0;
}
early_param("mem", skl_mem_param);

void __init skl_bootmem_init(void)
{
	unsigned long max_zone_pfn[MAX_NR_ZONES] = { 0 };
	unsigned long start, end;

	ram_block = skl_ops->ram_alloc(ram_block_size);
	if (!ram_block)
		panic("skl: cannot get %lu bytes of RAM from the host\n",
		      ram_block_size);
	start = PAGE_ALIGN((unsigned long)ram_block);
	end = (unsigned long)ram_block + ram_block_size;
	end &= PAGE_MASK;
	skl_ram_start = start;
	skl_ram_size = end - start;

	memblock_add(0, skl_ram_size);
	min_low_pfn = 0;
	max_low_pfn = max_pfn = PFN_DOWN(skl_ram_size);
	high_memory = (void *)end;

	/* Physical 0 must never be handed out: it reads as "no memory". */
	memblock_reserve(0, PAGE_SIZE);
	empty_zero_page = __va(0);

	max_zone_pfn[ZONE_NORMAL] = max_pfn;
	free_area_init(max_zone_pfn);
}

void __init mem_init(void)
{
	memblock_free_all();
}

/* Init sections live in the host executable, not in RAM: nothing to free. */
void free_initmem(void)
{
}

void skl_bootmem_exit(void)
{
	if (ram_block)
		skl_ops->ram_free(ram_block, ram_block_size);
	ram_block = NULL;
}
