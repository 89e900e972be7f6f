/* SPDX-License-Identifier: BSD-2-Clause */
/* Driving the helper over its socket from a cmocka test, as the module
 * does: start it, send a frame and read the reply, HELLO, the current
 * TOTP code of a secret at a fixed time, and reap it.  Shared by
 * test_helper.c and test_helper_notify.c (static inline: each takes what
 * it uses). */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sspr/otp.h"
#include "sspr/proto.h"

struct child {
	pid_t pid;
	int fd;
};

/* Start helper on a socket (fds 0 and 1); argv as given (NULL: the
 * normal one). */
static inline struct child helper_start(const char *helper, char *const *argv)
{
	char *const normal[] = { (char *)"sspr-helper", NULL };
	int sv[2];
	struct child c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		unsetenv("PAM_WRAPPER"); /* the helper is no PAM application */
		execv(helper, argv ? argv : normal);
		_exit(126);
	}
	close(sv[1]);
	c.fd = sv[0];
	return c;
}

/* Close the socket and reap: the exit status, or 128 + the signal. */
static inline int helper_finish(struct child *c)
{
	int st;

	close(c->fd);
	assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Send a frame with up to two fields; the reply's status, or the
 * receive error (negative). */
static inline int helper_call(struct child *c, uint8_t type, const char *f0, const char *f1)
{
	struct sspr_msg m, r;
	int e;

	sspr_msg_init(&m, type, 0);
	if (f0)
		assert_int_equal(sspr_msg_add(&m, f0), 0);
	if (f1)
		assert_int_equal(sspr_msg_add(&m, f1), 0);
	(void)sspr_msg_send(c->fd, &m);
	e = sspr_msg_recv(c->fd, &r, 20000);
	if (e < 0)
		return e;
	assert_int_equal(r.type, SSPR_MSG_REPLY);
	return r.arg;
}

/* HELLO for user over sshd from 192.0.2.7; the reply's status. */
static inline int helper_hello(struct child *c, const char *user)
{
	struct sspr_msg m, r;

	sspr_msg_init(&m, SSPR_MSG_HELLO, 0);
	assert_int_equal(sspr_msg_add(&m, user), 0);
	assert_int_equal(sspr_msg_add(&m, "sshd"), 0);
	assert_int_equal(sspr_msg_add(&m, "192.0.2.7"), 0);
	assert_int_equal(sspr_msg_add(&m, "ssh"), 0);
	assert_int_equal(sspr_msg_add(&m, ""), 0);
	assert_int_equal(sspr_msg_send(c->fd, &m), 0);
	assert_int_equal(sspr_msg_recv(c->fd, &r, 20000), 0);
	return r.arg;
}

/* The TOTP code (default parameters) of a base32 secret at time now. */
static inline void helper_code_at(const char *secret, long long now, char out[9])
{
	struct sspr_otp_params p;
	uint8_t s[64];
	size_t n;

	sspr_otp_params_default(&p);
	assert_int_equal(sspr_base32_decode(secret, s, sizeof s, &n), 0);
	assert_int_equal(sspr_otp_generate(&p, s, n, sspr_otp_step(&p, (time_t)now), out), 0);
}
