/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli audit init | show | verify | rotate: the signed journal
 * (journal.h), from the admin's side.  Reading and verifying change
 * nothing but roll a crashed append forward, as any writer would. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/journal.h"
#include "cli.h"

#define CMD "audit"

static const char usage_text[] =
	"Usage: sspr-cli audit init [--force]\n"
	"       sspr-cli audit show [--user USER] [--since TIME] [--json]\n"
	"       sspr-cli audit verify [--key PUBKEY]\n"
	"       sspr-cli audit rotate\n"
	"\n"
	"The signed audit journal in the state directory (journal/).\n"
	"\n"
	"  init     start a new chain (refused over an existing one unless\n"
	"           --force, which moves the old one aside) and print its first\n"
	"           public key: keep that line somewhere else\n"
	"  show     print the entries, oldest first: all, or those naming USER\n"
	"           (user=), or those since TIME; --json: one JSON object a line\n"
	"  verify   check every entry's sequence, chain and signature across the\n"
	"           rotated files, from PUBKEY (64 hex digits; default: the copy\n"
	"           kept in the state directory, which proves less); prints\n"
	"           'bad entry seq=N: WHY' and exits 1 at the first bad entry\n"
	"  rotate   close the current file and start a new one; prints the key\n"
	"           of the next entry (also kept)\n"
	"\n"
	"TIME is ISO 8601 in UTC (2026-11-29, 2026-11-29T14:03, ...:05Z) or\n"
	"relative: 30m, 24h, 7d (s, m, h, d).\n"
	"\n"
	"Options:\n"
	"  -h, --help    show this help\n";

int cli_parse_since(const char *s, time_t now, time_t *ret)
{
	static const char *const fmts[] = {
		"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%MZ",
		"%Y-%m-%dT%H:%M", "%Y-%m-%d",
	};
	size_t n = strlen(s);
	long long v;

	if (n >= 2 && n <= 12 && strchr("smhd", s[n - 1]) && s[0] >= '0' && s[0] <= '9') {
		char num[16];
		long long mult = s[n - 1] == 's' ? 1 : s[n - 1] == 'm' ? 60 :
		                 s[n - 1] == 'h' ? 3600 : 86400;

		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		if (sspr_strtonum(num, 0, 100LL * 366 * 86400 / mult, &v) < 0)
			return -EINVAL;
		*ret = now - (time_t)(v * mult);
		return 0;
	}
	for (size_t i = 0; i < SSPR_ELEMENTSOF(fmts); i++) {
		struct tm tm = { .tm_isdst = 0 };
		const char *end = strptime(s, fmts[i], &tm);
		time_t t;

		if (!end || *end)
			continue;
		t = timegm(&tm);
		if (t == (time_t)-1)
			return -EINVAL;
		*ret = t;
		return 0;
	}
	return -EINVAL;
}

/* Start as admin with the config loaded (the journal lives in its state
 * directory).  Returns 0 or an exit code. */
static int start(struct cli_ctx *ctx, const char *sub)
{
	char refusal[64];
	int r;

	r = cli_ctx_init(ctx, CMD);
	if (r != 0)
		return r;
	if (!ctx->admin) {
		(void)snprintf(refusal, sizeof refusal, "only root may %s the audit journal", sub);
		return cli_fail(CMD, "%s", refusal);
	}
	return cli_ctx_load_config(ctx);
}

static int journal_error(const struct cli_ctx *ctx, int r)
{
	if (r == -ENOENT)
		return cli_fail(CMD, "no audit journal in %s/journal (it starts at the first "
		                "event, or with 'sspr-cli audit init')", ctx->paths.statedir);
	return cli_fail(CMD, "%s/journal: %s", ctx->paths.statedir, sspr_strerror(r));
}

/* --- init ------------------------------------------------------------------ */

static int audit_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	unsigned char pk[32];
	char hex[SSPR_JOURNAL_PK_HEX];
	bool force = false;
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":fh", longopts)) != -1) {
		if (c == 'h')
			return cli_help(usage_text);
		if (c != 'f')
			return CLI_EXIT_USAGE;
		force = true;
	}
	if (optind < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'", cli_safe(argv[optind]));
	r = start(&ctx, "start");
	if (r != 0)
		return r;
	r = sspr_journal_init(ctx.paths.statedir, force, pk);
	if (r == -EEXIST)
		return cli_fail(CMD, "a journal already exists in %s/journal; --force moves it "
		                "aside and starts a new chain", ctx.paths.statedir);
	if (r < 0)
		return journal_error(&ctx, r);
	sspr_journal_key_hex(pk, hex);
	printf("%s\n", hex);
	return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* --- show ------------------------------------------------------------------- */

struct show {
	const char *user;
	time_t since;
	bool have_since, json;
	struct cli_out out;
	uint64_t shown, unreadable;
};

static bool names_user(const struct sspr_journal_entry *e, const char *user)
{
	const char *p = e->payload, *end = e->payload + e->payload_len;
	char key[32], val[SSPR_AUDIT_LINE_MAX];

	while (sspr_audit_next_field(&p, end, key, sizeof key, val, sizeof val) == 1)
		if (strcmp(key, "user") == 0 && strcmp(val, user) == 0)
			return true;
	return false;
}

static int show_one(void *ud, const struct sspr_journal_entry *e, const char *line, size_t len)
{
	struct show *s = ud;
	const char *p, *end;
	char key[32], val[SSPR_AUDIT_LINE_MAX];

	(void)line;
	(void)len;
	if (!e) {
		s->unreadable++;
		return 0;
	}
	if ((s->have_since && e->when < s->since) || (s->user && !names_user(e, s->user)))
		return 0;
	s->out.len = 0;
	if (!s->json) {
		cli_out_fmt(&s->out, "%s seq=%" PRIu64 " ", e->time, e->seq);
		cli_out_add(&s->out, e->payload, e->payload_len);
		cli_out_str(&s->out, "\n");
	} else {
		cli_out_fmt(&s->out, "{\"seq\":%" PRIu64 ",\"time\":\"%s\"", e->seq, e->time);
		p = e->payload;
		end = e->payload + e->payload_len;
		while (sspr_audit_next_field(&p, end, key, sizeof key, val, sizeof val) == 1) {
			/* event first, then the fields as they come */
			cli_out_str(&s->out, ",\"");
			cli_out_str(&s->out, key);
			cli_out_str(&s->out, "\":");
			cli_out_json_str(&s->out, val);
		}
		cli_out_str(&s->out, "}\n");
	}
	s->shown++;
	return cli_out_write(&s->out, STDOUT_FILENO) < 0 ? -EIO : 0;
}

static int audit_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	struct show s = { .user = NULL };
	const char *since = NULL;
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":u:s:jh", longopts)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(usage_text);
		case 'u':
			s.user = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'j':
			s.json = true;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'", cli_safe(argv[optind]));
	if (since) {
		if (cli_parse_since(since, time(NULL), &s.since) < 0)
			return cli_usage_error(CMD, "--since: not a time: '%s' (ISO 8601, or 30m, 24h, 7d)",
			                       cli_safe(since));
		s.have_since = true;
	}
	r = start(&ctx, "read");
	if (r != 0)
		return r;
	r = sspr_journal_foreach(ctx.paths.statedir, show_one, &s);
	cli_out_free(&s.out);
	if (r == -EIO)
		return cli_fail(CMD, "cannot write the output");
	if (r < 0)
		return journal_error(&ctx, r);
	if (s.unreadable)
		cli_warn(CMD, "%" PRIu64 " entries could not be read; run 'sspr-cli audit verify'",
		         s.unreadable);
	return CLI_EXIT_OK;
}

/* --- verify ------------------------------------------------------------------- */

static int audit_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	struct sspr_journal_report rep;
	unsigned char pk[32];
	bool have_key = false;
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":k:h", longopts)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(usage_text);
		case 'k':
			if (sspr_journal_key_parse(optarg, pk) < 0)
				return cli_usage_error(CMD, "--key: not a public key (64 hex digits)");
			have_key = true;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'", cli_safe(argv[optind]));
	r = start(&ctx, "verify");
	if (r != 0)
		return r;
	r = sspr_journal_verify(ctx.paths.statedir, have_key ? pk : NULL, &rep);
	if (r == -SSPR_E_RECORD) {
		printf("bad entry seq=%" PRIu64 ": %s\n", rep.bad_seq, rep.why);
		(void)fflush(stdout);
		return CLI_EXIT_FAIL;
	}
	if (r < 0)
		return journal_error(&ctx, r);
	if (rep.entries == 0)
		printf("ok: no entries yet\n");
	else
		printf("ok: %" PRIu64 " entries, seq=%" PRIu64 "..%" PRIu64 " in %u file%s, the "
		       "last at %s\n",
		       rep.entries, rep.first_seq, rep.last_seq, rep.files, rep.files == 1 ? "" : "s",
		       rep.last_time);
	if (rep.key_from_kept)
		printf("note: checked from the key kept in the state directory; give --key with "
		       "your own copy to rule out a rewritten journal\n");
	if (rep.absent_before)
		printf("note: entries before seq=%" PRIu64 " are not here (rotated files "
		       "archived or removed); they were not checked\n",
		       rep.absent_before);
	if (!rep.state_checked)
		printf("note: the journal state could not be read: a cut tail is not detected\n");
	return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* --- rotate ------------------------------------------------------------------- */

static int audit_rotate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	unsigned char pk[32];
	char hex[SSPR_JOURNAL_PK_HEX];
	uint64_t first, last;
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":h", longopts)) != -1)
		return c == 'h' ? cli_help(usage_text) : CLI_EXIT_USAGE;
	if (optind < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'", cli_safe(argv[optind]));
	r = start(&ctx, "rotate");
	if (r != 0)
		return r;
	r = sspr_journal_rotate(ctx.paths.statedir, &first, &last, pk);
	if (r == -ENODATA) {
		printf("nothing to rotate: the current file holds no entry\n");
		return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	}
	if (r < 0)
		return journal_error(&ctx, r);
	sspr_journal_key_hex(pk, hex);
	printf("rotated seq=%" PRIu64 "..%" PRIu64 " to journal-%020" PRIu64 ".log\n"
	       "key of seq=%" PRIu64 ": %s\n",
	       first, last, first, last + 1, hex);
	return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cli_audit(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
		{ "init", audit_init },
		{ "show", audit_show },
		{ "verify", audit_verify },
		{ "rotate", audit_rotate },
	};
	const char *sub;

	if (argc < 2)
		return cli_usage_error(CMD, "a subcommand is required: init, show, verify or rotate");
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return cli_help(usage_text);
	for (size_t i = 0; i < SSPR_ELEMENTSOF(subs); i++)
		if (strcmp(sub, subs[i].name) == 0) {
			optind = 0;
			return subs[i].fn(argc - 1, argv + 1);
		}
	return cli_usage_error(CMD, "unknown subcommand '%s'", cli_safe(sub));
}
