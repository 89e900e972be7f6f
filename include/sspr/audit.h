/* SPDX-License-Identifier: BSD-2-Clause */
/* Audit events (SPEC section 7): one syslog line per event, key=value.
 * Values from outside are escaped so they cannot forge a field or line. */
#pragma once

#include <stddef.h>
#include <stdint.h>

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
/* From now on also append every event to the signed journal in
 * statedir/journal (journal.h): the helper, and the CLI as admin. */
void sspr_audit_use_journal(const char *statedir);

/* Format, append to the journal (when in use) and syslog at prio, with
 * " seq=N" added (the journal entry; "seq=-" when the append failed, which
 * is logged as a journal_error line of its own and never stops the
 * event).  Returns the seq, 0 without one. */
uint64_t sspr_audit_log(int prio, const char *event, const struct sspr_kv *kv, size_t n);

/* Read the next "key=value" of an audit line at *p (< end), undoing
 * sspr_audit_escape: returns 1 with key and val (NUL-terminated), 0 at
 * the end, -EINVAL on a malformed field or one that does not fit. */
int sspr_audit_next_field(const char **p, const char *end, char *key, size_t keylen,
                          char *val, size_t vallen);

/* 16 lowercase hex characters of fresh randomness, for session=. */
void sspr_audit_session_id(char out[static 17]);

/* user_hash= value: 16 hex chars of BLAKE2b(name) keyed with key (the
 * host key of the state directory; NULL: unkeyed, for tools only). */
void sspr_audit_user_hash(const char *name, const unsigned char *key, size_t keylen,
                          char out[static 17]);
