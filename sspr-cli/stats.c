/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-cli stats: the service-level indicators of SPEC section 7, counted
 * from the audit journal (unverified: `audit verify` proves it), as text,
 * JSON or the node_exporter textfile format.
 *
 *   attempts        reset_start events (reset sessions that asked for a code)
 *   resets          reset_ok;  success rate = resets / attempts
 *   code checks     code_ok + code_fail;  failure rate = code_fail / checks
 *   lockouts        locked;  rate-limit hits: rate_limited
 *   notify failures notify_fail (notify_command failed or was killed)
 *   time to reset   duration_ms of reset_ok: median and p95, nearest rank
 *   per method      totp, hotp, recovery (method= of code_ok, code_fail,
 *                   reset_ok; "none" when the event has none) */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sspr/audit.h"
#include "sspr/common.h"
#include "sspr/journal.h"
#include "cli.h"

#define CMD "stats"
#define NMETHODS 4

static const char usage_text[] =
	"Usage: sspr-cli stats [--since TIME] [--format text|json|prometheus]\n"
	"\n"
	"Service-level indicators from the audit journal: reset attempts, success\n"
	"rate, code failure rate, lockouts, rate-limit hits, time to reset (median\n"
	"and p95), and the same per method (totp, hotp, recovery).\n"
	"\n"
	"Options:\n"
	"  --since TIME   only entries at or after TIME (ISO 8601 UTC, or 30m,\n"
	"                 24h, 7d)\n"
	"  --format F     text (default), json, or prometheus (the node_exporter\n"
	"                 textfile format; write it to a .prom file atomically)\n"
	"  -h, --help     show this help\n";

static const char *const method_names[NMETHODS] = { "totp", "hotp", "recovery", "none" };

struct durations {
	uint64_t *v;
	size_t n, cap;
	uint64_t sum;
};

struct counts {
	uint64_t resets, code_ok, code_fail;
	struct durations ttr;
};

struct stats {
	time_t since;
	bool have_since;
	uint64_t entries, unreadable, first_seq, last_seq;
	time_t last_time;
	uint64_t attempts, resets, reset_fail, code_ok, code_fail, locked, rate_limited, denied,
		quality_fail, notify_fail;
	struct durations ttr;
	struct counts m[NMETHODS];
	bool oom;
};

static void dur_add(struct stats *st, struct durations *d, uint64_t ms)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		uint64_t *nv = realloc(d->v, cap * sizeof *nv);

		if (!nv) {
			st->oom = true;
			return;
		}
		d->v = nv;
		d->cap = cap;
	}
	d->v[d->n++] = ms;
	d->sum += ms;
}

static int u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* nearest rank: the smallest value with at least pct% of them at or
 * below it (d sorted, d->n > 0) */
static uint64_t percentile(const struct durations *d, unsigned pct)
{
	size_t rank = (pct * d->n + 99) / 100;

	if (rank < 1)
		rank = 1;
	return d->v[rank - 1];
}

static int method_index(const char *m)
{
	for (int i = 0; i < NMETHODS - 1; i++)
		if (strcmp(m, method_names[i]) == 0)
			return i;
	return NMETHODS - 1;
}

static int count_one(void *ud, const struct sspr_journal_entry *e, const char *line, size_t len)
{
	struct stats *st = ud;
	const char *p, *end;
	char key[32], val[SSPR_AUDIT_LINE_MAX], event[32] = "", method[32] = "none";
	long long ms = -1, v;
	int mi;

	(void)line;
	(void)len;
	if (!e) {
		st->unreadable++;
		return 0;
	}
	if (st->have_since && e->when < st->since)
		return 0;
	if (st->entries++ == 0)
		st->first_seq = e->seq;
	st->last_seq = e->seq;
	st->last_time = e->when;
	p = e->payload;
	end = e->payload + e->payload_len;
	while (sspr_audit_next_field(&p, end, key, sizeof key, val, sizeof val) == 1) {
		if (strcmp(key, "event") == 0)
			(void)sspr_strlcpy(event, val, sizeof event);
		else if (strcmp(key, "method") == 0)
			(void)sspr_strlcpy(method, val, sizeof method);
		else if (strcmp(key, "duration_ms") == 0 &&
		         sspr_strtonum(val, 0, 7LL * 86400 * 1000, &v) == 0)
			ms = v; /* a session is bounded (session_timeout): a week is not one */
	}
	mi = method_index(method);
	if (strcmp(event, "reset_start") == 0) {
		st->attempts++;
	} else if (strcmp(event, "reset_ok") == 0) {
		st->resets++;
		st->m[mi].resets++;
		if (ms >= 0) {
			dur_add(st, &st->ttr, (uint64_t)ms);
			dur_add(st, &st->m[mi].ttr, (uint64_t)ms);
		}
	} else if (strcmp(event, "reset_fail") == 0) {
		st->reset_fail++;
	} else if (strcmp(event, "code_ok") == 0) {
		st->code_ok++;
		st->m[mi].code_ok++;
	} else if (strcmp(event, "code_fail") == 0) {
		st->code_fail++;
		st->m[mi].code_fail++;
	} else if (strcmp(event, "locked") == 0) {
		st->locked++;
	} else if (strcmp(event, "rate_limited") == 0) {
		st->rate_limited++;
	} else if (strcmp(event, "denied") == 0) {
		st->denied++;
	} else if (strcmp(event, "quality_fail") == 0) {
		st->quality_fail++;
	} else if (strcmp(event, "notify_fail") == 0) {
		st->notify_fail++;
	}
	return 0;
}

/* a ratio, or NaN when there is nothing to divide by */
static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : NAN;
}

/* --- text ---------------------------------------------------------------------- */

static void text_pct(const char *label, double r)
{
	if (isnan(r))
		printf("%s-", label);
	else
		printf("%s%.1f%%", label, r * 100.0);
}

static void text_ttr(const struct durations *d)
{
	if (d->n == 0)
		printf("-");
	else
		printf("median %.1f s, p95 %.1f s (%zu)", (double)percentile(d, 50) / 1000.0,
		       (double)percentile(d, 95) / 1000.0, d->n);
}

static void print_text(const struct stats *st)
{
	char t[32];

	if (st->entries)
		printf("journal entries:   %" PRIu64 " (seq=%" PRIu64 "..%" PRIu64
		       ", the last at %s)\n",
		       st->entries, st->first_seq, st->last_seq, cli_iso8601(st->last_time, t));
	else
		printf("journal entries:   0\n");
	if (st->have_since)
		printf("since:             %s\n", cli_iso8601(st->since, t));
	printf("reset attempts:    %" PRIu64 "\n", st->attempts);
	printf("resets:            %" PRIu64, st->resets);
	text_pct(" (success rate ", ratio(st->resets, st->attempts));
	printf(")\nreset failures:    %" PRIu64 "\n", st->reset_fail);
	printf("code checks:       %" PRIu64 " ok, %" PRIu64 " failed", st->code_ok, st->code_fail);
	text_pct(" (failure rate ", ratio(st->code_fail, st->code_ok + st->code_fail));
	printf(")\nlockouts:          %" PRIu64 "\n", st->locked);
	printf("rate-limit hits:   %" PRIu64 "\n", st->rate_limited);
	printf("denied:            %" PRIu64 "\n", st->denied);
	printf("quality failures:  %" PRIu64 "\n", st->quality_fail);
	printf("notify failures:   %" PRIu64 "\n", st->notify_fail);
	printf("time to reset:     ");
	text_ttr(&st->ttr);
	printf("\nby method:\n");
	for (int i = 0; i < NMETHODS; i++) {
		const struct counts *c = &st->m[i];

		if (!c->resets && !c->code_ok && !c->code_fail)
			continue;
		printf("  %-9s resets %" PRIu64 ", codes %" PRIu64 " ok %" PRIu64 " failed",
		       method_names[i], c->resets, c->code_ok, c->code_fail);
		text_pct(" (", ratio(c->code_fail, c->code_ok + c->code_fail));
		printf("), time to reset ");
		text_ttr(&c->ttr);
		printf("\n");
	}
}

/* --- json ---------------------------------------------------------------------- */

static void json_num(const char *key, double r, bool comma)
{
	if (isnan(r))
		printf("\"%s\":null%s", key, comma ? "," : "");
	else
		printf("\"%s\":%.6g%s", key, r, comma ? "," : "");
}

static void json_ttr(const struct durations *d)
{
	if (d->n == 0)
		printf("\"time_to_reset_ms\":{\"count\":0,\"median\":null,\"p95\":null}");
	else
		printf("\"time_to_reset_ms\":{\"count\":%zu,\"median\":%" PRIu64 ",\"p95\":%" PRIu64
		       "}",
		       d->n, percentile(d, 50), percentile(d, 95));
}

static void print_json(const struct stats *st)
{
	char t[32];

	printf("{\"entries\":%" PRIu64 ",", st->entries);
	if (st->have_since)
		printf("\"since\":\"%s\",", cli_iso8601(st->since, t));
	else
		printf("\"since\":null,");
	printf("\"attempts\":%" PRIu64 ",\"resets\":%" PRIu64 ",", st->attempts, st->resets);
	json_num("success_rate", ratio(st->resets, st->attempts), true);
	printf("\"reset_failures\":%" PRIu64 ",\"code_ok\":%" PRIu64 ",\"code_fail\":%" PRIu64 ",",
	       st->reset_fail, st->code_ok, st->code_fail);
	json_num("code_failure_rate", ratio(st->code_fail, st->code_ok + st->code_fail), true);
	printf("\"lockouts\":%" PRIu64 ",\"rate_limited\":%" PRIu64 ",\"denied\":%" PRIu64
	       ",\"quality_failures\":%" PRIu64 ",\"notify_failures\":%" PRIu64 ",",
	       st->locked, st->rate_limited, st->denied, st->quality_fail, st->notify_fail);
	json_ttr(&st->ttr);
	printf(",\"methods\":{");
	for (int i = 0, n = 0; i < NMETHODS; i++) {
		const struct counts *c = &st->m[i];

		if (!c->resets && !c->code_ok && !c->code_fail)
			continue;
		printf("%s\"%s\":{\"resets\":%" PRIu64 ",\"code_ok\":%" PRIu64 ",\"code_fail\":%" PRIu64
		       ",",
		       n++ ? "," : "", method_names[i], c->resets, c->code_ok, c->code_fail);
		json_num("code_failure_rate", ratio(c->code_fail, c->code_ok + c->code_fail), true);
		json_ttr(&c->ttr);
		printf("}");
	}
	printf("}}\n");
}

/* --- prometheus ---------------------------------------------------------------- */

static void prom_head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_val(double v)
{
	if (isnan(v))
		printf("NaN\n");
	else
		printf("%.6g\n", v);
}

static void print_prometheus(const struct stats *st)
{
	prom_head("sspr_journal_entries", "gauge", "Audit journal entries counted.");
	printf("sspr_journal_entries %" PRIu64 "\n", st->entries);
	prom_head("sspr_journal_last_seq", "gauge", "Sequence number of the last journal entry.");
	printf("sspr_journal_last_seq %" PRIu64 "\n", st->last_seq);
	prom_head("sspr_journal_last_entry_timestamp_seconds", "gauge",
	          "Time of the last journal entry, in seconds since the epoch.");
	printf("sspr_journal_last_entry_timestamp_seconds %lld\n", (long long)st->last_time);
	prom_head("sspr_reset_attempts_total", "counter",
	          "Password reset sessions that asked for a code (reset_start).");
	printf("sspr_reset_attempts_total %" PRIu64 "\n", st->attempts);
	prom_head("sspr_resets_total", "counter", "Passwords reset (reset_ok), by method.");
	for (int i = 0; i < NMETHODS; i++)
		printf("sspr_resets_total{method=\"%s\"} %" PRIu64 "\n", method_names[i],
		       st->m[i].resets);
	prom_head("sspr_reset_failures_total", "counter",
	          "Reset sessions that ended in failure (reset_fail).");
	printf("sspr_reset_failures_total %" PRIu64 "\n", st->reset_fail);
	prom_head("sspr_reset_success_ratio", "gauge", "Resets per reset attempt.");
	printf("sspr_reset_success_ratio ");
	prom_val(ratio(st->resets, st->attempts));
	prom_head("sspr_code_checks_total", "counter", "Codes checked, by method and result.");
	for (int i = 0; i < NMETHODS; i++) {
		printf("sspr_code_checks_total{method=\"%s\",result=\"ok\"} %" PRIu64 "\n",
		       method_names[i], st->m[i].code_ok);
		printf("sspr_code_checks_total{method=\"%s\",result=\"fail\"} %" PRIu64 "\n",
		       method_names[i], st->m[i].code_fail);
	}
	prom_head("sspr_code_failure_ratio", "gauge", "Failed codes per code checked.");
	printf("sspr_code_failure_ratio ");
	prom_val(ratio(st->code_fail, st->code_ok + st->code_fail));
	prom_head("sspr_lockouts_total", "counter", "Names locked out after too many failures.");
	printf("sspr_lockouts_total %" PRIu64 "\n", st->locked);
	prom_head("sspr_rate_limited_total", "counter", "Attempts refused by a rate limit.");
	printf("sspr_rate_limited_total %" PRIu64 "\n", st->rate_limited);
	prom_head("sspr_denied_total", "counter", "Reset attempts refused by the policy.");
	printf("sspr_denied_total %" PRIu64 "\n", st->denied);
	prom_head("sspr_quality_failures_total", "counter",
	          "New passwords refused by the password rules.");
	printf("sspr_quality_failures_total %" PRIu64 "\n", st->quality_fail);
	prom_head("sspr_notify_failures_total", "counter",
	          "notify_command runs that failed or were killed at their bound.");
	printf("sspr_notify_failures_total %" PRIu64 "\n", st->notify_fail);
	prom_head("sspr_time_to_reset_seconds", "summary",
	          "Time from the start of a reset session to the new password, by method.");
	for (int i = 0; i < NMETHODS; i++) {
		const struct durations *d = &st->m[i].ttr;

		if (d->n) {
			printf("sspr_time_to_reset_seconds{method=\"%s\",quantile=\"0.5\"} %.3f\n",
			       method_names[i], (double)percentile(d, 50) / 1000.0);
			printf("sspr_time_to_reset_seconds{method=\"%s\",quantile=\"0.95\"} %.3f\n",
			       method_names[i], (double)percentile(d, 95) / 1000.0);
		}
		printf("sspr_time_to_reset_seconds_sum{method=\"%s\"} %.3f\n", method_names[i],
		       (double)d->sum / 1000.0);
		printf("sspr_time_to_reset_seconds_count{method=\"%s\"} %zu\n", method_names[i], d->n);
	}
}

static void stats_free(struct stats *st)
{
	free(st->ttr.v);
	for (int i = 0; i < NMETHODS; i++)
		free(st->m[i].ttr.v);
}

int cli_stats(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_(cli_ctx_done) struct cli_ctx ctx = { .cmd = CMD };
	_cleanup_(stats_free) struct stats st = { .since = 0 };
	const char *since = NULL, *format = "text";
	int c, r;

	while ((c = cli_getopt(CMD, argc, argv, ":s:f:h", longopts)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(usage_text);
		case 's':
			since = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'", cli_safe(argv[optind]));
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "prometheus") != 0)
		return cli_usage_error(CMD, "--format: '%s' is not text, json or prometheus",
		                       cli_safe(format));
	if (since) {
		if (cli_parse_since(since, time(NULL), &st.since) < 0)
			return cli_usage_error(CMD, "--since: not a time: '%s' (ISO 8601, or 30m, 24h, 7d)",
			                       cli_safe(since));
		st.have_since = true;
	}
	r = cli_ctx_init(&ctx, CMD);
	if (r != 0)
		return r;
	if (!ctx.admin)
		return cli_fail(CMD, "only root may read the audit journal");
	r = cli_ctx_load_config(&ctx);
	if (r != 0)
		return r;
	r = sspr_journal_foreach(ctx.paths.statedir, count_one, &st);
	if (r == -ENOENT) {
		/* no journal yet: every figure is zero */
	} else if (r < 0) {
		return cli_fail(CMD, "%s/journal: %s", ctx.paths.statedir, sspr_strerror(r));
	}
	if (st.oom)
		return cli_fail(CMD, "out of memory");
	for (int i = 0; i < NMETHODS; i++)
		if (st.m[i].ttr.n)
			qsort(st.m[i].ttr.v, st.m[i].ttr.n, sizeof(uint64_t), u64cmp);
	if (st.ttr.n)
		qsort(st.ttr.v, st.ttr.n, sizeof(uint64_t), u64cmp);
	if (st.unreadable)
		cli_warn(CMD, "%" PRIu64 " journal entries could not be read and are not counted",
		         st.unreadable);
	if (strcmp(format, "json") == 0)
		print_json(&st);
	else if (strcmp(format, "prometheus") == 0)
		print_prometheus(&st);
	else
		print_text(&st);
	return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
