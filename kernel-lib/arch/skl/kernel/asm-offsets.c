// SPDX-License-Identifier: GPL-2.0
/* No assembly in this port: kbuild still wants the file. */
#include <linux/kbuild.h>
