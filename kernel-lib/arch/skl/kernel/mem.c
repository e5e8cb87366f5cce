// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's RAM: one block the host allocates at boot (mem= on the
 * command line, 64 MiB by default). Physical addresses are host virtual
 * addresses, so the block is handed to memblock where it lies and the
 * buddy allocator takes it all after boot. Pages the kernel never touches
 * cost the host nothing.
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

	memblock_add(start, skl_ram_size);
	min_low_pfn = PFN_UP(start);
	max_low_pfn = max_pfn = PFN_DOWN(end);
	high_memory = (void *)end;

	empty_zero_page = memblock_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!empty_zero_page)
		panic("skl: no zero page\n");

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
