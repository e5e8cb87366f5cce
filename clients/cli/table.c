// SPDX-License-Identifier: GPL-2.0
/*
 * Column tables for people. Widths are known only once every row is in, so
 * rows are kept until table_print(); the last column is not padded, so lines
 * carry no trailing blanks (which would make copy-paste and diffs noisy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clients/cli/table.h"

void table_init(struct table *t, int ncols, const char *const *head)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_COLS_MAX ? TABLE_COLS_MAX : ncols;
	for (int i = 0; i < t->ncols; i++)
		t->head[i] = head[i];
}

int table_add(struct table *t, const char *const *row)
{
	size_t base;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));

		if (!cells)
			return -ENOMEM;
		t->cells = cells;
		t->cap = cap;
	}
	base = t->nrows * t->ncols;
	for (int i = 0; i < t->ncols; i++) {
		t->cells[base + i] = strdup(row[i] ? row[i] : "-");
		if (!t->cells[base + i]) {
			while (i--)
				free(t->cells[base + i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

static void row_print(const struct table *t, const size_t *width, const char *const *row, FILE *f)
{
	for (int i = 0; i < t->ncols; i++) {
		if (i == t->ncols - 1)
			fprintf(f, "%s\n", row[i]);
		else
			fprintf(f, "%-*s   ", (int)width[i], row[i]);
	}
}

void table_print(const struct table *t, FILE *f)
{
	size_t width[TABLE_COLS_MAX];

	for (int i = 0; i < t->ncols; i++)
		width[i] = strlen(t->head[i]);
	for (size_t r = 0; r < t->nrows; r++)
		for (int i = 0; i < t->ncols; i++) {
			size_t w = strlen(t->cells[r * t->ncols + i]);

			if (w > width[i])
				width[i] = w;
		}
	row_print(t, width, t->head, f);
	for (size_t r = 0; r < t->nrows; r++)
		row_print(t, width, (const char *const *)&t->cells[r * t->ncols], f);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}
