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
	/* 2: networking. The lease table is the address pool's truth (ipam.c). */
	"ALTER TABLE instances ADD COLUMN ipv4 TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE instances ADD COLUMN mac TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE instances ADD COLUMN veth TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE leases ("
	" addr INTEGER PRIMARY KEY,"
	" instance_id TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL);",
	/* 3: lifecycle events and exec records */
	"CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time_ms INTEGER NOT NULL,"
	" type TEXT NOT NULL,"
	" instance_id TEXT NOT NULL DEFAULT '',"
	" data TEXT NOT NULL DEFAULT '{}');"
	"CREATE TABLE execs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" instance_id TEXT NOT NULL,"
	" job INTEGER NOT NULL DEFAULT 0,"
	" argv TEXT NOT NULL,"
	" started_ms INTEGER NOT NULL,"
	" ended_ms INTEGER NOT NULL DEFAULT 0,"
	" exit_code INTEGER NOT NULL DEFAULT -1,"
	" signal INTEGER NOT NULL DEFAULT -1,"
	" timed_out INTEGER NOT NULL DEFAULT 0,"
	" duration_us INTEGER NOT NULL DEFAULT 0,"
	" stdout_bytes INTEGER NOT NULL DEFAULT 0,"
	" stderr_bytes INTEGER NOT NULL DEFAULT 0,"
	" error TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX execs_instance ON execs(instance_id, id);",
	/* 4: disk images */
	"ALTER TABLE instances ADD COLUMN disks TEXT NOT NULL DEFAULT '[]';",
	/* 5: an environment for the instance's jobs */
	"ALTER TABLE instances ADD COLUMN env TEXT NOT NULL DEFAULT '[]';",
	/* 6: the IPv6 address that goes with the lease */
	"ALTER TABLE instances ADD COLUMN ipv6 TEXT NOT NULL DEFAULT '';",
};

#define STORE_COLUMNS                                                                            \
	"id, state, pid, memory_mib, network, labels, ttl_s, created_ms, ready_ms, expires_ms, " \
	"ended_ms, boot_us, kernel_release, reason, ipv4, mac, veth, disks, env, ipv6"

enum {
	STMT_PUT,
	STMT_GET,
	STMT_LIST,
	STMT_EXEC_ABANDON,
	STMT_LEASE_PUT,
	STMT_LEASE_DEL,
	STMT_LEASE_LIST,
	STMT_LEASE_ORPHANS,
	STMT_EVENT_ADD,
	STMT_EVENT_LIST,
	STMT_EXEC_ADD,
	STMT_EXEC_FINISH,
	STMT_STATE_COUNTS,
	STMT_PRUNE_EVENTS,
	STMT_PRUNE_INSTANCES,
	STMT_PRUNE_EXECS,
	STMT_EXEC_LIST,
	STMT_COUNT,
};

static const char *const store_sql[STMT_COUNT] = {
	[STMT_PUT] = "INSERT OR REPLACE INTO instances (" STORE_COLUMNS
		     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		     " ?15, ?16, ?17, ?18, ?19, ?20)",
	[STMT_GET] = "SELECT " STORE_COLUMNS " FROM instances WHERE id = ?1",
	[STMT_LIST] = "SELECT " STORE_COLUMNS " FROM instances WHERE ?1 IS NULL OR state = ?1"
		      " ORDER BY created_ms, id",
	[STMT_EXEC_ABANDON] = "UPDATE execs SET error = ?1, ended_ms = ?2 WHERE ended_ms = 0",
	[STMT_LEASE_PUT] = "INSERT INTO leases (addr, instance_id, created_ms) VALUES (?1, ?2, ?3)",
	[STMT_LEASE_DEL] = "DELETE FROM leases WHERE addr = ?1",
	[STMT_LEASE_LIST] = "SELECT addr, instance_id FROM leases ORDER BY addr",
	/* Leases of instances that are not alive (after orphans were marked). */
	[STMT_LEASE_ORPHANS] = "DELETE FROM leases WHERE instance_id NOT IN (SELECT id FROM"
			       " instances WHERE state IN ('starting', 'running', 'pooled',"
			       " 'stopping'))",
	[STMT_EVENT_ADD] = "INSERT INTO events (time_ms, type, instance_id, data)"
			   " VALUES (?1, ?2, ?3, ?4)",
	[STMT_EVENT_LIST] = "SELECT seq, time_ms, type, instance_id, data FROM events"
			    " WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[STMT_EXEC_ADD] = "INSERT INTO execs (instance_id, argv, started_ms) VALUES (?1, ?2, ?3)",
	[STMT_EXEC_FINISH] = "UPDATE execs SET job = ?2, ended_ms = ?3, exit_code = ?4,"
			     " signal = ?5, timed_out = ?6, duration_us = ?7, stdout_bytes = ?8,"
			     " stderr_bytes = ?9, error = ?10 WHERE id = ?1",
	[STMT_STATE_COUNTS] = "SELECT state, COUNT(*) FROM instances GROUP BY state",
	[STMT_PRUNE_EVENTS] = "DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?1",
	[STMT_PRUNE_INSTANCES] = "DELETE FROM instances WHERE state IN ('destroyed', 'failed')"
				 " AND ended_ms > 0 AND ended_ms < ?1",
	[STMT_PRUNE_EXECS] = "DELETE FROM execs WHERE ended_ms > 0 AND ended_ms < ?1",
	[STMT_EXEC_LIST] =
		"SELECT id, job, argv, started_ms, ended_ms, exit_code, signal, timed_out,"
		" duration_us, stdout_bytes, stderr_bytes, error FROM execs"
		" WHERE instance_id = ?1 ORDER BY id",
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
	store_text(st, 14, row->ipv4, sizeof(row->ipv4));
	store_text(st, 15, row->mac, sizeof(row->mac));
	store_text(st, 16, row->veth, sizeof(row->veth));
	store_text(st, 17, row->disks, sizeof(row->disks));
	store_text(st, 18, row->env, sizeof(row->env));
	store_text(st, 19, row->ipv6, sizeof(row->ipv6));
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
	sqlite3_bind_text(st, 15, row->ipv4, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, row->mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, row->veth, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, row->disks[0] ? row->disks : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 19, row->env[0] ? row->env : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 20, row->ipv6, -1, SQLITE_STATIC);
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

int store_each_instance(const char *state, bool (*fn)(void *arg, const struct store_instance *row),
			void *arg, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_LIST];
	struct store_instance *row = malloc(sizeof(*row));
	int rc;

	if (!row)
		return shoal_error_set(err, ENOMEM, "list instances");
	sqlite3_reset(st);
	if (state)
		sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_read_row(st, row);
		if (!fn(arg, row)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(row);
	if (rc != SQLITE_DONE)
		return store_fail(err, "list instances");
	return 0;
}

int store_abandon_execs(const char *reason, int64_t now_ms, int *count, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_EXEC_ABANDON];
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, "abandon exec records");
	*count = sqlite3_changes(store_db);
	return 0;
}

/* Step a statement that returns no rows; reset it either way. */
static int store_step_done(sqlite3_stmt *st, const char *what, struct shoal_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, what);
	return 0;
}

int store_put_lease(uint32_t addr, const char *id, int64_t now_ms, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_LEASE_PUT];

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, addr);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	return store_step_done(st, "write lease", err);
}

int store_delete_lease(uint32_t addr, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_LEASE_DEL];

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, addr);
	return store_step_done(st, "delete lease", err);
}

int store_drop_orphan_leases(int *count, struct shoal_error *err)
{
	int r = store_step_done(store_stmts[STMT_LEASE_ORPHANS], "delete orphan leases", err);

	if (!r)
		*count = sqlite3_changes(store_db);
	return r;
}

int store_list_leases(void (*fn)(void *arg, uint32_t addr, const char *id), void *arg,
		      struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_LEASE_LIST];
	int rc;

	sqlite3_reset(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (uint32_t)sqlite3_column_int64(st, 0),
		   (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, "list leases");
	return 0;
}

int store_add_event(int64_t time_ms, const char *type, const char *id, const char *data,
		    int64_t *seq, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_EVENT_ADD];
	int r;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, time_ms);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id ? id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, data, -1, SQLITE_STATIC);
	r = store_step_done(st, "write event", err);
	if (!r)
		*seq = sqlite3_last_insert_rowid(store_db);
	return r;
}

int store_list_events(int64_t after, unsigned int limit,
		      void (*fn)(void *arg, const struct store_event *ev), void *arg,
		      struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_EVENT_LIST];
	struct store_event ev;
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ev.seq = sqlite3_column_int64(st, 0);
		ev.time_ms = sqlite3_column_int64(st, 1);
		store_text(st, 2, ev.type, sizeof(ev.type));
		store_text(st, 3, ev.instance_id, sizeof(ev.instance_id));
		ev.data = (const char *)sqlite3_column_text(st, 4);
		fn(arg, &ev);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, "list events");
	return 0;
}

int store_add_exec(const char *id, const char *argv_json, int64_t started_ms, int64_t *exec_id,
		   struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_EXEC_ADD];
	int r;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, argv_json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, started_ms);
	r = store_step_done(st, "write exec", err);
	if (!r)
		*exec_id = sqlite3_last_insert_rowid(store_db);
	return r;
}

int store_finish_exec(const struct store_exec *e, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_EXEC_FINISH];

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, e->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)e->job);
	sqlite3_bind_int64(st, 3, e->ended_ms);
	sqlite3_bind_int(st, 4, e->exit_code);
	sqlite3_bind_int(st, 5, e->signal);
	sqlite3_bind_int(st, 6, e->timed_out);
	sqlite3_bind_int64(st, 7, e->duration_us);
	sqlite3_bind_int64(st, 8, e->stdout_bytes);
	sqlite3_bind_int64(st, 9, e->stderr_bytes);
	sqlite3_bind_text(st, 10, e->error, -1, SQLITE_STATIC);
	return store_step_done(st, "finish exec", err);
}

int store_count_states(void (*fn)(void *arg, const char *state, int64_t n), void *arg,
		       struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_STATE_COUNTS];
	int rc;

	sqlite3_reset(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, "count instances");
	return 0;
}

/* Run statement @which with one integer; the number of rows it changed into @changes. */
static int store_run_int64(int which, int64_t value, const char *what, int *changes,
			   struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[which];
	int r;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, value);
	r = store_step_done(st, what, err);
	if (!r && changes)
		*changes = sqlite3_changes(store_db);
	return r;
}

int store_prune(int64_t keep_events, int64_t ended_before_ms, int *events, int *instances,
		struct shoal_error *err)
{
	int r = store_run_int64(STMT_PRUNE_EVENTS, keep_events, "prune events", events, err);

	if (!r)
		r = store_run_int64(STMT_PRUNE_INSTANCES, ended_before_ms, "prune instances",
				    instances, err);
	if (!r)
		r = store_run_int64(STMT_PRUNE_EXECS, ended_before_ms, "prune exec records", NULL,
				    err);
	return r;
}

int store_each_exec(const char *id,
		    void (*fn)(void *arg, const struct store_exec *e, const char *argv_json,
			       int64_t started_ms),
		    void *arg, struct shoal_error *err)
{
	sqlite3_stmt *st = store_stmts[STMT_EXEC_LIST];
	struct store_exec e;
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		e.id = sqlite3_column_int64(st, 0);
		e.job = (uint64_t)sqlite3_column_int64(st, 1);
		e.ended_ms = sqlite3_column_int64(st, 4);
		e.exit_code = sqlite3_column_int(st, 5);
		e.signal = sqlite3_column_int(st, 6);
		e.timed_out = sqlite3_column_int(st, 7) != 0;
		e.duration_us = sqlite3_column_int64(st, 8);
		e.stdout_bytes = sqlite3_column_int64(st, 9);
		e.stderr_bytes = sqlite3_column_int64(st, 10);
		store_text(st, 11, e.error, sizeof(e.error));
		fn(arg, &e, (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, "list exec records");
	return 0;
}
