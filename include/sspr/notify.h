/* SPDX-License-Identifier: BSD-2-Clause */
/* notify_command (sspr.conf(5)): a command the helper runs after a reset,
 * with the event's fields in its environment (sspr-helper(8)).
 *
 * No shell: the command is split on blanks into argv, and its first word
 * must be an absolute path.  A clean environment (the event fields and a
 * fixed PATH), stdin/stdout/stderr on /dev/null, every other fd closed,
 * default signal dispositions, a session and process group of its own, as
 * notify_user (never root) when run by root; killed with its process group
 * at the time bound.  The core does not log: the caller logs the result. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "sspr/common.h"

#define SSPR_NOTIFY_ARGS_MAX 64  /* words in notify_command */
#define SSPR_NOTIFY_ENV_MAX 16   /* variables in the environment, with PATH */
#define SSPR_NOTIFY_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

/* The fields of one event.  NULL or "" strings are passed as "-". */
struct sspr_notify_event {
	const char *event;     /* "reset_ok" */
	const char *user;
	uid_t uid;
	const char *service, *rhost, *tty, *method, *session;
	time_t time;           /* seconds since the epoch, SSPR_TIME in UTC */
	uint64_t seq;          /* the journal entry; 0: unknown, no SSPR_SEQ */
};

/* Split command on spaces and tabs into a NULL-terminated argv in
 * storage (a copy of command with NULs at the word ends).  The first word
 * must be an absolute path (as lib/config.c requires).  Returns the word
 * count, or -EINVAL (empty, not absolute), -E2BIG (more than
 * SSPR_NOTIFY_ARGS_MAX words) or -SSPR_E_TOO_LONG (storage too small). */
int sspr_notify_split(const char *command, char *storage, size_t storagelen,
                      char *argv[static SSPR_NOTIFY_ARGS_MAX + 1]);

/* Fill env (NULL-terminated) with "SSPR_EVENT=...", SSPR_USER, SSPR_UID,
 * SSPR_SERVICE, SSPR_RHOST, SSPR_TTY, SSPR_METHOD, SSPR_SESSION, SSPR_TIME
 * (ISO 8601 UTC, 2026-11-29T14:03:05Z), SSPR_SEQ (only when ev->seq != 0)
 * and SSPR_NOTIFY_PATH, written into storage.  A byte below 0x20 or 0x7f
 * in a value becomes '?' (a value cannot start a mail header or a line of
 * its own).  Returns the count or -SSPR_E_TOO_LONG. */
int sspr_notify_env(const struct sspr_notify_event *ev, char *storage, size_t storagelen,
                    char *env[static SSPR_NOTIFY_ENV_MAX + 1]);

/* Resolve the account notify_command runs as: uid, gid and supplementary
 * groups (getgrouplist).  Returns 0, -ENOENT (no such user), -EPERM (uid 0,
 * or gid 0 among its groups), -E2BIG (more than *ngroups groups; the
 * count needed is in *ngroups) or another negative errno. */
int sspr_notify_resolve_user(const char *name, uid_t *ret_uid, gid_t *ret_gid,
                             gid_t *groups, int *ngroups) SSPR_WARN_UNUSED;

enum sspr_notify_outcome {
	SSPR_NOTIFY_OK,       /* exited 0 */
	SSPR_NOTIFY_EXIT,     /* exited non-zero: status */
	SSPR_NOTIFY_SIGNAL,   /* killed by a signal it did not get from us: status */
	SSPR_NOTIFY_TIMEOUT,  /* still running at the bound: killed (SIGKILL, group) */
	SSPR_NOTIFY_EXEC,     /* execve failed: error */
	SSPR_NOTIFY_USER,     /* notify_user unknown, root, or the switch failed: error */
	SSPR_NOTIFY_COMMAND,  /* notify_command unusable (sspr_notify_split): error */
	SSPR_NOTIFY_SETUP,    /* pipe, fork, /dev/null, fds: error */
};

struct sspr_notify_result {
	enum sspr_notify_outcome outcome;
	int status;  /* exit status (EXIT) or signal number (SIGNAL) */
	int error;   /* negative errno (EXEC, USER, COMMAND, SETUP), else 0 */
	pid_t pid;   /* the notifier's pid (and process group), 0 if none */
};

/* The reason= word of an outcome: ok, exit, signal, timeout, exec, user,
 * command, setup.  Never NULL. */
const char *sspr_notify_outcome_name(enum sspr_notify_outcome o);

/* Run command for ev and wait for it, at most timeout_ms (monotonic);
 * still running then, its process group is sent SIGKILL and it is
 * reaped.  When the effective uid is 0 it runs as user (required; refused
 * if root, see sspr_notify_resolve_user); otherwise as the current user
 * (a test root: sspr-helper(8)), and user is not looked up.  SIGCHLD is
 * blocked while waiting and its disposition and the signal mask are
 * restored afterwards.  Fills *ret always; returns 0 when the command ran
 * and exited 0, else a negative errno (-ETIMEDOUT for a timeout, -ECHILD
 * for a non-zero exit or a signal, the error of EXEC/USER/COMMAND/SETUP). */
int sspr_notify_run(const char *command, const char *user, long timeout_ms,
                    const struct sspr_notify_event *ev, struct sspr_notify_result *ret);
