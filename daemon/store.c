// SPDX-License-Identifier: GPL-2.0
/*
 * The SQLite store, and the only file that includes <sqlite3.h>. One database
 * in the state directory, in WAL mode, with its schema brought up to date by
 * numbered migrations recorded in user_version. Every statement is prepared
 * once at open and bound with values, never built with printf. Calls are
 * short and run on the loop thread; SQLite's own busy timeout bounds a wait on
 * a lock held by another process (sqlite3 in a shell, a test).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/shoald.h"

static const char *const store_migrations[] = {
	/* 1: instances */
	"CREATE TABLE instances ("
	" id TEXT PRIMARY KEY,"
	" state TEXT NOT NULL,"
	" pid INTEGER NOT NULL DEFAULT 0,"
	" memory_mib INTEGER NOT NULL,"
	" network INTEGER NOT NULL DEFAULT 0,"
	" labels TEXT NOT NULL DEFAULT '{}',"
	" ttl_s INTEGER NOT NULL DEFAULT 0,"
	" created_ms INTEGER NOT NULL,"
	" ready_ms INTEGER NOT NULL DEFAULT 0,"
	" expires_ms INTEGER NOT NULL DEFAULT 0,"
	" ended_ms INTEGER NOT NULL DEFAULT 0,"
	" boot_us INTEGER NOT NULL DEFAULT -1,"
	" kernel_release TEXT NOT NULL DEFAULT '',"
	" reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX instances_state ON instances(state, created_ms);",
};

#define STORE_COLUMNS                                                                            \
	"id, state, pid, memory_mib, network, labels, ttl_s, created_ms, ready_ms, expires_ms, " \
	"ended_ms, boot_us, kernel_release, reason"

enum {
	STMT_PUT,
	STMT_GET,
	STMT_LIST,
	STMT_ORPHANS,
	STMT_COUNT,
};

static const char *const store_sql[STMT_COUNT] = {
	[STMT_PUT] = "INSERT OR REPLACE INTO instances (" STORE_COLUMNS
		     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[STMT_GET] = "SELECT " STORE_COLUMNS " FROM instances WHERE id = ?1",
	[STMT_LIST] = "SELECT " STORE_COLUMNS " FROM instances WHERE ?1 IS NULL OR state = ?1"
		      " ORDER BY created_ms, id",
	[STMT_ORPHANS] = "UPDATE instances SET state = 'failed', reason = ?1, ended_ms = ?2"
			 " WHERE state IN ('starting', 'running', 'stopping')",
};

static sqlite3 *store_db;
static sqlite3_stmt *store_stmts[STMT_COUNT];

static int store_fail(struct shoal_error *err, const char *what)
{
	return shoal_error_set(err, 0, "sqlite: %s: %s", what,
			       store_db ? sqlite3_errmsg(store_db) : "no database");
}

static int store_migrate(struct shoal_error *err)
{
	int version = 0, n = (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(store_db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return store_fail(err, "read user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > n)
		return shoal_error_set(err, 0, "database schema %d is newer than this shoald (%d)",
				       version, n);
	for (; version < n; version++) {
		char pragma[48];

		/* The migration and its number commit together or not at all. */
		if (sqlite3_exec(store_db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			return store_fail(err, "begin migration");
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (sqlite3_exec(store_db, store_migrations[version], NULL, NULL, NULL) !=
			    SQLITE_OK ||
		    sqlite3_exec(store_db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
			int r = store_fail(err, "migration");

			sqlite3_exec(store_db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
		if (sqlite3_exec(store_db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return store_fail(err, "commit migration");
	}
	return 0;
}

int store_open(const char *path, struct shoal_error *err)
{
	int i, r;

	if (sqlite3_open_v2(path, &store_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		r = shoal_error_set(err, 0, "sqlite: open %s: %s", path,
				    store_db ? sqlite3_errmsg(store_db) : "out of memory");
		store_close();
		return r;
	}
	sqlite3_busy_timeout(store_db, 2000);
	if (sqlite3_exec(store_db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(store_db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		r = store_fail(err, "set WAL mode");
		store_close();
		return r;
	}
	r = store_migrate(err);
	if (r) {
		store_close();
		return r;
	}
	for (i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(store_db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &store_stmts[i], NULL) != SQLITE_OK) {
			r = store_fail(err, "prepare");
			store_close();
			return r;
		}
	}
	return 0;
}

void store_close(void)
{
	int i;

	for (i = 0; i < STMT_COUNT; i++) {
		sqlite3_finalize(store_stmts[i]);
		store_stmts[i] = NULL;
	}
	sqlite3_close(store_db);
	store_db = NULL;
}

static void store_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, size, "%s", t ? (const char *)t : "");
}

static void store_read_row(sqlite3_stmt *st, struct store_instance *row)
{
	memset(row, 0, sizeof(*row));
	store_text(st, 0, row->id, sizeof(row->id));
	store_text(st, 1, row->state, sizeof(row->state));
	row->pid = sqlite3_column_int64(st, 2);
	row->memory_mib = (uint32_t)sqlite3_column_int64(st, 3);
	row->network = sqlite3_column_int(st, 4) != 0;
	store_text(st, 5, row->labels, sizeof(row->labels));
	row->ttl_s = sqlite3_column_int64(st, 6);
	row->created_ms = sqlite3_column_int64(st, 7);
	row->ready_ms = sqlite3_column_int64(st, 8);
	row->expires_ms = sqlite3_column_int64(st, 9);
	row->ended_ms = sqlite3_column_int64(st, 10);
	row->boot_us = sqlite3_column_int64(st, 11);
	store_text(st, 12, row->kernel_release, sizeof(row->kernel_release));
	store_text(st, 13, row->reason, sizeof(row->reason));
}

int store_put_instance(const struct store_instance *row, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_PUT];
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, row->pid);
	sqlite3_bind_int64(st, 4, row->memory_mib);
	sqlite3_bind_int(st, 5, row->network);
	sqlite3_bind_text(st, 6, row->labels, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, row->ttl_s);
	sqlite3_bind_int64(st, 8, row->created_ms);
	sqlite3_bind_int64(st, 9, row->ready_ms);
	sqlite3_bind_int64(st, 10, row->expires_ms);
	sqlite3_bind_int64(st, 11, row->ended_ms);
	sqlite3_bind_int64(st, 12, row->boot_us);
	sqlite3_bind_text(st, 13, row->kernel_release, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, row->reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, "write instance");
	return 0;
}

int store_get_instance(const char *id, struct store_instance *row, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_GET];
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_read_row(st, row);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return store_fail(err, "read instance");
}

int store_list_instances(const char *state, struct store_instance **rows, size_t *n,
			 struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_LIST];
	struct store_instance *out = NULL, *grown;
	size_t count = 0, cap = 0;
	int rc;

	sqlite3_reset(st);
	if (state)
		sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(out, cap * sizeof(*out));
			if (!grown) {
				free(out);
				sqlite3_reset(st);
				return shoal_error_set(err, ENOMEM, "list instances");
			}
			out = grown;
		}
		store_read_row(st, &out[count++]);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		free(out);
		return store_fail(err, "list instances");
	}
	*rows = out;
	*n = count;
	return 0;
}

int store_mark_orphans(const char *reason, int64_t now_ms, int *count, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_ORPHANS];
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, "mark orphans");
	*count = sqlite3_changes(store_db);
	return 0;
}
