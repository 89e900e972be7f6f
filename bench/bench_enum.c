/* SPDX-License-Identifier: BSD-2-Clause */
/* Enumeration benchmark (conceal = yes): the helper's response time to a
 * wrong code for four classes of name (enrolled, not enrolled, not
 * eligible, no such account), SAMPLES each, interleaved so that machine
 * noise hits every class alike.  Prints the medians and each class's ratio
 * to the enrolled one: the goal is within 10 %.  A figure, not a test.
 * Run through bench/run-enum-bench.sh (sandbox root, nss_wrapper). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sspr-build.h"
#include "sspr/otp.h"
#include "sspr/passwd.h"
#include "sspr/paths.h"
#include "sspr/proto.h"
#include "sspr/record.h"

#define SECRET "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

static const char *const classes[] = { "alice", "dave", "carol", "nosuchuser" };
static const char *const labels[] = { "enrolled", "not enrolled", "ineligible (locked)",
                                      "no such account" };

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* One session: HELLO, then one wrong code; returns the code's round trip. */
static double sample(const char *helper, const char *user)
{
	struct sspr_msg m, r;
	double t0, t1;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		unsetenv("PAM_WRAPPER"); /* the helper is no PAM application */
		execl(helper, "sspr-helper", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	sspr_msg_init(&m, SSPR_MSG_HELLO, 0);
	(void)sspr_msg_add(&m, user);
	(void)sspr_msg_add(&m, "sshd");
	(void)sspr_msg_add(&m, "192.0.2.7");
	(void)sspr_msg_add(&m, "ssh");
	(void)sspr_msg_add(&m, "");
	if (sspr_msg_send(sv[0], &m) < 0 || sspr_msg_recv(sv[0], &r, 20000) < 0 ||
	    r.arg != SSPR_ST_OK) {
		fprintf(stderr, "HELLO failed for %s\n", user);
		exit(1);
	}
	sspr_msg_init(&m, SSPR_MSG_VERIFY, 0);
	(void)sspr_msg_add(&m, "000000");
	t0 = now_us();
	if (sspr_msg_send(sv[0], &m) < 0 || sspr_msg_recv(sv[0], &r, 20000) < 0) {
		fprintf(stderr, "VERIFY failed for %s\n", user);
		exit(1);
	}
	t1 = now_us();
	close(sv[0]);
	waitpid(pid, NULL, 0);
	return t1 - t0;
}

int main(int argc, char **argv)
{
	const char *root = getenv("SSPR_ROOT"), *conf = getenv("SSPR_TEST_CONF");
	const char *helper = getenv("SSPR_HELPER");
	int samples = getenv("SSPR_BENCH_SAMPLES") ? atoi(getenv("SSPR_BENCH_SAMPLES")) : 200;
	double *t[4], med[4];
	char path[4400], h[512], text[2048];
	struct sspr_record *rec = sspr_record_new();
	struct sspr_paths p;
	int fd, lock;

	if (argc > 1 && strcmp(argv[1], "--confdir") == 0) {
		puts(SSPR_CONFDIR);
		return 0;
	}
	if (!root || !conf || !helper || samples < 1 || !rec) {
		fprintf(stderr, "run me through bench/run-enum-bench.sh\n");
		return 2;
	}
	spit(conf, "services = sshd\nuse_pwquality = no\nconceal = yes\nglobal_rate = 100000\n"
	           "deny = 1000\nhard_deny = 100000\nrhost_deny = 100000\n");
	if (sspr_passwd_hash(SSPR_HASH_SHA512, NULL, "x-password-1", h, sizeof h) < 0)
		return 1;
	snprintf(text, sizeof text,
	         "alice:%s:19000:0:99999:7:::\ndave:%s:19000:0:99999:7:::\ncarol:!%s:19000:0:99999:7:::\n",
	         h, h, h);
	snprintf(path, sizeof path, "%s/etc/shadow", root);
	spit(path, text);
	sspr_paths_init(&p, root);
	snprintf(rec->user, sizeof rec->user, "alice");
	rec->uid = 1001;
	sspr_otp_params_default(&rec->otp);
	sspr_base32_decode(SECRET, rec->secret, SSPR_SECRET_MAX, &rec->secret_len);
	if (sspr_state_open_users(p.statedir, 1, &fd) < 0 || sspr_record_lock(fd, 5000, &lock) < 0 ||
	    sspr_record_store(fd, rec) < 0)
		return 1;
	/* carol is enrolled too: ineligible because locked, not unenrolled */
	snprintf(rec->user, sizeof rec->user, "carol");
	rec->uid = 1003;
	if (sspr_record_store(fd, rec) < 0)
		return 1;
	close(lock);
	close(fd);
	sspr_record_free(rec);

	for (int c = 0; c < 4; c++)
		t[c] = calloc((size_t)samples, sizeof(double));
	for (int c = 0; c < 4; c++)
		(void)sample(helper, classes[c]); /* warm up */
	for (int i = 0; i < samples; i++)
		for (int c = 0; c < 4; c++)
			t[c][i] = sample(helper, classes[c]);
	printf("helper response to a wrong code, median of %d samples (conceal = yes)\n", samples);
	printf("%-24s %12s %10s\n", "class", "median (us)", "ratio");
	for (int c = 0; c < 4; c++) {
		qsort(t[c], (size_t)samples, sizeof(double), cmp);
		med[c] = t[c][samples / 2];
	}
	for (int c = 0; c < 4; c++)
		printf("%-24s %12.1f %10.3f\n", labels[c], med[c], med[c] / med[0]);
	return 0;
}
