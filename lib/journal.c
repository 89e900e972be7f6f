/* SPDX-License-Identifier: BSD-2-Clause */
/* The signed, forward-evolving audit journal: see include/sspr/journal.h
 * for the format and the crash rules, sspr-cli(8) for what verification
 * proves. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "sspr/common.h"
#include "sspr/journal.h"
#include "sspr/statefile.h"

#define JDIR "journal"
#define SEGMENT "journal.log"
#define STATE "state"
#define STATE_NEW "state.new"
#define KEYS "keys"
#define LOCKFILE ".lock"
#define STATE_MAX (SSPR_JOURNAL_LINE_MAX + 512)
#define KEYS_MAX (64 * 1024)
#define LOCK_WAIT_MS 10000

/* --- the entry ------------------------------------------------------------ */

void sspr_journal_hash(const void *bytes, size_t len, unsigned char out[32])
{
	crypto_generichash(out, 32, bytes, len, NULL, 0);
}

void sspr_journal_key_hex(const unsigned char pk[32], char out[SSPR_JOURNAL_PK_HEX])
{
	sodium_bin2hex(out, SSPR_JOURNAL_PK_HEX, pk, 32);
}

/* exactly 2*n hex digits */
static int hex_exact(const char *s, size_t slen, unsigned char *out, size_t n)
{
	size_t got = 0;

	if (slen != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < slen; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return -EINVAL;
	if (sodium_hex2bin(out, n, s, slen, NULL, &got, NULL) != 0 || got != n)
		return -EINVAL;
	return 0;
}

/* the entry format writes lowercase only: another case of the same bytes
 * would be another line (the signature does not cover its own digits) */
static int hex_lower(const char *s, size_t slen, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < slen; i++)
		if (s[i] >= 'A' && s[i] <= 'F')
			return -EINVAL;
	return hex_exact(s, slen, out, n);
}

int sspr_journal_key_parse(const char *hex, unsigned char pk[32])
{
	if (!hex)
		return -EINVAL;
	return hex_exact(hex, strlen(hex), pk, 32);
}

static void fmt_time(time_t t, char out[21])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		memcpy(out, "1970-01-01T00:00:00Z", 21);
}

/* "YYYY-MM-DDTHH:MM:SSZ", a real date, round-tripping */
static int parse_time(const char *s, time_t *ret)
{
	struct tm tm = { .tm_isdst = 0 };
	char back[21];
	const char *end;
	time_t t;

	for (int i = 0; i < 20; i++) {
		char c = s[i];
		bool digit = c >= '0' && c <= '9';

		if ((i == 4 || i == 7) ? c != '-' : i == 10 ? c != 'T' :
		    (i == 13 || i == 16) ? c != ':' : i == 19 ? c != 'Z' : !digit)
			return -EINVAL;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || end != s + 20)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	fmt_time(t, back);
	if (memcmp(back, s, 20) != 0)
		return -EINVAL;
	*ret = t;
	return 0;
}

/* Take "name=" then exactly vlen bytes up to a space; advance *p. */
static bool field(const char **p, const char *end, const char *name, size_t vlen,
                  const char **ret_v)
{
	size_t nl = strlen(name);

	if ((size_t)(end - *p) < nl + vlen + 1 || memcmp(*p, name, nl) != 0 ||
	    (*p)[nl + vlen] != ' ')
		return false;
	*ret_v = *p + nl;
	*p += nl + vlen + 1;
	return true;
}

int sspr_journal_parse(const char *line, size_t len, struct sspr_journal_entry *e,
                       const char **why)
{
	static const char sigtag[] = " sig=";
	const char *p, *end, *v, *sig;
	uint64_t seq = 0;
	size_t nd = 0;

	*why = "malformed";
	if (!line || !e)
		return -EINVAL;
	p = line;
	end = line + len;
	memset(e, 0, sizeof *e);
	if (len > SSPR_JOURNAL_LINE_MAX) {
		*why = "entry too long";
		return -SSPR_E_RECORD;
	}
	if (len < 4 || memcmp(p, "seq=", 4) != 0) {
		*why = "no seq= field";
		return -SSPR_E_RECORD;
	}
	p += 4;
	while (p < end && *p >= '0' && *p <= '9' && nd < 20) {
		if (nd == 0 && *p == '0') {
			*why = "bad seq= field";
			return -SSPR_E_RECORD;
		}
		if (seq > (UINT64_C(1) << 63) / 10) {
			*why = "bad seq= field";
			return -SSPR_E_RECORD;
		}
		seq = seq * 10 + (uint64_t)(*p - '0');
		p++;
		nd++;
	}
	if (nd == 0 || p >= end || *p != ' ' || seq > (UINT64_C(1) << 63)) {
		*why = "bad seq= field";
		return -SSPR_E_RECORD;
	}
	p++;
	e->seq = seq;
	if (!field(&p, end, "time=", 20, &v) || parse_time(v, &e->when) < 0) {
		*why = "bad time= field";
		return -SSPR_E_RECORD;
	}
	memcpy(e->time, v, 20);
	e->time[20] = '\0';
	if (!field(&p, end, "prev=", 64, &v) || hex_lower(v, 64, e->prev, 32) < 0) {
		*why = "bad prev= field";
		return -SSPR_E_RECORD;
	}
	if (!field(&p, end, "next=", 64, &v) || hex_lower(v, 64, e->next, 32) < 0) {
		*why = "bad next= field";
		return -SSPR_E_RECORD;
	}
	/* the signature is the last 5 + 128 bytes */
	if ((size_t)(end - p) < sizeof sigtag - 1 + 128 + 6) {
		*why = "no sig= field";
		return -SSPR_E_RECORD;
	}
	sig = end - 128;
	if (memcmp(sig - (sizeof sigtag - 1), sigtag, sizeof sigtag - 1) != 0 ||
	    hex_lower(sig, 128, e->sig, 64) < 0) {
		*why = "bad sig= field";
		return -SSPR_E_RECORD;
	}
	e->payload = p;
	e->payload_len = (size_t)(sig - (sizeof sigtag - 1) - p);
	e->signed_len = (size_t)(sig - (sizeof sigtag - 1) - line);
	if (e->payload_len < 7 || memcmp(p, "event=", 6) != 0) {
		*why = "no event= field";
		return -SSPR_E_RECORD;
	}
	for (size_t i = 0; i < e->payload_len; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e) {
			*why = "control or non-ASCII byte in the event";
			return -SSPR_E_RECORD;
		}
	*why = NULL;
	return 0;
}

bool sspr_journal_check_sig(const char *line, const struct sspr_journal_entry *e,
                            const unsigned char pk[32])
{
	return crypto_sign_verify_detached(e->sig, (const unsigned char *)line, e->signed_len,
	                                   pk) == 0;
}

int sspr_journal_signer_new(struct sspr_journal_signer *s, unsigned char ret_pk[32])
{
	unsigned char pk[32];

	if (sodium_init() < 0)
		return -EIO;
	if (crypto_sign_keypair(pk, s->sk) != 0)
		return -EIO;
	s->seq = 0;
	sspr_journal_hash(pk, sizeof pk, s->hash);
	memcpy(ret_pk, pk, 32);
	return 0;
}

int sspr_journal_sign(struct sspr_journal_signer *s, time_t when, const char *payload,
                      char *out, size_t outlen, size_t *ret_len)
{
	unsigned char npk[32], nsk[64], sig[64];
	char prev[65], next[65], ts[21];
	size_t plen, n;
	int w;

	if (!payload || outlen < SSPR_JOURNAL_LINE_MAX + 1)
		return -EINVAL;
	plen = strlen(payload);
	if (plen < 7 || memcmp(payload, "event=", 6) != 0)
		return -EINVAL;
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)payload[i] < 0x20 || (unsigned char)payload[i] > 0x7e)
			return -EINVAL;
	if (s->seq >= (UINT64_C(1) << 63))
		return -ERANGE;
	if (crypto_sign_keypair(npk, nsk) != 0)
		return -EIO;
	fmt_time(when, ts);
	sodium_bin2hex(prev, sizeof prev, s->hash, 32);
	sodium_bin2hex(next, sizeof next, npk, 32);
	w = snprintf(out, outlen, "seq=%" PRIu64 " time=%s prev=%s next=%s %s", s->seq + 1, ts,
	             prev, next, payload);
	if (w < 0 || (size_t)w + 5 + 128 > SSPR_JOURNAL_LINE_MAX) {
		sodium_memzero(nsk, sizeof nsk);
		return -ENOBUFS;
	}
	n = (size_t)w;
	crypto_sign_detached(sig, NULL, (const unsigned char *)out, n, s->sk);
	memcpy(out + n, " sig=", 5);
	sodium_bin2hex(out + n + 5, 129, sig, sizeof sig);
	n += 5 + 128;
	/* forward: the key that signed this entry is gone */
	s->seq++;
	sspr_journal_hash(out, n, s->hash);
	memcpy(s->sk, nsk, sizeof nsk);
	sodium_memzero(nsk, sizeof nsk);
	*ret_len = n;
	return 0;
}

/* --- state file -------------------------------------------------------------- */

/* The state in memory (secure). line_len 0: no pending line (after init
 * or a rotation). */
struct jstate {
	struct sspr_journal_signer sg;
	uint64_t size;             /* journal.log size once line is in it */
	size_t line_len;           /* <= SSPR_JOURNAL_LINE_MAX */
	char line[SSPR_JOURNAL_LINE_MAX + 2]; /* room for '\n' and NUL */
};

/* "sspr-journal-state 1\nseq N\nhash HEX\nsk HEX\nsize N\nline TEXT|-\n" */
static int state_format(const struct jstate *st, char *out, size_t outlen, size_t *ret_len)
{
	char hash[65], sk[129];
	int w;

	sodium_bin2hex(hash, sizeof hash, st->sg.hash, 32);
	sodium_bin2hex(sk, sizeof sk, st->sg.sk, 64);
	w = snprintf(out, outlen,
	             "sspr-journal-state 1\nseq %" PRIu64 "\nhash %s\nsk %s\nsize %" PRIu64
	             "\nline %.*s\n",
	             st->sg.seq, hash, sk, st->size, st->line_len ? (int)st->line_len : 1,
	             st->line_len ? st->line : "-");
	sodium_memzero(sk, sizeof sk);
	if (w < 0 || (size_t)w >= outlen)
		return -ENOBUFS;
	*ret_len = (size_t)w;
	return 0;
}

/* Next line of buf (without '\n') after prefix; advances *pos. */
static bool state_line(const char *buf, size_t len, size_t *pos, const char *prefix,
                       const char **ret, size_t *ret_len)
{
	size_t pl = strlen(prefix), start = *pos;
	const char *nl;

	if (start >= len)
		return false;
	nl = memchr(buf + start, '\n', len - start);
	if (!nl || (size_t)(nl - (buf + start)) < pl || memcmp(buf + start, prefix, pl) != 0)
		return false;
	*ret = buf + start + pl;
	*ret_len = (size_t)(nl - (buf + start)) - pl;
	*pos = (size_t)(nl - buf) + 1;
	return true;
}

static bool parse_u64(const char *s, size_t len, uint64_t *ret)
{
	char tmp[24];
	long long v;

	if (len == 0 || len >= sizeof tmp)
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (sspr_strtonum(tmp, 0, INT64_MAX, &v) < 0)
		return false;
	*ret = (uint64_t)v;
	return true;
}

static int state_parse(const char *buf, size_t len, struct jstate *st)
{
	const char *v;
	size_t vl, pos = 0;
	struct sspr_journal_entry e;
	const char *why;

	if (!state_line(buf, len, &pos, "sspr-journal-state ", &v, &vl) || vl != 1 || *v != '1')
		return -SSPR_E_RECORD;
	if (!state_line(buf, len, &pos, "seq ", &v, &vl) || !parse_u64(v, vl, &st->sg.seq))
		return -SSPR_E_RECORD;
	if (!state_line(buf, len, &pos, "hash ", &v, &vl) || hex_exact(v, vl, st->sg.hash, 32) < 0)
		return -SSPR_E_RECORD;
	if (!state_line(buf, len, &pos, "sk ", &v, &vl) || hex_exact(v, vl, st->sg.sk, 64) < 0)
		return -SSPR_E_RECORD;
	if (!state_line(buf, len, &pos, "size ", &v, &vl) || !parse_u64(v, vl, &st->size))
		return -SSPR_E_RECORD;
	if (!state_line(buf, len, &pos, "line ", &v, &vl) || pos != len)
		return -SSPR_E_RECORD;
	if (vl == 1 && *v == '-') {
		st->line_len = 0;
		return 0;
	}
	if (vl > SSPR_JOURNAL_LINE_MAX || sspr_journal_parse(v, vl, &e, &why) < 0 ||
	    e.seq != st->sg.seq || st->size < vl + 1)
		return -SSPR_E_RECORD;
	memcpy(st->line, v, vl);
	st->line[vl] = '\0';
	st->line_len = vl;
	{
		unsigned char h[32];

		sspr_journal_hash(v, vl, h);
		if (sodium_memcmp(h, st->sg.hash, 32) != 0)
			return -SSPR_E_RECORD;
	}
	return 0;
}

static int state_read(int dirfd, const char *name, struct jstate *st)
{
	_cleanup_secure_ char *buf = NULL;
	size_t len;
	int r;

	r = sspr_state_read(dirfd, name, STATE_MAX, &buf, &len);
	if (r < 0)
		return r;
	return state_parse(buf, len, st);
}

/* Overwrite the old state in place with zeros and fsync it: the secret
 * key it held is then gone from the file, not only from the name. */
static void state_wipe(int dirfd)
{
	_cleanup_close_ int fd = openat(dirfd, STATE, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	static const char zero[512];
	struct stat sb;

	if (fd < 0 || sspr_state_check_file(fd) < 0 || fstat(fd, &sb) < 0)
		return;
	for (off_t off = 0; off < sb.st_size; off += (off_t)sizeof zero) {
		size_t n = (size_t)(sb.st_size - off) < sizeof zero ? (size_t)(sb.st_size - off)
		                                                    : sizeof zero;

		if (pwrite(fd, zero, n, off) != (ssize_t)n)
			return;
	}
	(void)fdatasync(fd);
}

/* Write the next state as state.new (fsync'd), wipe the old one, rename
 * the new one in and fsync the directory. */
static int state_commit(int dirfd, const struct jstate *st)
{
	_cleanup_secure_ char *buf = sspr_secure_alloc(STATE_MAX);
	size_t len;
	int fd, r;

	if (!buf)
		return -ENOMEM;
	r = state_format(st, buf, STATE_MAX, &len);
	if (r < 0)
		return r;
	if (unlinkat(dirfd, STATE_NEW, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dirfd, STATE_NEW, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = sspr_write_all(fd, buf, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && errno != EINTR && r == 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(dirfd, STATE_NEW, 0);
		return r;
	}
	state_wipe(dirfd);
	if (renameat(dirfd, STATE_NEW, dirfd, STATE) < 0)
		return -errno; /* state.new stays: the next writer renames it in */
	if (fsync(dirfd) < 0)
		return -errno;
	return 0;
}

/* --- directory, lock ---------------------------------------------------------- */

static int open_jdir(const char *statedir, bool create, int *ret_fd)
{
	return sspr_state_open_dir(statedir, JDIR, create, ret_fd);
}

static int take_lock(int dirfd, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int r;

	fd = openat(dirfd, LOCKFILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0)
		return errno == ELOOP || errno == ENXIO ? -SSPR_E_UNSAFE_FILE : -errno;
	r = sspr_state_check_file(fd);
	if (r < 0)
		return r;
	for (int waited = 0; fcntl(fd, F_SETLK, &fl) < 0; waited += 5) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -errno;
		if (waited >= LOCK_WAIT_MS)
			return -SSPR_E_LOCK_TIMEOUT;
		(void)nanosleep(&ts, NULL);
	}
	*ret_fd = fd;
	fd = -1;
	return 0;
}

/* The journal directory and its writers' lock, both or neither. */
static int open_jdir_locked(const char *statedir, bool create, int *ret_dirfd, int *ret_lockfd)
{
	_cleanup_close_ int dirfd = -1;
	int r;

	r = open_jdir(statedir, create, &dirfd);
	if (r < 0)
		return r;
	r = take_lock(dirfd, ret_lockfd);
	if (r < 0)
		return r;
	*ret_dirfd = dirfd;
	dirfd = -1;
	return 0;
}

static int open_segment(int dirfd, const char *name, int flags, int *ret_fd)
{
	_cleanup_close_ int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
	                                0600);
	int r;

	if (fd < 0)
		return errno == ELOOP || errno == ENXIO ? -SSPR_E_UNSAFE_FILE : -errno;
	r = sspr_state_check_file(fd);
	if (r < 0)
		return r;
	*ret_fd = fd;
	fd = -1;
	return 0;
}

/* "journal-<20 digits>.log" -> its first seq */
static bool segment_name(const char *name, uint64_t *ret)
{
	uint64_t v = 0;

	if (strlen(name) != 8 + 20 + 4 || memcmp(name, "journal-", 8) != 0 ||
	    strcmp(name + 28, ".log") != 0)
		return false;
	for (int i = 8; i < 28; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*ret = v;
	return v > 0;
}

/* Whether name exists in dirfd (as itself, not what a link points to).
 * Not faccessat: that checks with the real uid, which in a set-user-ID
 * helper is the caller's, who cannot see into a 0700 directory. */
static bool exists_at(int dirfd, const char *name)
{
	struct stat sb;

	return fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

static bool any_journal_file(int dirfd)
{
	/* not keys nor state.new: a chain start killed after keys and before
	 * its first state was renamed in leaves them alone, and no key in
	 * them ever signed anything; counting them made the next append (or
	 * every later one) fail with -ENOENT */
	static const char *const names[] = { SEGMENT, STATE };
	_cleanup_close_ int dfd = dup(dirfd);
	struct dirent *d;
	bool found = false;
	DIR *dir;

	for (size_t i = 0; i < SSPR_ELEMENTSOF(names); i++)
		if (exists_at(dirfd, names[i]))
			return true;
	if (dfd < 0 || !(dir = fdopendir(dfd)))
		return true; /* cannot tell: assume there is one */
	dfd = -1;
	rewinddir(dir);
	while ((d = readdir(dir))) {
		uint64_t s;

		if (segment_name(d->d_name, &s)) {
			found = true;
			break;
		}
	}
	closedir(dir);
	return found;
}

/* --- keys ------------------------------------------------------------------ */

static int keys_add(int dirfd, uint64_t seq, const unsigned char pk[32], bool fresh)
{
	_cleanup_secure_ char *old = NULL;
	_cleanup_free_ char *buf = NULL;
	char hex[SSPR_JOURNAL_PK_HEX];
	size_t olen = 0;
	int r, w;

	if (!fresh) {
		r = sspr_state_read(dirfd, KEYS, KEYS_MAX, &old, &olen);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	buf = malloc(olen + 128);
	if (!buf)
		return -ENOMEM;
	if (olen)
		memcpy(buf, old, olen);
	sspr_journal_key_hex(pk, hex);
	w = snprintf(buf + olen, 128, "%" PRIu64 " %s\n", seq, hex);
	if (w < 0 || w >= 128 || olen + (size_t)w > KEYS_MAX)
		return -ENOBUFS;
	r = sspr_state_write(dirfd, KEYS, buf, olen + (size_t)w);
	return r == -SSPR_E_NOT_DURABLE ? 0 : r;
}

/* The kept key for the entry seq, when keys names one. */
/* The kept key of entry seq; *ret_below (when not NULL) gets the largest
 * kept seq under it (0: none), to name what is missing before seq.  With
 * seq 0, the other way round: the seq pk is kept for, in *ret_below. */
static int keys_find(int dirfd, uint64_t seq, unsigned char pk[32], uint64_t *ret_below)
{
	_cleanup_secure_ char *buf = NULL;
	size_t len, pos = 0;
	uint64_t below = 0;
	int r;

	if (ret_below)
		*ret_below = 0;

	r = sspr_state_read(dirfd, KEYS, KEYS_MAX, &buf, &len);
	if (r < 0)
		return r;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		const char *sp;
		uint64_t s;

		if (!nl)
			return -SSPR_E_RECORD;
		sp = memchr(buf + pos, ' ', (size_t)(nl - (buf + pos)));
		if (!sp || !parse_u64(buf + pos, (size_t)(sp - (buf + pos)), &s))
			return -SSPR_E_RECORD;
		if (s == seq && seq != 0) {
			/* lines are added in order: those below came first */
			if (ret_below)
				*ret_below = below;
			return hex_exact(sp + 1, (size_t)(nl - sp - 1), pk, 32) < 0 ? -SSPR_E_RECORD : 0;
		}
		if (s < seq && s > below)
			below = s;
		if (seq == 0) {
			/* find pk: the seq it is kept for */
			unsigned char k[32];

			if (hex_exact(sp + 1, (size_t)(nl - sp - 1), k, 32) == 0 &&
			    sodium_memcmp(k, pk, 32) == 0) {
				if (ret_below)
					*ret_below = s;
				return 0;
			}
		}
		pos = (size_t)(nl - buf) + 1;
	}
	if (ret_below)
		*ret_below = below;
	return -ENOENT;
}

/* --- init, recovery, append, rotate ------------------------------------------- */

struct seg {
	uint64_t first;            /* 0 for journal.log (last) */
	char name[40];             /* "journal.log" or "journal-<20 digits>.log" */
};


static int new_chain(int dirfd, unsigned char ret_pk[32])
{
	_cleanup_secure_ struct jstate *st = sspr_secure_alloc(sizeof *st);
	int r;

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof *st);
	r = sspr_journal_signer_new(&st->sg, ret_pk);
	if (r < 0)
		return r;
	r = keys_add(dirfd, 1, ret_pk, true);
	if (r < 0)
		return r;
	return state_commit(dirfd, st);
}

int sspr_journal_init(const char *statedir, bool force, unsigned char ret_pk[32])
{
	_cleanup_close_ int dirfd = -1, lockfd = -1, sfd = -1;
	char aside[64];
	int r;

	if (sodium_init() < 0)
		return -EIO;
	r = open_jdir_locked(statedir, true, &dirfd, &lockfd);
	if (r < 0)
		return r;
	if (any_journal_file(dirfd)) {
		if (!force)
			return -EEXIST;
		/* Move the old chain aside whole, then start in a new directory. */
		r = sspr_state_open_dir(statedir, ".", false, &sfd);
		if (r < 0)
			return r;
		/* never over an older one (two inits in one second): -N */
		for (unsigned i = 0;; i++) {
			(void)snprintf(aside, sizeof aside, i ? "journal.replaced-%lld-%u"
			                                      : "journal.replaced-%lld",
			               (long long)time(NULL), i);
			if (renameat2(sfd, JDIR, sfd, aside, RENAME_NOREPLACE) == 0)
				break;
			if (errno != EEXIST || i >= 1000)
				return -errno;
		}
		(void)fsync(sfd);
		/* the lock we hold is the old directory's: take the new one's
		 * before starting the chain in it (a writer that got there
		 * first has started one: say so rather than write over it) */
		sspr_closep(&dirfd);
		dirfd = -1;
		sspr_closep(&lockfd);
		lockfd = -1;
		r = open_jdir_locked(statedir, true, &dirfd, &lockfd);
		if (r < 0)
			return r;
		if (any_journal_file(dirfd))
			return -EBUSY;
	}
	return new_chain(dirfd, ret_pk);
}

static int list_segments(int dirfd, struct seg **ret, size_t *ret_n);

/* journal.log is empty but the state says it holds st->size bytes: a
 * rotation renamed it and stopped before the state followed.  When the
 * newest rotated segment is exactly that size, finish the rotation.
 * -ENOENT when it is not that. */
static int finish_rotation(int dirfd, struct jstate *st)
{
	_cleanup_free_ struct seg *segs = NULL;
	_cleanup_close_ int fd = -1;
	struct stat sb;
	size_t n = 0;
	int r;

	r = list_segments(dirfd, &segs, &n);
	if (r < 0)
		return r;
	/* sorted: rotated ones first, journal.log last */
	if (n < 2 || segs[n - 2].first == 0)
		return -ENOENT;
	r = open_segment(dirfd, segs[n - 2].name, O_RDONLY, &fd);
	if (r < 0)
		return r;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if ((uint64_t)sb.st_size != st->size)
		return -ENOENT;
	if (st->line_len) {
		/* the size alone is not enough: the first entry after a
		 * rotation, committed and not yet written, can have the size
		 * of the rotated segment; an unfinished rotation left the
		 * state's line as the last one of that segment */
		char tail[SSPR_JOURNAL_LINE_MAX + 1];

		if (st->size < st->line_len + 1 ||
		    pread(fd, tail, st->line_len + 1, (off_t)(st->size - st->line_len - 1)) !=
		            (ssize_t)(st->line_len + 1) ||
		    memcmp(tail, st->line, st->line_len) != 0 || tail[st->line_len] != '\n')
			return -ENOENT;
	}
	st->size = 0;
	st->line_len = 0;
	return state_commit(dirfd, st);
}

/* Under the lock: bring state.new, state and journal.log back into step
 * after a crash, and load the state. */
static int recover(int dirfd, struct jstate *st)
{
	_cleanup_close_ int fd = -1;
	struct stat sb;
	uint64_t pre;
	bool created;
	int r;

	r = state_read(dirfd, STATE_NEW, st);
	if (r == 0) {
		/* A whole next state: the append got that far. */
		state_wipe(dirfd);
		if (renameat(dirfd, STATE_NEW, dirfd, STATE) < 0)
			return -errno;
		if (fsync(dirfd) < 0)
			return -errno;
	} else if (r == -SSPR_E_RECORD || r == -SSPR_E_UNSAFE_FILE) {
		/* torn: the append never got past it; the old state stands
		 * (or planted: not ours; its name goes, never its target) */
		if (unlinkat(dirfd, STATE_NEW, 0) < 0 && errno != ENOENT)
			return -errno;
	} else if (r != -ENOENT) {
		/* cannot read it now (memory, I/O, a planted file): it may be
		 * the only copy of the next key, so leave it and fail */
		return r;
	}
	r = state_read(dirfd, STATE, st);
	if (r < 0)
		return r;
	created = !exists_at(dirfd, SEGMENT);
	r = open_segment(dirfd, SEGMENT, O_RDWR | O_CREAT, &fd);
	if (r < 0)
		return r;
	/* a new journal.log (a new chain, after a rotation) is in the
	 * directory for good before any entry goes into it */
	if (created && fsync(dirfd) < 0)
		return -errno;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if ((uint64_t)sb.st_size == st->size)
		return 0;
	if (sb.st_size == 0 && st->size > 0) {
		r = finish_rotation(dirfd, st);
		if (r != -ENOENT)
			return r;
	}
	if (st->line_len == 0)
		return -SSPR_E_RECORD; /* size moved without a pending line */
	pre = st->size - st->line_len - 1;
	if ((uint64_t)sb.st_size < pre || (uint64_t)sb.st_size > st->size)
		return -SSPR_E_RECORD; /* cut or grown behind our back */
	if ((uint64_t)sb.st_size > pre) {
		/* a torn write leaves a prefix of the line (or, after a power
		 * loss, zeros); other bytes there are an edit, which
		 * verification must report, not overwrite */
		size_t n = (size_t)((uint64_t)sb.st_size - pre);
		_cleanup_free_ char *have = malloc(n);

		if (!have)
			return -ENOMEM;
		if (pread(fd, have, n, (off_t)pre) != (ssize_t)n)
			return -EIO;
		if (n > st->line_len)
			return -SSPR_E_RECORD;
		for (size_t i = 0; i < n; i++)
			if (have[i] != st->line[i] && have[i] != '\0')
				return -SSPR_E_RECORD;
	}
	/* The last entry is missing or torn: write it (again). */
	if ((uint64_t)sb.st_size != pre && ftruncate(fd, (off_t)pre) < 0)
		return -errno;
	if (lseek(fd, (off_t)pre, SEEK_SET) < 0)
		return -errno;
	if (st->line_len > SSPR_JOURNAL_LINE_MAX)
		return -SSPR_E_RECORD;
	st->line[st->line_len] = '\n';
	r = sspr_write_all(fd, st->line, st->line_len + 1);
	st->line[st->line_len] = '\0';
	if (r < 0)
		return r;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

int sspr_journal_append(const char *statedir, time_t when, const char *payload,
                        uint64_t *ret_seq, bool *ret_started, unsigned char ret_pk[32])
{
	_cleanup_secure_ struct jstate *st = sspr_secure_alloc(sizeof *st);
	_cleanup_close_ int dirfd = -1, lockfd = -1, fd = -1;
	size_t len;
	int r;

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof *st);
	*ret_started = false;
	if (sodium_init() < 0)
		return -EIO;
	r = open_jdir_locked(statedir, true, &dirfd, &lockfd);
	if (r < 0)
		return r;
	if (!any_journal_file(dirfd)) {
		/* The journal starts itself at the first event. */
		r = new_chain(dirfd, ret_pk);
		if (r < 0)
			return r;
		*ret_started = true;
	}
	r = recover(dirfd, st);
	if (r < 0)
		return r;
	r = sspr_journal_sign(&st->sg, when, payload, st->line, sizeof st->line, &len);
	if (r < 0)
		return r;
	st->line_len = len;
	st->size += len + 1;
	/* The next key and this entry are on disk, the old key gone ... */
	r = state_commit(dirfd, st);
	if (r < 0)
		return r;
	/* ... before the entry goes to the segment (recover made it). */
	r = open_segment(dirfd, SEGMENT, O_WRONLY | O_APPEND, &fd);
	if (r < 0)
		return r;
	if (len > SSPR_JOURNAL_LINE_MAX)
		return -ENOBUFS;
	st->line[len] = '\n';
	r = sspr_write_all(fd, st->line, len + 1);
	st->line[len] = '\0';
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		return r; /* the next writer rolls it forward from the state */
	*ret_seq = st->sg.seq;
	return 0;
}

/* The seq of the first entry of an open segment. */
static int first_seq(int fd, uint64_t *ret)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	const char *sp;

	if (n <= 0)
		return n == 0 ? -ENODATA : -errno;
	buf[n] = '\0';
	if (strncmp(buf, "seq=", 4) != 0 || !(sp = strchr(buf + 4, ' ')))
		return -SSPR_E_RECORD;
	return parse_u64(buf + 4, (size_t)(sp - buf - 4), ret) ? 0 : -SSPR_E_RECORD;
}

int sspr_journal_rotate(const char *statedir, uint64_t *ret_first_seq,
                        uint64_t *ret_last_seq, unsigned char ret_pk[32])
{
	_cleanup_secure_ struct jstate *st = sspr_secure_alloc(sizeof *st);
	_cleanup_close_ int dirfd = -1, lockfd = -1, fd = -1;
	char name[40];
	uint64_t first;
	int r;

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof *st);
	r = open_jdir_locked(statedir, false, &dirfd, &lockfd);
	if (r < 0)
		return r;
	r = recover(dirfd, st);
	if (r < 0)
		return r;
	r = open_segment(dirfd, SEGMENT, O_RDONLY, &fd);
	if (r < 0)
		return r;
	r = first_seq(fd, &first);
	if (r < 0)
		return r;
	(void)snprintf(name, sizeof name, "journal-%020" PRIu64 ".log", first);
	if (exists_at(dirfd, name))
		return -EEXIST;
	crypto_sign_ed25519_sk_to_pk(ret_pk, st->sg.sk);
	/* keys first: a crash after it only names a key no segment uses yet
	 * (a second run adds the same line again; the first one counts) */
	r = keys_add(dirfd, st->sg.seq + 1, ret_pk, false);
	if (r < 0)
		return r;
	/* then the segment; a crash before the state follows is finished by
	 * the next writer (finish_rotation) */
	if (renameat(dirfd, SEGMENT, dirfd, name) < 0)
		return -errno;
	if (fsync(dirfd) < 0)
		return -errno;
	st->size = 0;
	st->line_len = 0;
	r = state_commit(dirfd, st);
	if (r < 0)
		return r;
	*ret_first_seq = first;
	*ret_last_seq = st->sg.seq;
	return 0;
}

/* --- reading ---------------------------------------------------------------- */

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	if (x->first == 0 || y->first == 0)
		return x->first == 0 ? (y->first == 0 ? 0 : 1) : -1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* The segments in order; *ret freed by the caller. */
static int list_segments(int dirfd, struct seg **ret, size_t *ret_n)
{
	_cleanup_free_ struct seg *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	int dfd = dup(dirfd);
	DIR *dir;

	if (dfd < 0)
		return -errno;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return -errno;
	}
	rewinddir(dir);
	while ((d = readdir(dir))) {
		uint64_t first = 0;

		if (strcmp(d->d_name, SEGMENT) != 0 && !segment_name(d->d_name, &first))
			continue;
		if (n == cap) {
			struct seg *nv;

			cap = cap ? cap * 2 : 16;
			if (cap > 1000000 || !(nv = realloc(v, cap * sizeof *v))) {
				closedir(dir);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n].first = first;
		/* both kinds of name are shorter than the buffer */
		memcpy(v[n].name, d->d_name, strlen(d->d_name) + 1);
		n++;
	}
	closedir(dir);
	if (n)
		qsort(v, n, sizeof *v, seg_cmp);
	*ret = v;
	v = NULL;
	*ret_n = n;
	return 0;
}

/* Read fd line by line (each at most SSPR_JOURNAL_LINE_MAX bytes); call
 * fn for each.  A last line without '\n' is passed with torn = true. */
typedef int (*line_fn)(void *ud, const char *line, size_t len, bool torn, bool too_long);

static int read_lines(int fd, line_fn fn, void *ud)
{
	_cleanup_free_ char *buf = malloc(SSPR_JOURNAL_LINE_MAX + 65536 + 1);
	size_t have = 0;
	bool skipping = false;
	int r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + have, SSPR_JOURNAL_LINE_MAX + 65536 - have);
		size_t start = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		for (;;) {
			char *nl = memchr(buf + start, '\n', have - start);

			if (!nl)
				break;
			if (skipping) {
				skipping = false;
			} else {
				*nl = '\0';
				r = fn(ud, buf + start, (size_t)(nl - (buf + start)), false, false);
				if (r)
					return r;
			}
			start = (size_t)(nl - buf) + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have > SSPR_JOURNAL_LINE_MAX) {
			if (!skipping) {
				r = fn(ud, buf, have, false, true);
				if (r)
					return r;
			}
			skipping = true;
			have = 0;
		}
	}
	if (have && !skipping) {
		buf[have] = '\0';
		return fn(ud, buf, have, true, false);
	}
	return 0;
}

struct walk {
	sspr_journal_cb cb;
	void *ud;
};

static int walk_line(void *ud, const char *line, size_t len, bool torn, bool too_long)
{
	struct walk *w = ud;
	struct sspr_journal_entry e;
	const char *why;

	if (torn || too_long || sspr_journal_parse(line, len, &e, &why) < 0)
		return w->cb(w->ud, NULL, line, len);
	return w->cb(w->ud, &e, line, len);
}

int sspr_journal_foreach(const char *statedir, sspr_journal_cb cb, void *ud)
{
	_cleanup_close_ int dirfd = -1;
	_cleanup_free_ struct seg *segs = NULL;
	struct walk w = { cb, ud };
	size_t n = 0;
	int r;

	r = open_jdir(statedir, false, &dirfd);
	if (r < 0)
		return r;
	r = list_segments(dirfd, &segs, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int fd = -1;

		r = open_segment(dirfd, segs[i].name, O_RDONLY, &fd);
		if (r < 0)
			return r;
		r = read_lines(fd, walk_line, &w);
		if (r)
			return r;
	}
	return 0;
}

/* --- verification ------------------------------------------------------------- */

struct vstate {
	struct sspr_journal_report *rep;
	uint64_t state_seq;        /* the state's last entry (0: none/unknown) */
	unsigned char state_pk[32];/* the key the state holds for state_seq+1 */
	bool state_seen;
	unsigned char pk[32];      /* signs the next entry */
	unsigned char hash[32];    /* of the previous line */
	bool have_prev;            /* hash is meaningful */
	uint64_t expect;           /* seq of the next entry */
	uint64_t seg_first;        /* what this segment's name says (0: current) */
	bool seg_start;
};

static int bad(struct sspr_journal_report *rep, uint64_t seq, const char *why)
{
	rep->bad_seq = seq;
	(void)snprintf(rep->why, sizeof rep->why, "%s", why);
	return -SSPR_E_RECORD;
}

static int verify_line(void *ud, const char *line, size_t len, bool torn, bool too_long)
{
	struct vstate *v = ud;
	struct sspr_journal_entry e;
	const char *why;

	if (too_long)
		return bad(v->rep, v->expect, "entry too long");
	if (torn)
		return bad(v->rep, v->expect, "torn entry (no end of line)");
	if (sspr_journal_parse(line, len, &e, &why) < 0)
		return bad(v->rep, v->expect, why);
	if (v->seg_start && v->seg_first && e.seq != v->seg_first)
		return bad(v->rep, v->expect, "segment name does not match its first entry");
	if (e.seq != v->expect) {
		char msg[128];

		(void)snprintf(msg, sizeof msg,
		               e.seq > v->expect ? "missing (the next entry is seq=%" PRIu64 ")"
		                                 : "out of order (found seq=%" PRIu64 " here)",
		               e.seq);
		return bad(v->rep, v->expect, msg);
	}
	if (v->have_prev && sodium_memcmp(e.prev, v->hash, 32) != 0)
		return bad(v->rep, e.seq, "prev= does not match the previous entry");
	if (!sspr_journal_check_sig(line, &e, v->pk))
		return bad(v->rep, e.seq, "signature does not verify");
	if (v->state_seq && e.seq == v->state_seq) {
		v->state_seen = true;
		if (sodium_memcmp(e.next, v->state_pk, 32) != 0)
			return bad(v->rep, e.seq + 1,
			           "the state's key is not the one this entry names for the next");
	}
	memcpy(v->pk, e.next, 32);
	sspr_journal_hash(line, len, v->hash);
	v->have_prev = true;
	v->seg_start = false;
	if (v->rep->entries == 0)
		v->rep->first_seq = e.seq;
	v->rep->entries++;
	v->rep->last_seq = e.seq;
	memcpy(v->rep->last_time, e.time, sizeof e.time);
	v->expect = e.seq + 1;
	return 0;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			(void)close(fds[i]);
}

/* Walk the opened segments in order (sspr_journal_verify). */
static int verify_segments(int dirfd, const unsigned char *key, const struct seg *segs,
                           const int *fds, size_t n, struct vstate *v, unsigned char first_pk[32],
                           bool *started)
{
	struct sspr_journal_report *rep = v->rep;
	int r;

	for (size_t i = 0; i < n; i++) {
		int fd = fds[i];

		if (!*started) {
			/* where the chain present starts, and its key */
			uint64_t first;

			r = first_seq(fd, &first);
			if (r == -ENODATA)
				continue; /* an empty current segment */
			if (r < 0)
				return bad(rep, segs[i].first ? segs[i].first : 1,
				           "the first entry has no seq=");
			*started = true;
			v->expect = first;
			if (segs[i].first && first > segs[i].first) {
				/* the file's name says where it began */
				char msg[128];

				(void)snprintf(msg, sizeof msg,
				               "missing (%s starts at seq=%" PRIu64 ")", segs[i].name, first);
				return bad(rep, segs[i].first, msg);
			}
			if (key) {
				uint64_t at;

				memcpy(v->pk, key, 32);
				/* the given key is kept for an earlier entry: that
				 * one and what follows it are missing */
				if (keys_find(dirfd, 0, v->pk, &at) == 0 && at && at < first) {
					char msg[128];

					(void)snprintf(msg, sizeof msg,
					               "missing (the journal present starts at seq=%" PRIu64
					               "; the key given signs seq=%" PRIu64 ")",
					               first, at);
					return bad(rep, at, msg);
				}
			} else {
				uint64_t below;

				r = keys_find(dirfd, first, v->pk, &below);
				if (r == -SSPR_E_UNSAFE_FILE)
					return r;
				if (r == -ENOENT && below) {
					/* the chain began earlier than what is left */
					char msg[128];

					(void)snprintf(msg, sizeof msg,
					               "missing (the journal present starts at seq=%" PRIu64
					               "; a kept key starts one at seq=%" PRIu64 ")",
					               first, below);
					return bad(rep, below, msg);
				}
				if (r < 0)
					return bad(rep, first,
					           "no kept key for the first entry present (give --key)");
				rep->key_from_kept = true;
				/* older files were archived (or removed): say so */
				if (below)
					rep->absent_before = first;
			}
			memcpy(first_pk, v->pk, 32);
			if (first == 1) {
				sspr_journal_hash(v->pk, 32, v->hash);
				v->have_prev = true;
			}
		}
		v->seg_first = segs[i].first;
		v->seg_start = true;
		rep->files++;
		r = read_lines(fd, verify_line, v);
		if (r)
			return r;
	}
	return 0;
}

int sspr_journal_verify(const char *statedir, const unsigned char *key,
                        struct sspr_journal_report *rep)
{
	_cleanup_secure_ struct jstate *st = sspr_secure_alloc(sizeof *st);
	_cleanup_close_ int dirfd = -1, lockfd = -1;
	_cleanup_free_ struct seg *segs = NULL;
	_cleanup_free_ int *fds = NULL;
	struct vstate v = { .rep = rep };
	unsigned char first_pk[32] = { 0 };
	bool started = false;
	size_t n = 0;
	int r, sr;

	memset(rep, 0, sizeof *rep);
	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof *st);
	if (sodium_init() < 0)
		return -EIO;
	r = open_jdir(statedir, false, &dirfd);
	if (r < 0)
		return r;
	/* The state first (rolling a crashed append forward when we can
	 * write); then let writers go on: entries appended while we read are
	 * checked like the others. */
	sr = take_lock(dirfd, &lockfd);
	if (sr == 0)
		sr = recover(dirfd, st);
	/* a roll-forward refused (the segment cut or edited behind our back)
	 * must not hide the state that shows it: read the state as it is */
	if (sr < 0 && sr != -SSPR_E_UNSAFE_FILE)
		sr = state_read(dirfd, STATE, st);
	if (sr == -SSPR_E_UNSAFE_FILE)
		return sr; /* something planted: refuse, as the writers do */
	if (sr == 0) {
		v.state_seq = st->sg.seq;
		crypto_sign_ed25519_sk_to_pk(v.state_pk, st->sg.sk);
		sodium_memzero(st, sizeof *st);
	}
	/* the segments as the state knows them: listed and opened under the
	 * lock (a rotation cannot move one away between), read after it */
	r = list_segments(dirfd, &segs, &n);
	if (r < 0)
		return r;
	fds = calloc(n ? n : 1, sizeof *fds);
	if (!fds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	for (size_t i = 0; i < n; i++) {
		r = open_segment(dirfd, segs[i].name, O_RDONLY, &fds[i]);
		if (r < 0) {
			close_all(fds, n);
			return r;
		}
	}
	sspr_closep(&lockfd);
	lockfd = -1;
	r = verify_segments(dirfd, key, segs, fds, n, &v, first_pk, &started);
	close_all(fds, n);
	if (r)
		return r;
	if (sr == 0) {
		rep->state_checked = true;
		if (v.state_seq > rep->last_seq) {
			char msg[160];

			(void)snprintf(msg, sizeof msg,
			               "missing (the journal ends at seq=%" PRIu64
			               ", its state at seq=%" PRIu64 ")",
			               rep->last_seq, v.state_seq);
			return bad(rep, rep->last_seq + 1, msg);
		}
		if (v.state_seq == 0 && rep->entries && sodium_memcmp(v.state_pk, first_pk, 32) != 0)
			return bad(rep, rep->first_seq,
			           "the state's key is not the one that signs the first entry");
		if (v.state_seq != 0 && rep->entries && !v.state_seen)
			/* the state names an entry that is not there (before the
			 * first present): it does not belong to this journal */
			return bad(rep, rep->first_seq,
			           "the state's last entry is not in the journal present");
	} else if (!started) {
		if (sr == -SSPR_E_RECORD) /* a bad state: say so, as the contract says */
			return bad(rep, 1,
			           "no entry present, and the state is damaged or does not match");
		return sr == -ENOENT ? -ENOENT : sr;
	} else if (sr == -ENOENT || sr == -SSPR_E_RECORD) {
		/* every journal has a state from its first entry on: without
		 * it a cut tail would pass */
		return bad(rep, rep->last_seq + 1,
		           sr == -ENOENT ? "the state is missing: the end cannot be checked"
		                         : "the state is damaged: the end cannot be checked");
	}
	return 0;
}
