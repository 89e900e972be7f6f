/* SPDX-License-Identifier: BSD-2-Clause */
/* Audit events (SPEC section 7): one syslog line per event, key=value.
 * Values from outside are escaped so they cannot forge a field or line. */
#pragma once

#include <stddef.h>

struct sspr_kv {
	const char *key;   /* a fixed identifier: [a-z_]+ */
	const char *value; /* anything; NULL is written as "-" */
};

#define SSPR_AUDIT_LINE_MAX 4096

/* Escape one value: printed bare when it is non-empty and made only of
 * [A-Za-z0-9._:/@+,-]; otherwise in double quotes with '"' and '\\'
 * backslash-escaped and every byte outside 0x20..0x7e written as \xHH.
 * Returns the length written, or -ENOBUFS. */
long sspr_audit_escape(const char *in, char *out, size_t outlen);

/* Format "event=NAME k=v k=v ..." into out.  Returns the length, or
 * -ENOBUFS (out then holds a truncated but well-formed line ending in
 * "truncated=1"). */
long sspr_audit_format(char *out, size_t outlen, const char *event,
                       const struct sspr_kv *kv, size_t n);

/* openlog(ident, LOG_PID, facility) for the helper or CLI (never the
 * module). */
void sspr_audit_open(const char *ident, int facility);
/* Format and syslog at LOG_NOTICE (LOG_WARNING for failures of the
 * caller's choosing: prio). */
void sspr_audit_log(int prio, const char *event, const struct sspr_kv *kv, size_t n);

/* 16 lowercase hex characters of fresh randomness, for session=. */
void sspr_audit_session_id(char out[static 17]);

/* user_hash= value: 16 hex chars of BLAKE2b(name) keyed with key (the
 * host key of the state directory; NULL: unkeyed, for tools only). */
void sspr_audit_user_hash(const char *name, const unsigned char *key, size_t keylen,
                          char out[static 17]);
