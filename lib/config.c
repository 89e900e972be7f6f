/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr.conf: the one parser (SPEC section 5, sspr.conf(5)).
 *
 * Syntax, line by line:
 *   - `key = value`; white space (space, tab) around key, '=' and value
 *     is ignored.  A value runs to the end of the line (or comment), so
 *     notify_command may hold spaces and '='.
 *   - '#' starts a comment at the beginning of a line or after white space;
 *     elsewhere it is part of the value (`a#b`).
 *   - Blank and comment-only lines are ignored.  A line may end in CR LF.
 *   - A line is at most SSPR_LINE_MAX bytes, the file SSPR_CONF_MAX bytes.
 *   - NUL and other control characters (but tab, and the CR of CR LF) are
 *     errors.
 *   - Each key at most once; a list key replaces its default.
 *   - Booleans are exactly `yes` or `no` (not true/false/1/0: one spelling,
 *     so that lint has nothing to normalise).  Enumerations and key names
 *     are case-sensitive, lower case.
 *   - Numbers are plain decimal digits (no sign, no hex; leading zeros are
 *     decimal), range-checked per key (table `keys` below).
 * Every error is reported as "FILE:LINE: KEY = "VALUE": what" and parsing
 * goes on, so one run reports all of them. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>

#include "sspr/common.h"
#include "sspr/config.h"

#define SSPR_LINE_MAX 1024 /* bytes in one line, without its newline */

enum ktype { K_LIST, K_BOOL, K_UINT, K_RRC, K_ON_SUCCESS, K_HASH, K_FACILITY,
             K_NOTIFY_COMMAND, K_NOTIFY_USER };

/* Flags for list keys. */
#define L_ABSPATH 1u /* every entry must be an absolute path */

struct key {
	const char *name;
	enum ktype type;
	size_t off;               /* offset of the member in struct sspr_config */
	long long min, max;       /* K_UINT */
	unsigned flags;           /* K_LIST */
};

#define OFF(m) offsetof(struct sspr_config, m)

/* Ranges of the numeric keys (inclusive):
 *
 *   key              min       max         why
 *   min_uid          0         4294967294  any uid but (uid_t)-1
 *   max_uid          0         4294967294  and min_uid <= max_uid
 *   window           0         10          TOTP steps each side
 *   hotp_lookahead   0         100         HOTP counters ahead
 *   max_code_tries   1         10          code attempts per session
 *   session_timeout  5         3600        seconds
 *   deny             1         1000        failures per name per interval
 *   fail_interval    1         604800      seconds (one week)
 *   unlock_time      0         31536000    seconds (one year); 0: no lockout wait
 *   max_unlock_time  0         31536000    and unlock_time <= max_unlock_time
 *   hard_deny        1         100000      and deny <= hard_deny
 *   rhost_deny       1         100000      failures per source per interval
 *   global_rate      1         100000      sessions per minute, host-wide
 *   caller_rate      1         10000       sessions per minute per caller
 *   max_tallies      100       10000000    tally files kept
 *   min_length       6         512         characters of a new password
 *   recovery_codes   0         40          codes issued per set (they travel in one 512-byte protocol field to a self-service user)
 *   notify_timeout   1         300         seconds notify_command may run before it is killed
 */
static const struct key keys[] = {
	/* who may reset */
	{ "services",              K_LIST, OFF(services), 0, 0, 0 },
	{ "allow_groups",          K_LIST, OFF(allow_groups), 0, 0, 0 },
	{ "deny_groups",           K_LIST, OFF(deny_groups), 0, 0, 0 },
	{ "deny_users",            K_LIST, OFF(deny_users), 0, 0, 0 },
	{ "min_uid",               K_UINT, OFF(min_uid), 0, 4294967294LL, 0 },
	{ "max_uid",               K_UINT, OFF(max_uid), 0, 4294967294LL, 0 },
	{ "deny_shells",           K_LIST, OFF(deny_shells), 0, 0, L_ABSPATH },
	{ "allow_remote",          K_BOOL, OFF(allow_remote), 0, 0, 0 },
	{ "conceal",               K_BOOL, OFF(conceal), 0, 0, 0 },
	{ "self_enroll",           K_BOOL, OFF(self_enroll), 0, 0, 0 },
	/* challenge */
	{ "window",                K_UINT, OFF(window), 0, 10, 0 },
	{ "hotp_lookahead",        K_UINT, OFF(hotp_lookahead), 0, 100, 0 },
	{ "max_code_tries",        K_UINT, OFF(max_code_tries), 1, 10, 0 },
	{ "session_timeout",       K_UINT, OFF(session_timeout), 5, 3600, 0 },
	{ "require_recovery_code", K_RRC, OFF(require_recovery_code), 0, 0, 0 },
	/* rate limits */
	{ "deny",                  K_UINT, OFF(deny), 1, 1000, 0 },
	{ "fail_interval",         K_UINT, OFF(fail_interval), 1, 604800, 0 },
	{ "unlock_time",           K_UINT, OFF(unlock_time), 0, 31536000, 0 },
	{ "max_unlock_time",       K_UINT, OFF(max_unlock_time), 0, 31536000, 0 },
	{ "hard_deny",             K_UINT, OFF(hard_deny), 1, 100000, 0 },
	{ "rhost_deny",            K_UINT, OFF(rhost_deny), 1, 100000, 0 },
	{ "global_rate",           K_UINT, OFF(global_rate), 1, 100000, 0 },
	{ "caller_rate",           K_UINT, OFF(caller_rate), 1, 10000, 0 },
	{ "max_tallies",           K_UINT, OFF(max_tallies), 100, 10000000, 0 },
	/* new password */
	{ "min_length",            K_UINT, OFF(min_length), 6, 512, 0 },
	{ "use_pwquality",         K_BOOL, OFF(use_pwquality), 0, 0, 0 },
	{ "reject_reuse",          K_BOOL, OFF(reject_reuse), 0, 0, 0 },
	{ "hash",                  K_HASH, OFF(hash), 0, 0, 0 },
	/* outcome, notification and audit */
	{ "on_success",            K_ON_SUCCESS, OFF(on_success), 0, 0, 0 },
	{ "reset_faillock",        K_BOOL, OFF(reset_faillock), 0, 0, 0 },
	{ "recovery_codes",        K_UINT, OFF(recovery_codes), 0, 40, 0 },
	{ "notify_command",        K_NOTIFY_COMMAND, OFF(notify_command), 0, 0, 0 },
	{ "notify_user",           K_NOTIFY_USER, OFF(notify_user), 0, 0, 0 },
	{ "notify_timeout",        K_UINT, OFF(notify_timeout), 1, 300, 0 },
	{ "syslog_facility",       K_FACILITY, OFF(syslog_facility), 0, 0, 0 },
};
#define NKEYS SSPR_ELEMENTSOF(keys)

/* Pairs that must be ordered (first <= second) once the file is read. */
static const struct {
	const char *lo, *hi;
} ordered[] = {
	{ "min_uid", "max_uid" },
	{ "unlock_time", "max_unlock_time" },
	{ "deny", "hard_deny" },
};

static const char *const hash_names[] = {
	[SSPR_HASH_DEFAULT] = "default",
	[SSPR_HASH_LOGIN_DEFS] = "login.defs",
	[SSPR_HASH_YESCRYPT] = "yescrypt",
	[SSPR_HASH_GOST_YESCRYPT] = "gost-yescrypt",
	[SSPR_HASH_SCRYPT] = "scrypt",
	[SSPR_HASH_SHA512] = "sha512",
	[SSPR_HASH_SHA256] = "sha256",
	[SSPR_HASH_BCRYPT] = "bcrypt",
};

/* Methods crypt(3) knows that we refuse by name (SPEC section 3). */
static const char *const weak_hashes[] = {
	"des", "descrypt", "bsdicrypt", "bigcrypt", "md5", "md5crypt", "sunmd5",
	"sha1", "sha1crypt", "nt", "nthash", "bsdi",
};

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV }, { "daemon", LOG_DAEMON },
	{ "user", LOG_USER }, { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static const char *const default_services[] = { "login", "sshd", "gdm-password",
                                                  "lightdm", "sddm" };
static const char *const default_deny_groups[] = { "root", "sudo", "wheel", "adm",
	"admin", "staff", "shadow", "disk", "docker", "lxd", "libvirt" };
static const char *const default_deny_users[] = { "root" };
static const char *const default_deny_shells[] = { "/usr/sbin/nologin", "/sbin/nologin",
                                                     "/bin/false", "/usr/bin/false" };

const char *sspr_hash_name(enum sspr_hash h)
{
	if ((unsigned)h < SSPR_ELEMENTSOF(hash_names) && hash_names[h])
		return hash_names[h];
	return "unknown";
}

bool sspr_strlist_contains(const struct sspr_strlist *l, const char *s)
{
	if (!l || !s)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] && strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static void strlist_clear(struct sspr_strlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]);
		l->v[i] = NULL;
	}
	l->n = 0;
}

static int strlist_set(struct sspr_strlist *l, const char *const *v, size_t n)
{
	strlist_clear(l);
	for (size_t i = 0; i < n && i < SSPR_LIST_MAX; i++) {
		l->v[i] = strdup(v[i]);
		if (!l->v[i])
			return -ENOMEM;
		l->n = i + 1;
	}
	return 0;
}

void sspr_config_free(struct sspr_config *c)
{
	if (!c)
		return;
	strlist_clear(&c->services);
	strlist_clear(&c->allow_groups);
	strlist_clear(&c->deny_groups);
	strlist_clear(&c->deny_users);
	strlist_clear(&c->deny_shells);
	free(c->notify_command);
	free(c->notify_user);
	memset(c, 0, sizeof *c);
}

int sspr_config_defaults(struct sspr_config *c)
{
	int r;

	memset(c, 0, sizeof *c);
	if ((r = strlist_set(&c->services, default_services,
	                     SSPR_ELEMENTSOF(default_services))) < 0 ||
	    (r = strlist_set(&c->deny_groups, default_deny_groups,
	                     SSPR_ELEMENTSOF(default_deny_groups))) < 0 ||
	    (r = strlist_set(&c->deny_users, default_deny_users,
	                     SSPR_ELEMENTSOF(default_deny_users))) < 0 ||
	    (r = strlist_set(&c->deny_shells, default_deny_shells,
	                     SSPR_ELEMENTSOF(default_deny_shells))) < 0)
		return r;
	c->min_uid = 1000;
	c->max_uid = 60000;
	c->allow_remote = true;
	c->conceal = true;
	c->self_enroll = true;

	c->window = 1;
	c->hotp_lookahead = 10;
	c->max_code_tries = 3;
	c->session_timeout = 300;
	c->require_recovery_code = SSPR_RRC_NO;

	c->deny = 5;
	c->fail_interval = 900;
	c->unlock_time = 900;
	c->max_unlock_time = 86400;
	c->hard_deny = 20;
	c->rhost_deny = 20;
	c->global_rate = 60;
	c->caller_rate = 5;
	c->max_tallies = 100000;

	c->min_length = 12;
	c->use_pwquality = true;
	c->reject_reuse = true;
	c->hash = SSPR_HASH_DEFAULT;

	c->on_success = SSPR_ON_SUCCESS_LOGIN;
	c->reset_faillock = true;
	c->recovery_codes = 10;
	c->notify_command = NULL;
	c->notify_user = strdup("nobody");
	if (!c->notify_user)
		return -ENOMEM;
	c->notify_timeout = 10;
	c->syslog_facility = LOG_AUTHPRIV;
	return 0;
}

/* ---- the parser ---- */

struct parser {
	struct sspr_config *c;
	const char *fname;
	sspr_diag_fn diag;
	void *userdata;
	unsigned errors;
	unsigned set_line[NKEYS]; /* line a key was set on, 0: not in this file */
	bool bad[NKEYS];          /* the key's value was refused */
};

static void report(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[1024];
	int n;
	va_list ap;

	p->errors++;
	if (!p->diag)
		return;
	if (line)
		n = snprintf(msg, sizeof msg, "%s:%u: ", p->fname, line);
	else
		n = snprintf(msg, sizeof msg, "%s: ", p->fname);
	if (n < 0 || (size_t)n >= sizeof msg)
		n = 0;
	va_start(ap, fmt);
	(void)vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	p->diag(p->userdata, msg);
}

/* Quote s (len bytes) for a message: printable ASCII as is, the rest as
 * \xNN, at most ~80 characters, then "...". */
static const char *quote(char *buf, size_t buflen, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (o + 8 >= buflen || i >= 80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

static bool is_ws(char ch)
{
	return ch == ' ' || ch == '\t';
}

static const struct key *find_key(const char *name, size_t *ret_idx)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0) {
			*ret_idx = i;
			return &keys[i];
		}
	return NULL;
}

/* Returns 0, -EINVAL (value refused, reported) or -ENOMEM. */
static int set_list(struct parser *p, unsigned line, const struct key *k, char *value)
{
	struct sspr_strlist *dst = (struct sspr_strlist *)((char *)p->c + k->off);
	struct sspr_strlist l = { 0 };
	char *s = value;
	char q[128];
	int r = 0;

	while (*s) {
		char *tok;
		size_t n;

		while (is_ws(*s))
			s++;
		if (!*s)
			break;
		tok = s;
		while (*s && !is_ws(*s))
			s++;
		n = (size_t)(s - tok);
		if (l.n >= SSPR_LIST_MAX) {
			report(p, line, "%s = \"%s\": more than %d entries", k->name,
			       quote(q, sizeof q, value, strlen(value)), SSPR_LIST_MAX);
			r = -EINVAL;
			goto out;
		}
		if ((k->flags & L_ABSPATH) && tok[0] != '/') {
			report(p, line, "%s: entry \"%s\" is not an absolute path", k->name,
			       quote(q, sizeof q, tok, n));
			r = -EINVAL;
			goto out;
		}
		l.v[l.n] = strndup(tok, n);
		if (!l.v[l.n]) {
			r = -ENOMEM;
			goto out;
		}
		l.n++;
	}
	strlist_clear(dst);
	*dst = l;
	return 0;
out:
	strlist_clear(&l);
	return r;
}

static int set_value(struct parser *p, unsigned line, const struct key *k, char *value)
{
	void *m = (char *)p->c + k->off;
	size_t len = strlen(value);
	char q[128];
	long long v;
	int r;

	quote(q, sizeof q, value, len);
	switch (k->type) {
	case K_LIST:
		return set_list(p, line, k, value);

	case K_BOOL:
		if (strcmp(value, "yes") == 0)
			*(bool *)m = true;
		else if (strcmp(value, "no") == 0)
			*(bool *)m = false;
		else
			goto bad_bool;
		return 0;

	case K_UINT:
		if (!*value)
			goto bad_empty;
		if (value[0] < '0' || value[0] > '9') {
			r = -EINVAL;
		} else {
			r = sspr_strtonum(value, k->min, k->max, &v);
		}
		if (r == -ERANGE) {
			report(p, line, "%s = \"%s\": out of range %lld..%lld", k->name, q,
			       k->min, k->max);
			return -EINVAL;
		}
		if (r < 0) {
			report(p, line, "%s = \"%s\": not a decimal number", k->name, q);
			return -EINVAL;
		}
		*(unsigned *)m = (unsigned)v;
		return 0;

	case K_RRC:
		if (strcmp(value, "no") == 0)
			*(enum sspr_rrc *)m = SSPR_RRC_NO;
		else if (strcmp(value, "remote") == 0)
			*(enum sspr_rrc *)m = SSPR_RRC_REMOTE;
		else if (strcmp(value, "always") == 0)
			*(enum sspr_rrc *)m = SSPR_RRC_ALWAYS;
		else {
			report(p, line, "%s = \"%s\": expected no, remote or always", k->name, q);
			return -EINVAL;
		}
		return 0;

	case K_ON_SUCCESS:
		if (strcmp(value, "login") == 0)
			*(enum sspr_on_success *)m = SSPR_ON_SUCCESS_LOGIN;
		else if (strcmp(value, "relogin") == 0)
			*(enum sspr_on_success *)m = SSPR_ON_SUCCESS_RELOGIN;
		else {
			report(p, line, "%s = \"%s\": expected login or relogin", k->name, q);
			return -EINVAL;
		}
		return 0;

	case K_HASH:
		for (size_t i = 0; i < SSPR_ELEMENTSOF(hash_names); i++)
			if (strcmp(value, hash_names[i]) == 0) {
				*(enum sspr_hash *)m = (enum sspr_hash)i;
				return 0;
			}
		for (size_t i = 0; i < SSPR_ELEMENTSOF(weak_hashes); i++)
			if (strcasecmp(value, weak_hashes[i]) == 0) {
				report(p, line, "%s = \"%s\": weak hash method, refused (use "
				       "default, yescrypt or sha512)", k->name, q);
				return -EINVAL;
			}
		report(p, line, "%s = \"%s\": unknown hash method (expected default, "
		       "login.defs, yescrypt, gost-yescrypt, scrypt, sha512, sha256 or "
		       "bcrypt)", k->name, q);
		return -EINVAL;

	case K_FACILITY:
		for (size_t i = 0; i < SSPR_ELEMENTSOF(facilities); i++)
			if (strcmp(value, facilities[i].name) == 0) {
				*(int *)m = facilities[i].value;
				return 0;
			}
		report(p, line, "%s = \"%s\": expected auth, authpriv, daemon, user or "
		       "local0..local7", k->name, q);
		return -EINVAL;

	case K_NOTIFY_COMMAND: {
		char *dup = NULL;

		if (*value && value[0] != '/') {
			report(p, line, "%s = \"%s\": must be empty or start with an "
			       "absolute path", k->name, q);
			return -EINVAL;
		}
		if (*value && !(dup = strdup(value)))
			return -ENOMEM;
		free(*(char **)m);
		*(char **)m = dup;
		return 0;
	}

	case K_NOTIFY_USER: {
		bool digits = true;
		char *dup;

		if (!*value)
			goto bad_empty;
		if (strcmp(value, "root") == 0) {
			report(p, line, "%s = \"%s\": notify_command never runs as root",
			       k->name, q);
			return -EINVAL;
		}
		for (const char *s = value; *s; s++) {
			if (is_ws(*s) || *s == ':' || *s == '/' || *s == ',') {
				report(p, line, "%s = \"%s\": not a user name", k->name, q);
				return -EINVAL;
			}
			if (*s < '0' || *s > '9')
				digits = false;
		}
		if (digits || value[0] == '-') {
			report(p, line, "%s = \"%s\": not a user name", k->name, q);
			return -EINVAL;
		}
		dup = strdup(value);
		if (!dup)
			return -ENOMEM;
		free(*(char **)m);
		*(char **)m = dup;
		return 0;
	}
	}
	return -EINVAL;

bad_bool:
	report(p, line, "%s = \"%s\": expected yes or no", k->name, q);
	return -EINVAL;
bad_empty:
	report(p, line, "%s = \"\": a value is required", k->name);
	return -EINVAL;
}

/* One line, without its newline (len bytes, may hold NUL). */
static int parse_line(struct parser *p, unsigned line, const char *text, size_t len)
{
	char buf[SSPR_LINE_MAX + 1];
	char q[128], q2[128];
	char *key, *eq, *value, *end;
	const struct key *k;
	size_t idx;
	int r;

	if (len > 0 && text[len - 1] == '\r')
		len--; /* CR LF */
	if (len > SSPR_LINE_MAX) {
		report(p, line, "line longer than %d bytes: \"%s\"", SSPR_LINE_MAX,
		       quote(q, sizeof q, text, len));
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '\0') {
			report(p, line, "NUL byte in line: \"%s\"", quote(q, sizeof q, text, len));
			return 0;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			report(p, line, "control character in line: \"%s\"",
			       quote(q, sizeof q, text, len));
			return 0;
		}
	}
	memcpy(buf, text, len);
	buf[len] = '\0';

	/* comment: '#' at the start or after white space */
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '#' && (i == 0 || is_ws(buf[i - 1]))) {
			buf[i] = '\0';
			break;
		}
	key = buf;
	while (is_ws(*key))
		key++;
	end = key + strlen(key);
	while (end > key && is_ws(end[-1]))
		*--end = '\0';
	if (!*key)
		return 0; /* blank or comment */

	eq = strchr(key, '=');
	if (!eq) {
		report(p, line, "missing '=' in \"%s\"", quote(q, sizeof q, key, strlen(key)));
		return 0;
	}
	value = eq + 1;
	end = eq;
	while (end > key && is_ws(end[-1]))
		end--;
	*end = '\0';
	while (is_ws(*value))
		value++;
	if (!*key) {
		report(p, line, "missing key before '=' in \"%s\"",
		       quote(q, sizeof q, text, len));
		return 0;
	}
	k = find_key(key, &idx);
	if (!k) {
		report(p, line, "unknown key \"%s\" (value \"%s\")",
		       quote(q, sizeof q, key, strlen(key)),
		       quote(q2, sizeof q2, value, strlen(value)));
		return 0;
	}
	if (p->set_line[idx]) {
		report(p, line, "duplicate key %s = \"%s\" (first set on line %u)", k->name,
		       quote(q, sizeof q, value, strlen(value)), p->set_line[idx]);
		return 0;
	}
	p->set_line[idx] = line;
	r = set_value(p, line, k, value);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		p->bad[idx] = true;
	return 0;
}

static void check_order(struct parser *p)
{
	for (size_t i = 0; i < SSPR_ELEMENTSOF(ordered); i++) {
		size_t lo, hi;
		const struct key *klo = find_key(ordered[i].lo, &lo);
		const struct key *khi = find_key(ordered[i].hi, &hi);
		unsigned vlo, vhi, line;

		if (!klo || !khi || p->bad[lo] || p->bad[hi])
			continue;
		vlo = *(const unsigned *)((const char *)p->c + klo->off);
		vhi = *(const unsigned *)((const char *)p->c + khi->off);
		if (vlo <= vhi)
			continue;
		line = p->set_line[lo] > p->set_line[hi] ? p->set_line[lo] : p->set_line[hi];
		if (line == p->set_line[hi] && line)
			report(p, line, "%s = \"%u\": less than %s (%u)", khi->name, vhi,
			       klo->name, vlo);
		else
			report(p, line, "%s = \"%u\": greater than %s (%u)", klo->name, vlo,
			       khi->name, vhi);
	}
}

int sspr_config_parse(struct sspr_config *c, const char *text, size_t len,
                      const char *fname, sspr_diag_fn diag, void *userdata)
{
	struct parser p;
	unsigned line = 0;
	size_t pos = 0;
	int r;

	memset(&p, 0, sizeof p);
	p.c = c;
	p.fname = fname ? fname : "sspr.conf";
	p.diag = diag;
	p.userdata = userdata;
	if (!c || (!text && len))
		return -EINVAL;
	if (len > SSPR_CONF_MAX) {
		report(&p, 0, "larger than %d bytes", SSPR_CONF_MAX);
		return -SSPR_E_CONFIG;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		line++;
		r = parse_line(&p, line, text + pos, n);
		if (r < 0)
			return r;
		pos += n + (nl ? 1 : 0);
	}
	check_order(&p);
	return p.errors ? -SSPR_E_CONFIG : 0;
}

/* ---- loading the file ---- */

static void load_diag(sspr_diag_fn diag, void *userdata, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void load_diag(sspr_diag_fn diag, void *userdata, const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	va_list ap;

	if (!diag)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag(userdata, msg);
}

int sspr_config_load(struct sspr_config *c, const char *path, uid_t owner,
                     sspr_diag_fn diag, void *userdata)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t got = 0;
	int r;

	r = sspr_config_defaults(c);
	if (r < 0)
		return r;
	if (!path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP) {
			load_diag(diag, userdata, "%s: is a symbolic link; must be a regular "
			          "file owned by uid %u and not writable by group or others",
			          path, (unsigned)owner);
			return -SSPR_E_UNSAFE_FILE;
		}
		load_diag(diag, userdata, "%s: %s", path, sspr_strerror(r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		load_diag(diag, userdata, "%s: %s", path, sspr_strerror(r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		load_diag(diag, userdata, "%s: not a regular file", path);
		return -SSPR_E_UNSAFE_FILE;
	}
	if (st.st_uid != owner || (st.st_mode & 022)) {
		load_diag(diag, userdata, "%s: must be owned by uid %u and not writable by "
		          "group or others (owner uid %u, mode %04o)", path, (unsigned)owner,
		          (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -SSPR_E_UNSAFE_FILE;
	}
	if (st.st_size > SSPR_CONF_MAX) {
		load_diag(diag, userdata, "%s: larger than %d bytes", path, SSPR_CONF_MAX);
		return -SSPR_E_CONFIG;
	}
	buf = malloc(SSPR_CONF_MAX + 1);
	if (!buf)
		return -ENOMEM;
	/* read one byte past the cap to notice a file that grew */
	while (got < SSPR_CONF_MAX + 1) {
		ssize_t n = read(fd, buf + got, SSPR_CONF_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			load_diag(diag, userdata, "%s: %s", path, sspr_strerror(r));
			return r;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > SSPR_CONF_MAX) {
		load_diag(diag, userdata, "%s: larger than %d bytes", path, SSPR_CONF_MAX);
		return -SSPR_E_CONFIG;
	}
	return sspr_config_parse(c, buf, got, path, diag, userdata);
}
