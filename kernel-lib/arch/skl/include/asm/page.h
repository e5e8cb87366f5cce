/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_SKL_PAGE_H
#define _ASM_SKL_PAGE_H

#include <linux/const.h>

#define PAGE_SHIFT	12
#define PAGE_SIZE	(_AC(1, UL) << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))

#ifndef __ASSEMBLY__

/*
 * No MMU. RAM is one block the host allocated at boot, at skl_ram_start in
 * the host's address space; "physical" addresses count from the start of
 * that block, so pfns run from 0 to the RAM size. (With physical == host
 * virtual, pfns would start in the billions and boot would walk every
 * pageblock below the block: 30 ms of nothing.) Physical page 0 is the zero
 * page, so no allocation ever returns physical address 0.
 */
extern unsigned long skl_ram_start, skl_ram_size;

#define PAGE_OFFSET		(skl_ram_start)
#define ARCH_PFN_OFFSET		(0UL)

typedef struct { unsigned long pte; } pte_t;
typedef struct { unsigned long pmd; } pmd_t;
typedef struct { unsigned long pgd; } pgd_t;
typedef struct { unsigned long pgprot; } pgprot_t;
typedef struct page *pgtable_t;

#define pte_val(x)	((x).pte)
#define pmd_val(x)	((x).pmd)
#define pgd_val(x)	((x).pgd)
#define pgprot_val(x)	((x).pgprot)
#define __pte(x)	((pte_t) { (x) })
#define __pmd(x)	((pmd_t) { (x) })
#define __pgd(x)	((pgd_t) { (x) })
#define __pgprot(x)	((pgprot_t) { (x) })

#define clear_page(page)	memset((page), 0, PAGE_SIZE)
#define copy_page(to, from)	memcpy((to), (from), PAGE_SIZE)
#define clear_user_page(page, vaddr, pg)	clear_page(page)
#define copy_user_page(to, from, vaddr, pg)	copy_page(to, from)

#define __pa(vaddr)		((unsigned long)(vaddr) - PAGE_OFFSET)
#define __va(paddr)		((void *)((unsigned long)(paddr) + PAGE_OFFSET))

static inline unsigned long virt_to_pfn(const void *kaddr)
{
	return __pa(kaddr) >> PAGE_SHIFT;
}

static inline void *pfn_to_virt(unsigned long pfn)
{
	return __va(pfn << PAGE_SHIFT);
}

#define virt_to_page(addr)	pfn_to_page(virt_to_pfn(addr))
#define page_to_virt(page)	pfn_to_virt(page_to_pfn(page))
#define page_to_phys(page)	((unsigned long)page_to_pfn(page) << PAGE_SHIFT)

#define virt_addr_valid(kaddr)					\
	((unsigned long)(kaddr) >= skl_ram_start &&		\
	 (unsigned long)(kaddr) < skl_ram_start + skl_ram_size)

#endif /* __ASSEMBLY__ */

#include <asm-generic/memory_model.h>
#include <asm-generic/getorder.h>

#endif
