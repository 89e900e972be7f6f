/* SPDX-License-Identifier: BSD-2-Clause */
/* The tamper-evident audit journal (SPEC section 7): STATEDIR/journal/.
 *
 * One text line an entry:
 *
 *   seq=N time=YYYY-MM-DDTHH:MM:SSZ prev=HEX64 next=HEX64 event=... sig=HEX128
 *
 * prev is BLAKE2b-256 of the previous entry's whole line (for seq 1, of the
 * first public key); next is the Ed25519 public key that signs entry N+1;
 * sig is the Ed25519 signature, by the key that entry N-1 named (for seq 1,
 * the first key), of every byte before " sig=".  The secret key that
 * signed an entry is erased when the entry is made: whoever reads the
 * state directory later can sign only entries after the last one.
 *
 * Files (all 0600 in a 0700 directory owned by the effective uid):
 *   journal.log             the current segment
 *   journal-<20 digits>.log rotated segments, named by their first seq
 *   state                   the next secret key, last seq and hash, and the
 *                           last line with the segment size it ends at
 *   state.new               the next state, while an append is under way
 *   keys                    "SEQ HEX" lines: the first key, and the key of
 *                           the first entry of each rotated-to segment
 *   .lock                   fcntl lock of every writer
 *
 * An append writes state.new (the entry and the next key) and fsyncs it,
 * overwrites the old state in place with zeros, renames state.new over
 * it, and only then appends the line to journal.log.  A crash at any
 * point is rolled forward by the next writer: a whole state.new is
 * renamed in, and a line in the state that the segment lacks (or holds
 * torn) is written.  So no entry is lost once its key is gone, and no old
 * key outlives its entry. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SSPR_JOURNAL_LINE_MAX 8192 /* bytes of one entry line, without '\n' */
#define SSPR_JOURNAL_PK_HEX 65     /* 64 hex digits and NUL */

struct sspr_journal_entry {
	uint64_t seq;
	time_t when;
	char time[21];             /* as written: YYYY-MM-DDTHH:MM:SSZ */
	unsigned char prev[32];
	unsigned char next[32];
	unsigned char sig[64];
	const char *payload;       /* "event=..." inside the parsed line */
	size_t payload_len;
	size_t signed_len;         /* bytes of the line the signature covers */
};

/* Parse one entry line (len bytes, no '\n').  Strict: fields in order,
 * lowercase hex of the exact lengths, seq 1..2^63, a real UTC time, a
 * payload of printable ASCII starting "event=".  Returns 0, or
 * -SSPR_E_RECORD with *why (static text) saying what is wrong. */
int sspr_journal_parse(const char *line, size_t len, struct sspr_journal_entry *e,
                       const char **why);

/* Check e (parsed from line) against the key pk that should have signed
 * it.  Returns true when the signature verifies. */
bool sspr_journal_check_sig(const char *line, const struct sspr_journal_entry *e,
                            const unsigned char pk[32]);

/* BLAKE2b-256 of bytes (an entry line, or a first key). */
void sspr_journal_hash(const void *bytes, size_t len, unsigned char out[32]);

/* The signing state: what the next entry needs.  Lives in secure memory. */
struct sspr_journal_signer {
	uint64_t seq;              /* of the last entry made (0: none yet) */
	unsigned char hash[32];    /* of its line (or of the first key) */
	unsigned char sk[64];      /* signs entry seq+1 */
};

/* A new chain: fresh first key pair.  s must be secure memory. */
int sspr_journal_signer_new(struct sspr_journal_signer *s, unsigned char ret_pk[32]);

/* Make entry seq+1 at `when` with payload (printable ASCII, "event=...")
 * into out (outlen >= SSPR_JOURNAL_LINE_MAX + 1, NUL-terminated, no
 * '\n') and advance s: new key pair, the used secret key wiped.  Pure
 * computation, no I/O (the append below, the tests and the benchmark use
 * it).  Returns 0, -EINVAL (bad payload) or -ENOBUFS (too long). */
int sspr_journal_sign(struct sspr_journal_signer *s, time_t when, const char *payload,
                      char *out, size_t outlen, size_t *ret_len);

/* Hex of a public key, and back (exactly 64 lowercase or uppercase hex
 * digits).  Returns 0 or -EINVAL. */
void sspr_journal_key_hex(const unsigned char pk[32], char out[SSPR_JOURNAL_PK_HEX]);
int sspr_journal_key_parse(const char *hex, unsigned char pk[32]);

/* --- the directory ------------------------------------------------------ */

/* Start a new chain in statedir/journal: refused with -EEXIST over an
 * existing one unless force, which moves the old directory aside to
 * journal.replaced-<unix time>.  *ret_pk: the first public key. */
int sspr_journal_init(const char *statedir, bool force, unsigned char ret_pk[32]);

/* Append one entry (starting the chain when there is none: *ret_started
 * then true and ret_pk the first key).  Rolls a crashed append forward
 * first.  Never re-reads the journal: the cost is the same at any length.
 * Returns 0 with *ret_seq, or a negative error (nothing appended). */
int sspr_journal_append(const char *statedir, time_t when, const char *payload,
                        uint64_t *ret_seq, bool *ret_started, unsigned char ret_pk[32]);

/* Close journal.log as journal-<first seq>.log and start an empty one;
 * the key of the next entry is added to keys and returned.  -ENODATA when
 * journal.log holds no entry. */
int sspr_journal_rotate(const char *statedir, uint64_t *ret_first_seq,
                        uint64_t *ret_last_seq, unsigned char ret_pk[32]);

/* Walk every entry, oldest first, across the segments (unverified).
 * cb returns 0 to go on, anything else stops the walk and is returned.
 * Lines that do not parse are passed with e == NULL.  Returns 0,
 * -ENOENT (no journal) or a negative error. */
typedef int (*sspr_journal_cb)(void *ud, const struct sspr_journal_entry *e,
                               const char *line, size_t len);
int sspr_journal_foreach(const char *statedir, sspr_journal_cb cb, void *ud);

struct sspr_journal_report {
	uint64_t entries, first_seq, last_seq;
	unsigned files;
	char last_time[21];
	bool key_from_kept;        /* no key given: the kept copy was used */
	uint64_t absent_before;    /* kept keys name earlier entries, which are
	                            * not present (archived files): 0 if none */
	bool state_checked;        /* the state could be read and matched */
	uint64_t bad_seq;          /* the first bad entry (when failing) */
	char why[256];
};

/* Verify the chain from key (NULL: the kept copy in keys) across every
 * segment; also the state's last seq and next key against the entry it
 * names (so a cut tail is caught, and so is a later append); a missing
 * or damaged state while entries exist is a bad entry too.  A crashed
 * append is rolled forward first when we can write.  Returns 0 (report
 * filled), -SSPR_E_RECORD (report names the first bad entry) or another
 * negative error (no journal, unreadable). */
int sspr_journal_verify(const char *statedir, const unsigned char *key,
                        struct sspr_journal_report *rep);
