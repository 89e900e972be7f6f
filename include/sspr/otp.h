/* SPDX-License-Identifier: BSD-2-Clause */
/* One-time passwords (all arithmetic by liboath), base32, otpauth URIs. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sspr/common.h"

#define SSPR_SECRET_LEN 20      /* bytes of a new secret (SPEC section 4) */
#define SSPR_SECRET_MAX 64      /* bytes of a secret we accept */
#define SSPR_B32_MAX 104        /* base32 chars for SSPR_SECRET_MAX, + NUL */

enum sspr_otp_type { SSPR_OTP_TOTP, SSPR_OTP_HOTP };
enum sspr_otp_alg { SSPR_OTP_SHA1, SSPR_OTP_SHA256, SSPR_OTP_SHA512 };

struct sspr_otp_params {
	enum sspr_otp_type type;
	enum sspr_otp_alg alg;  /* HOTP: SHA1 only */
	unsigned digits;        /* 6 or 8 */
	unsigned period;        /* TOTP step in seconds, 1..300 */
};

/* Defaults: TOTP, SHA1, 6 digits, 30 s. */
void sspr_otp_params_default(struct sspr_otp_params *p);

/* 0 or -EINVAL when the combination is not allowed (HOTP with a
 * non-SHA1 algorithm, digits not 6/8, period out of range). */
int sspr_otp_params_check(const struct sspr_otp_params *p);

/* Initialise liboath once per process. Returns 0 or -EIO. */
int sspr_otp_global_init(void);

/* Verify code against secret.
 * TOTP: accepts steps within +-window of now's step whose number is greater
 *       than *io_state (the last accepted step); on success *io_state is
 *       set to the accepted step.
 * HOTP: accepts counters *io_state .. *io_state + lookahead; on success
 *       *io_state is set to the accepted counter + 1.
 * The comparison is constant-time.  Returns 0 (accepted),
 * -SSPR_E_CODE_INVALID, -SSPR_E_CODE_REPLAY (matches a used TOTP step),
 * or -EINVAL (malformed code or params). io_state is untouched on failure. */
SSPR_WARN_UNUSED
int sspr_otp_verify(const struct sspr_otp_params *p, const uint8_t *secret,
                    size_t secret_len, const char *code, time_t now,
                    unsigned window, unsigned lookahead, uint64_t *io_state);

/* Code for step/counter `moving` (TOTP: step = (now) / period); for tests,
 * demos and the conceal dummy computation.  out must hold 9 bytes. */
int sspr_otp_generate(const struct sspr_otp_params *p, const uint8_t *secret,
                      size_t secret_len, uint64_t moving, char out[static 9]);

/* TOTP step number of time now. */
uint64_t sspr_otp_step(const struct sspr_otp_params *p, time_t now);

/* RFC 4648 base32, upper case, no padding.  Returns 0 or -ENOBUFS. */
int sspr_base32_encode(const uint8_t *in, size_t len, char *out, size_t outlen);

/* Strict decode: A-Z/2-7 (lower case accepted), optional trailing '='
 * padding, no other bytes; trailing bits must be zero.  Returns 0,
 * -EINVAL or -ENOBUFS; *ret_len set on success. */
int sspr_base32_decode(const char *in, uint8_t *out, size_t outcap, size_t *ret_len);

/* otpauth:// URI in Google's Key URI format; label "issuer:account".
 * b32secret is the base32 secret; counter is used for HOTP.  *ret is
 * sodium-secure memory (it holds the secret): free with sspr_secure_free. */
int sspr_otpauth_uri(const struct sspr_otp_params *p, const char *issuer,
                     const char *account, const char *b32secret,
                     uint64_t counter, char **ret);
