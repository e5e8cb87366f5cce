/* SPDX-License-Identifier: GPL-2.0 */
/*
 * visibility.h: force-included (-include) into every object of the shim.
 * The shim is compiled position-independent (-fpie) so that its code reaches
 * its data RIP-relative: linked at SHOAL_SHIM_BASE, far above 4 GiB, absolute
 * 32-bit addresses cannot work. Marking every declaration hidden makes the
 * compiler use direct RIP-relative references for extern symbols too,
 * instead of GOT loads the static link cannot turn into immediates.
 */
#pragma GCC visibility push(hidden)
