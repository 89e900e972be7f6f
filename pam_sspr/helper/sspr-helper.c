/* SPDX-License-Identifier: BSD-2-Clause */
/* sspr-helper: the privileged half of pam_sspr (sspr-helper(8)).
 *
 * Start-up order, as sudo and unix_chkpwd do it: environment cleared when
 * elevated, fds 0-2 made safe and all others closed, umask, no core
 * dumps, limits reset, no terminal on stdin; only then the configuration
 * and the session.  Every failure is closed: no reset. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>

#include "session.h"
#include "sspr/audit.h"
#include "sspr/otp.h"

static void die(const char *msg)
{
	/* stderr is /dev/null when the module spawned us; a person running the
	 * helper by hand sees this. */
	(void)!write(STDERR_FILENO, "sspr-helper: ", 13);
	(void)!write(STDERR_FILENO, msg, strlen(msg));
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(1);
}

static void sanitize_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);

			if (n != fd)
				_exit(1); /* cannot happen unless open failed */
		}
	}
	if (close_range(3, ~0U, 0) < 0) {
		struct rlimit rl;
		int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		          rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;

		for (int fd = 3; fd < max; fd++)
			(void)close(fd);
	}
}

static void reset_limits(bool elevated)
{
	static const int res[] = { RLIMIT_FSIZE, RLIMIT_CPU, RLIMIT_AS, RLIMIT_DATA,
	                           RLIMIT_STACK, RLIMIT_NOFILE };
	struct rlimit core = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &core);
	if (!elevated)
		return;
	/* The caller chose our limits; a shadow rewrite cut short by its
	 * RLIMIT_FSIZE must not be possible.  As euid 0 we may raise them. */
	for (size_t i = 0; i < SSPR_ELEMENTSOF(res); i++) {
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

		if (res[i] == RLIMIT_NOFILE)
			rl.rlim_cur = rl.rlim_max = 1024;
		else if (res[i] == RLIMIT_STACK)
			rl.rlim_cur = rl.rlim_max = 8 * 1024 * 1024;
		if (setrlimit(res[i], &rl) < 0 && getrlimit(res[i], &rl) == 0) {
			/* without CAP_SYS_RESOURCE the hard limit stays: take
			 * all of it */
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(res[i], &rl);
		}
	}
}

static void config_diag(void *userdata, const char *msg)
{
	struct sspr_kv kv[] = { { "error", msg } };

	(void)userdata;
	sspr_audit_log(LOG_ERR, "config_error", kv, SSPR_ELEMENTSOF(kv));
}

int main(int argc, char **argv)
{
	static struct sspr_session s;
	bool elevated = getuid() != geteuid() || getgid() != getegid();
	int r;

	if (elevated)
		(void)clearenv(); /* before anything reads it */
	sanitize_fds();
	umask(077);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	reset_limits(elevated);
	(void)signal(SIGPIPE, SIG_IGN);
	/* a file size limit we could not lift is a write error (EFBIG), not
	 * a kill in the middle of a journal append */
	(void)signal(SIGXFSZ, SIG_IGN);
	/* argv[0] is never used; but an empty one is how Linux >= 5.18
	 * delivers an execve with argc 0 (pkexec, CVE-2021-4034): refused
	 * like argc 0 itself. */
	if (argc != 1 || !argv[0] || !argv[0][0])
		die("not for direct use (see sspr-helper(8))");
	if (isatty(STDIN_FILENO))
		die("not for interactive use (see sspr-helper(8))");

	memset(&s, 0, sizeof s);
	s.elevated = elevated;
	s.caller_uid = getuid();
	s.fd = STDIN_FILENO;
	s.tallyfd = -1;
	s.start_ms = sspr_mono_ms();

	if (sspr_paths_from_env(&s.paths) < 0)
		die("bad SSPR_ROOT");
	sspr_audit_open("sspr-helper", LOG_AUTHPRIV);
	/* every event also goes to the signed journal (SPEC section 7) */
	sspr_audit_use_journal(s.paths.statedir);
	r = sspr_config_load(&s.cfg, s.paths.conf, s.paths.test_root ? getuid() : 0,
	                     config_diag, NULL);
	s.config_ok = r == 0;
	if (s.config_ok) {
		closelog();
		sspr_audit_open("sspr-helper", s.cfg.syslog_facility);
	} else {
		/* fail closed: the session runs only to answer FAIL */
		sspr_config_free(&s.cfg);
		(void)sspr_config_defaults(&s.cfg);
	}
	s.deadline_ms = s.start_ms + (long long)s.cfg.session_timeout * 1000;
	if (sspr_otp_global_init() < 0)
		s.config_ok = false;

	r = sspr_session_run(&s);
	if (s.tallyfd >= 0)
		(void)close(s.tallyfd);
	sspr_account_free(&s.acct);
	sspr_config_free(&s.cfg);
	sspr_wipe(&s, sizeof s);
	return r;
}
