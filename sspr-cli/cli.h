/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli internals: the command table, the shared start-up of a command
 * (privilege, paths, config, audit), option-error reporting, a secure
 * output buffer and the QR renderers.  Private to sspr-cli/. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "sspr/config.h"
#include "sspr/helper_client.h"
#include "sspr/paths.h"
#include "sspr/policy.h"
#include "sspr/recovery.h"

#define CLI_PROG "sspr-cli"

/* Exit codes (SPEC section 6). */
enum {
	CLI_EXIT_OK = 0,    /* success */
	CLI_EXIT_FAIL = 1,  /* refused or failed */
	CLI_EXIT_USAGE = 2, /* usage error */
};

/* One subcommand.  fn gets argv with argv[0] = the command's name and
 * returns the exit code.  Later subcommands slot into the table in main.c. */
struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

int cli_enroll(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_revoke(int argc, char **argv);
int cli_recovery_codes(int argc, char **argv);
int cli_unlock(int argc, char **argv);
int cli_policy(int argc, char **argv);
int cli_expire(int argc, char **argv);
int cli_gc(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_stats(int argc, char **argv);

/* --since TIME: ISO 8601 in UTC (2026-11-29, 2026-11-29T14:03[:05][Z]) or
 * relative to now (30m, 24h, 7d; s m h d).  Returns 0 or -EINVAL. */
int cli_parse_since(const char *s, time_t now, time_t *ret);

/* Print a command's usage text (--help): to stdout, exit code 0, or 1
 * when stdout cannot be written. */
int cli_help(const char *text);

/* --- messages ----------------------------------------------------------- */

/* "sspr-cli CMD: MESSAGE" on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "sspr-cli CMD: warning: MESSAGE" on stderr. */
void cli_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "sspr-cli CMD: MESSAGE" and "Try 'sspr-cli CMD --help'." on stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A name from outside made safe to print: bare when harmless, else quoted
 * with escapes (sspr_audit_escape).  Returns one of two rotating static
 * buffers, so two may be used in one message. */
const char *cli_safe(const char *s);

/* getopt_long for a subcommand (main resets getopt before each command):
 * reports unknown options and missing values itself (to stderr, with the
 * usage hint) and then returns '?'.  Other returns are getopt_long's.
 * shortopts must start with ':'. */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/* --- the context of a command that acts ---------------------------------- */

struct cli_ctx {
	const char *cmd;
	struct sspr_paths paths;
	struct sspr_config cfg;
	bool cfg_loaded;
	bool admin;  /* euid 0, or a test root (SSPR_ROOT); not with SSPR_CLI_SELF=1 */
	uid_t caller;
};

/* Paths from SSPR_ROOT, the caller and whether it acts as admin: euid 0
 * or SSPR_ROOT set, unless SSPR_CLI_SELF=1 (read with secure_getenv, so
 * never when elevated) asks for the self-service path of an ordinary user
 * (a testing aid).  Returns 0 or an exit code (message printed). */
int cli_ctx_init(struct cli_ctx *ctx, const char *cmd);
/* Whether SSPR_CLI_SELF=1 is set (secure_getenv). */
bool cli_self_forced(void);
/* Load sspr.conf (a missing file means the defaults) and open the audit
 * log at its facility.  On a config error: messages on stderr, audit
 * config_error, CLI_EXIT_FAIL.  Returns 0 or an exit code. */
int cli_ctx_load_config(struct cli_ctx *ctx);
void cli_ctx_done(struct cli_ctx *ctx);

/* Look user up; an unknown user is a refusal naming unknown_user.
 * Returns 0 or an exit code (message printed). Free with
 * sspr_account_free. */
int cli_lookup(struct cli_ctx *ctx, const char *user, struct sspr_account *ret);

/* The start of an admin command on one USER and no options but --help:
 * parse argv, require admin (else fail with `refusal`), load the config
 * and look USER up.  Returns true to go on; false with *ret_exit the exit
 * status to return (0 after --help). */
bool cli_admin_one_user(struct cli_ctx *ctx, int argc, char **argv, const char *usage_text,
                        const char *refusal, struct sspr_account *acct, int *ret_exit);

/* The refusal text for a verdict that does not allow: the first failing
 * rule, its explanation and reason code. */
void cli_verdict_text(const struct sspr_verdict *v, char *out, size_t len);

/* The host key (sspr_hostkey_load), created when create, into secure
 * memory: *ret (free with sspr_secure_free).  Returns 0, -ENOENT (no key
 * and !create), or a negative error (no message printed). */
int cli_hostkey(const struct cli_ctx *ctx, int create, unsigned char **ret);

/* A value from outside (a policy explanation, a host name) made safe for a
 * terminal: control bytes become '?'.  Returns buf. */
const char *cli_printable(const char *s, char *buf, size_t len);

/* decimal uid in a buffer */
const char *cli_uid_str(uid_t uid, char buf[static 16]);

/* --- output -------------------------------------------------------------- */

/* A growing buffer in sodium-secure memory: the output of enroll holds the
 * secret (URI, QR code), so it never passes through stdio's buffers.
 * Errors are sticky: check cli_out_write's result once at the end. */
struct cli_out {
	char *buf;
	size_t len, cap;
	bool failed;
};

void cli_out_add(struct cli_out *o, const void *p, size_t n);
void cli_out_str(struct cli_out *o, const char *s);
void cli_out_fmt(struct cli_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal for s (quoted, escaped; bytes that are not valid
 * UTF-8 become U+FFFD). */
void cli_out_json_str(struct cli_out *o, const char *s);
/* Write everything to fd.  Returns 0, -ENOMEM (an earlier add failed) or
 * a negative errno. */
int cli_out_write(const struct cli_out *o, int fd);
/* Wipe and free. */
void cli_out_free(struct cli_out *o);

/* Create path (O_EXCL|O_NOFOLLOW, mode 0600: it may hold a secret) and
 * write o to it; removed again on a write error.  Returns 0, -EEXIST when
 * something is already there, or a negative errno. */
int cli_write_new_file(const char *path, const struct cli_out *o);
/* The same in two steps, for a file that must be claimed before its
 * content exists: create path (as above) into *ret_fd; then write o, fsync
 * and close (path removed again on an error), or close and remove it.
 * Returns 0, -EEXIST or a negative errno. */
int cli_new_file_create(const char *path, int *ret_fd);
int cli_new_file_finish(const char *path, int fd, const struct cli_out *o);
void cli_new_file_discard(const char *path, int fd);

/* "2026-11-29T05:00:00Z" */
const char *cli_iso8601(int64_t t, char buf[static 32]);

/* --- recovery codes (recovery.c) ---------------------------------------- */

/* A freshly made set: hashes to store, display forms to show once. */
struct cli_rc {
	struct sspr_rc_set *set; /* calloc'd: user, uid, created, n, hashes */
	char (*shown)[12];       /* secure memory, "XXXXX-XXXXX" each */
	unsigned n;
};

/* Make n (1..SSPR_RC_MAX) codes for account a, keyed with the host key
 * (created when missing).  Returns 0 or an exit code (message printed). */
int cli_rc_make(struct cli_ctx *ctx, const struct sspr_account *a, unsigned n,
                struct cli_rc *ret);
/* The codes, one a line, into o. */
void cli_rc_show(const struct cli_rc *rc, struct cli_out *o);
/* Wipe and free. */
void cli_rc_free(struct cli_rc *rc);
/* Audit event recovery_codes for a set of count codes now in place. */
void cli_rc_audit(const struct cli_ctx *ctx, const struct sspr_account *a, unsigned count,
                  bool durable);

/* --- QR codes ------------------------------------------------------------ */

enum cli_qr_kind { CLI_QR_UTF8, CLI_QR_ANSI, CLI_QR_SVG, CLI_QR_NONE };

struct cli_qr_opt {
	enum cli_qr_kind kind;
	const char *svg_path; /* CLI_QR_SVG */
};

/* Parse --qr's value: utf8, ansi, none or svg:FILE.  0 or -EINVAL. */
int cli_qr_parse(const char *arg, struct cli_qr_opt *ret);

/* Render text as a QR code (8-bit mode, level M) into o: UTF-8 half
 * blocks, ANSI colours, or an SVG document.  Returns 0, -EINVAL (text too
 * long for a QR code) or -ENOMEM.  The symbol is wiped after use: it
 * encodes the secret. */
int cli_qr_render(const char *text, enum cli_qr_kind kind, struct cli_out *o);

/* --- self-service (self.c): an ordinary user's own account ---------------- */

/* One self-service session with the helper (SPEC section 6): SELF, the
 * current password, a current code when the helper asks for one, then
 * SELF_DO.  The password and code are read from the terminal when stdin is
 * one (retried while the helper allows), else from the first and second
 * line of stdin; they live in secure memory only. */
struct cli_self {
	const char *cmd;
	uid_t uid;
	char user[256];        /* the caller's name */
	bool interactive;      /* stdin is a terminal */
	bool started;
	const char *helper_path;
	struct sspr_helper helper;
	struct sspr_msg *req;  /* secure memory */
	struct sspr_msg *rep;  /* secure memory: the last reply */
};

/* Who runs us (the real uid's name), and whether user (NULL: omitted) is
 * that account.  Returns 0 or an exit code (message printed). */
int cli_self_begin(struct cli_self *s, const char *cmd, const char *user);
/* Start the helper and prove who we are: SELF for op ("enroll",
 * "status", "recovery-codes"), the current password, and a current code
 * when the helper asks for one.  replace_ok: whether a request that
 * replaces something (the helper asks for a code) may go on; when not,
 * refuse_text is printed and the session ends.  Returns 0 or an exit
 * code (message printed). */
int cli_self_auth(struct cli_self *s, const char *op, bool replace_ok, const char *refuse_text);
/* SELF_DO with nfields fields; on success s->rep holds the helper's OK
 * reply.  Returns 0 or an exit code (message printed). */
int cli_self_do(struct cli_self *s, const char *const *fields, size_t nfields);
/* Close the session, reap the helper, wipe and free. */
void cli_self_end(struct cli_self *s);

/* The space-separated recovery codes of a reply, one a line, into o.
 * Returns how many, or -EINVAL when one is not XXXXX-XXXXX. */
int cli_self_codes(const char *joined, struct cli_out *o);
