/* SPDX-License-Identifier: BSD-2-Clause */
/* logcatch: a syslog sink for tests.  Binds an AF_UNIX SOCK_DGRAM socket
 * at PATH (usually /dev/log inside a private mount namespace, see
 * with-devlog.sh) and writes each datagram it receives as one line, until
 * SIGTERM/SIGINT or the time bound.  Datagrams already queued when the
 * signal arrives are still written, so a caller that stops logcatch after
 * its command has exited loses nothing that command sent.
 *
 * usage: logcatch [-o FILE] [-r FIFO] [-t SECONDS] PATH
 *   -o FILE     write the lines to FILE (default stdout), flushed per line
 *   -r FIFO     after the bind, write "ready\n" to FIFO and close it
 *   -t SECONDS  stop after this long (default 600)
 * Exit: 0 on a clean stop, 1 on an error, 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_seconds(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 86400)
		return -1;
	*ret = (unsigned)v;
	return 0;
}

/* One datagram as one line: drop a trailing NUL/newline, make inner
 * newlines and other control characters visible. */
static void put_line(FILE *out, const char *buf, size_t n)
{
	while (n > 0 && (buf[n - 1] == '\0' || buf[n - 1] == '\n'))
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c < 0x20 || c == 0x7f)
			(void)fprintf(out, "\\x%02x", c);
		else
			(void)fputc(c, out);
	}
	(void)fputc('\n', out);
	(void)fflush(out);
}

static int signal_ready(const char *fifo)
{
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);
	static const char msg[] = "ready\n";

	if (fd < 0)
		return -1;
	if (write(fd, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1)) {
		(void)close(fd);
		return -1;
	}
	return close(fd);
}

int main(int argc, char **argv)
{
	const char *outpath = NULL, *ready = NULL, *path;
	unsigned seconds = 600;
	struct sockaddr_un sa;
	struct sigaction act;
	FILE *out = stdout;
	char buf[65536];
	int fd, opt;

	while ((opt = getopt(argc, argv, "o:r:t:")) != -1) {
		switch (opt) {
		case 'o':
			outpath = optarg;
			break;
		case 'r':
			ready = optarg;
			break;
		case 't':
			if (parse_seconds(optarg, &seconds) < 0) {
				(void)fprintf(stderr, "logcatch: bad -t %s\n", optarg);
				return 2;
			}
			break;
		default:
			(void)fprintf(stderr, "usage: logcatch [-o FILE] [-r FIFO] [-t SECONDS] PATH\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		(void)fprintf(stderr, "usage: logcatch [-o FILE] [-r FIFO] [-t SECONDS] PATH\n");
		return 2;
	}
	path = argv[optind];

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		(void)fprintf(stderr, "logcatch: path too long: %s\n", path);
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);

	if (outpath) {
		out = fopen(outpath, "we");
		if (!out) {
			(void)fprintf(stderr, "logcatch: %s: %s\n", outpath, strerror(errno));
			return 1;
		}
	}

	/* No SA_RESTART: a signal must interrupt recv. */
	memset(&act, 0, sizeof act);
	act.sa_handler = on_signal;
	(void)sigemptyset(&act.sa_mask);
	(void)sigaction(SIGTERM, &act, NULL);
	(void)sigaction(SIGINT, &act, NULL);
	(void)sigaction(SIGALRM, &act, NULL);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		(void)fprintf(stderr, "logcatch: socket: %s\n", strerror(errno));
		return 1;
	}
	(void)umask(0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		(void)fprintf(stderr, "logcatch: bind %s: %s\n", path, strerror(errno));
		return 1;
	}
	(void)umask(022);
	if (ready && signal_ready(ready) < 0) {
		(void)fprintf(stderr, "logcatch: %s: %s\n", ready, strerror(errno));
		(void)unlink(path);
		return 1;
	}
	(void)alarm(seconds);

	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			(void)fprintf(stderr, "logcatch: recv: %s\n", strerror(errno));
			break;
		}
		put_line(out, buf, (size_t)n);
	}
	/* Drain what was queued before the stop. */
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

		if (n < 0)
			break;
		put_line(out, buf, (size_t)n);
	}
	(void)unlink(path);
	(void)close(fd);
	if (out != stdout && fclose(out) != 0)
		return 1;
	return 0;
}
