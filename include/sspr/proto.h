/* SPDX-License-Identifier: BSD-2-Clause */
/* Module <-> helper protocol (SPEC section 2), framed like OpenSSH msg.c.
 *
 * Frame: u32 big-endian body length (at most SSPR_MSG_MAX), then body:
 *   u8 version (SSPR_PROTO_VERSION), u8 type, u8 arg, u8 nfields,
 *   nfields x (u16 big-endian length <= SSPR_FIELD_MAX, bytes; no NUL).
 * Nothing may follow the last field.  The codec is pure; the I/O helpers
 * read a whole frame or fail. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sspr/common.h"

#define SSPR_PROTO_VERSION 1
#define SSPR_MSG_FIELDS 6
#define SSPR_MSG_MAX (4 + SSPR_MSG_FIELDS * (2 + SSPR_FIELD_MAX))

enum sspr_msg_type {
	SSPR_MSG_HELLO = 1,  /* fields: user, service, rhost, tty, ruser */
	SSPR_MSG_VERIFY = 2, /* fields: code */
	SSPR_MSG_RESET = 3,  /* fields: new password */
	SSPR_MSG_QUERY = 4,  /* conceal = no: fields as HELLO; may come once before it */
	/* self-service (sspr-cli run by a user for their own account) */
	SSPR_MSG_SELF = 5,     /* fields: as HELLO, then the operation */
	SSPR_MSG_PASSWORD = 6, /* fields: the current password */
	SSPR_MSG_SELF_DO = 7,  /* enroll: type, algorithm, digits, period, issuer */
	SSPR_MSG_REPLY = 64, /* arg: enum sspr_status; fields: [text] */
};

enum sspr_status {
	SSPR_ST_OK = 0,           /* HELLO: go on; VERIFY: accepted; RESET: done */
	SSPR_ST_INVALID = 1,      /* VERIFY: wrong code, ask again */
	SSPR_ST_EXHAUSTED = 2,    /* VERIFY: wrong code, no tries left */
	SSPR_ST_RATE_LIMITED = 3, /* over a rate limit; session over */
	SSPR_ST_NEED_RECOVERY = 4,/* VERIFY: OTP accepted, recovery code next */
	SSPR_ST_BAD_PASSWORD = 5, /* RESET: refused; field 0 is the reason */
	SSPR_ST_TIMEOUT = 6,      /* session_timeout passed; session over */
	SSPR_ST_FAIL = 7,         /* anything else; session over */
	SSPR_ST_UNCHANGED = 8,    /* RESET: refused, no tries left */
	SSPR_ST_LAST,
};

struct sspr_field {
	uint16_t len;
	char data[SSPR_FIELD_MAX + 1]; /* NUL-terminated copy */
};

/* May hold codes and passwords: wipe with sspr_msg_wipe. */
struct sspr_msg {
	uint8_t type;
	uint8_t arg;
	uint8_t nfields;
	struct sspr_field field[SSPR_MSG_FIELDS];
};

void sspr_msg_wipe(struct sspr_msg *m);
static inline void sspr_msg_wipep(struct sspr_msg *m) { sspr_msg_wipe(m); }
#define _cleanup_msg_ _cleanup_(sspr_msg_wipep)

/* Start a message of type/arg with no fields. */
void sspr_msg_init(struct sspr_msg *m, uint8_t type, uint8_t arg);
/* Append a string field (no NUL inside, at most SSPR_FIELD_MAX bytes).
 * Returns 0, -SSPR_E_TOO_LONG, -EINVAL or -ENOBUFS (too many fields). */
int sspr_msg_add(struct sspr_msg *m, const char *s);

/* Encode into out (whole frame, length prefix included).
 * Returns the frame length or a negative error. */
long sspr_msg_encode(const struct sspr_msg *m, uint8_t *out, size_t outlen);
/* Decode one body (without the length prefix); exactly len bytes.
 * Returns 0 or -SSPR_E_PROTO. */
int sspr_msg_decode(const uint8_t *body, size_t len, struct sspr_msg *ret);

/* Write one frame to fd (retrying on EINTR/short writes); on a socket
 * with MSG_NOSIGNAL, so a gone peer is -EPIPE and never SIGPIPE. */
int sspr_msg_send(int fd, const struct sspr_msg *m);
/* Read one frame from fd, waiting at most timeout_ms in all (-1: no
 * limit).  Reads the 4-byte length first and never more than
 * SSPR_MSG_MAX bytes.  Returns 0, -ETIMEDOUT, -EPIPE (EOF),
 * -SSPR_E_PROTO or a negative errno. */
int sspr_msg_recv(int fd, struct sspr_msg *ret, int timeout_ms);
