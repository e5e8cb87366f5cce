/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Aligned text tables for people (`shoal ls`, `shoal stats`): cells are copied
 * in, widths are measured when printed, columns are separated by three spaces
 * as docker's are, so the output reads the same way users already know.
 */
#ifndef SHOAL_CLI_TABLE_H
#define SHOAL_CLI_TABLE_H

#include <stdio.h>

#define TABLE_COLS_MAX 12

struct table {
	int ncols;
	const char *head[TABLE_COLS_MAX];
	char **cells; /* nrows * ncols, row-major, owned */
	size_t nrows, cap;
};

/* table_init() - a table with the @ncols headers in @head (not copied: static strings). */
void table_init(struct table *t, int ncols, const char *const *head);

/* table_add() - append one row of exactly ncols strings (NULL prints "-"); -ENOMEM or 0. */
int table_add(struct table *t, const char *const *row);

/* table_print() - print headers and rows to @f. */
void table_print(const struct table *t, FILE *f);

/* table_free() - free every cell. */
void table_free(struct table *t);

#endif /* SHOAL_CLI_TABLE_H */
