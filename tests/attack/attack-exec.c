/* SPDX-License-Identifier: BSD-2-Clause */
/* Test tool of the attack suite: exec the helper the hostile way.
 *   attack-exec argc0 PATH
 *       execve PATH with argv = {NULL} (pkexec, CVE-2021-4034), keeping
 *       the environment and fds.  (Linux >= 5.18 passes {"", NULL}.)
 *   run as "sspr-helper" (sspr-proto-client's exec, with ATTACK_EXEC=PATH
 *   and ATTACK_ENV=FILE in its environment)
 *       execve PATH with argv = {"sspr-helper", NULL} and the environment
 *       read from FILE (one VAR=VALUE a line): the hostile environment
 *       reaches the helper and no process before it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	static char *env[256];
	static char line[4096];
	const char *path = getenv("ATTACK_EXEC"), *file = getenv("ATTACK_ENV");
	char *none[] = { NULL };
	char *one[] = { (char *)"sspr-helper", NULL };
	size_t n = 0;
	FILE *f;

	if (argc == 3 && strcmp(argv[1], "argc0") == 0) {
		execve(argv[2], none, environ);
		perror("execve");
		return 127;
	}
	if (argc != 1 || !path || !file) {
		fputs("usage: attack-exec argc0 PATH | as sspr-helper with ATTACK_EXEC, ATTACK_ENV\n",
		      stderr);
		return 2;
	}
	f = fopen(file, "re");
	if (!f) {
		perror(file);
		return 2;
	}
	while (n + 1 < sizeof env / sizeof *env && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		env[n++] = strdup(line);
	}
	fclose(f);
	env[n] = NULL;
	execve(path, one, env);
	perror("execve");
	return 127;
}
