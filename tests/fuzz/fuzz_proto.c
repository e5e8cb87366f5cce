// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the control-protocol decoder, the code that reads what
 * a compromised instance (or a confused daemon) sends. AddressSanitizer,
 * UndefinedBehaviorSanitizer, LeakSanitizer and libFuzzer's own timeout and
 * malloc limit catch crashes, leaks, hangs and unbounded allocations; this
 * file adds the properties a sanitizer cannot see:
 *
 *  - whatever the decoder accepts, the encoder can write again, and decoding
 *    that text gives a message that encodes to the very same text: encoder and
 *    decoder agree on every field, default and limit;
 *  - whatever the decoder refuses can still be answered: the message holds
 *    nothing to free, the error object is set with the returned code, and an
 *    error reply with the kept id and that message encodes.
 *
 * Built by tests/fuzz/fuzz.mk; run, bounded, by tests/fuzz/test_fuzz.py.
 */
#include "api/proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, format(printf, 1, 2))) static void broken(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_proto: property broken: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static void check_refusal(const struct proto_msg *m, int r, const struct shoal_error *err)
{
	char *reply = NULL;
	size_t len;

	if (!shoal_error_is_set(err) || -err->err != r)
		broken("decoder returned %d but the error object says %d '%s'", r, err->err,
		       err->msg);
	if (m->priv_json || m->priv_bufs[0] || m->priv_bufs[1])
		broken("a refused message still holds storage");
	if (proto_encode_error(m->id, proto_error_code_from_errno(r), err->msg, &reply, &len,
			       NULL) < 0)
		broken("cannot answer refusal '%s'", err->msg);
	free(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shoal_error err = { 0 };
	struct proto_msg m, again;
	char *text = NULL, *text2 = NULL;
	size_t len, len2;
	int r;

	r = proto_decode((const char *)data, size, &m, &err);
	if (r < 0) {
		check_refusal(&m, r, &err);
		return 0;
	}
	(void)proto_check_peer(&m, PROTO_ROLE_DAEMON, NULL);
	(void)proto_check_peer(&m, PROTO_ROLE_INSTANCE, NULL);
	(void)proto_msg_nfds(&m);

	r = proto_encode(&m, &text, &len, &err);
	/* Defaults the input left out can push a near-limit message over it; nothing else may fail.
	 */
	if (r == -EMSGSIZE && size > PROTO_MSG_MAX - 4096) {
		proto_msg_free(&m);
		return 0;
	}
	if (r < 0)
		broken("accepted %.*s but cannot encode it: %s", (int)size, (const char *)data,
		       err.msg);
	r = proto_decode(text, len, &again, &err);
	if (r < 0)
		broken("cannot decode our own encoding %s: %s", text, err.msg);
	if (again.type != m.type || again.id != m.id)
		broken("type or id changed in %s", text);
	if (proto_encode(&again, &text2, &len2, &err) < 0)
		broken("cannot re-encode %s: %s", text, err.msg);
	if (len2 != len || memcmp(text, text2, len) != 0)
		broken("encodings differ:\n  %s\n  %s", text, text2);

	free(text);
	free(text2);
	proto_msg_free(&again);
	proto_msg_free(&m);
	return 0;
}
