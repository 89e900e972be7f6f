/* SPDX-License-Identifier: BSD-2-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sspr/proto.h"

static void test_round_trip(void **state)
{
	struct sspr_msg m, d;
	uint8_t buf[4 + SSPR_MSG_MAX];
	long n;

	(void)state;
	sspr_msg_init(&m, SSPR_MSG_HELLO, 0);
	assert_int_equal(sspr_msg_add(&m, "alice"), 0);
	assert_int_equal(sspr_msg_add(&m, "sshd"), 0);
	assert_int_equal(sspr_msg_add(&m, ""), 0);
	n = sspr_msg_encode(&m, buf, sizeof buf);
	assert_int_equal(n, 4 + 4 + 2 + 5 + 2 + 4 + 2);
	assert_int_equal(buf[3], n - 4); /* big-endian length */
	assert_int_equal(sspr_msg_decode(buf + 4, (size_t)n - 4, &d), 0);
	assert_int_equal(d.type, SSPR_MSG_HELLO);
	assert_int_equal(d.nfields, 3);
	assert_string_equal(d.field[0].data, "alice");
	assert_string_equal(d.field[1].data, "sshd");
	assert_string_equal(d.field[2].data, "");
}

static void test_field_caps(void **state)
{
	struct sspr_msg m;
	char big[SSPR_FIELD_MAX + 2];

	(void)state;
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	sspr_msg_init(&m, SSPR_MSG_VERIFY, 0);
	assert_int_equal(sspr_msg_add(&m, big), -SSPR_E_TOO_LONG);
	big[SSPR_FIELD_MAX] = '\0';
	assert_int_equal(sspr_msg_add(&m, big), 0); /* exactly the cap is fine */
	for (int i = 1; i < SSPR_MSG_FIELDS; i++)
		assert_int_equal(sspr_msg_add(&m, "x"), 0);
	assert_int_equal(sspr_msg_add(&m, "x"), -ENOBUFS);
}

/* A table of malformed bodies, each refused. */
static void test_decode_rejects(void **state)
{
	static const struct {
		const char *name;
		uint8_t body[16];
		size_t len;
	} bad[] = {
		{ "empty", { 0 }, 0 },
		{ "short header", { 1, 1, 0 }, 3 },
		{ "bad version", { 2, 1, 0, 0 }, 4 },
		{ "too many fields", { 1, 1, 0, SSPR_MSG_FIELDS + 1 }, 4 },
		{ "field length past end", { 1, 1, 0, 1, 0, 5, 'a', 'b' }, 8 },
		{ "missing field", { 1, 1, 0, 2, 0, 1, 'a' }, 7 },
		{ "NUL inside a field", { 1, 1, 0, 1, 0, 3, 'a', 0, 'b' }, 9 },
		{ "trailing byte", { 1, 1, 0, 1, 0, 1, 'a', 'z' }, 8 },
		{ "half a length", { 1, 1, 0, 1, 0 }, 5 },
		{ "field over the cap", { 1, 1, 0, 1, 0x02, 0x01, 'a' }, 7 },
	};
	struct sspr_msg m;

	(void)state;
	for (size_t i = 0; i < SSPR_ELEMENTSOF(bad); i++) {
		memset(&m, 0x5a, sizeof m);
		if (sspr_msg_decode(bad[i].body, bad[i].len, &m) != -SSPR_E_PROTO)
			fail_msg("accepted: %s", bad[i].name);
	}
}

static void test_send_recv(void **state)
{
	struct sspr_msg m, d;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	sspr_msg_init(&m, SSPR_MSG_REPLY, SSPR_ST_BAD_PASSWORD);
	assert_int_equal(sspr_msg_add(&m, "it is too short"), 0);
	assert_int_equal(sspr_msg_send(sv[0], &m), 0);
	assert_int_equal(sspr_msg_recv(sv[1], &d, 1000), 0);
	assert_int_equal(d.arg, SSPR_ST_BAD_PASSWORD);
	assert_string_equal(d.field[0].data, "it is too short");
	/* nothing more: a bounded wait ends in -ETIMEDOUT */
	assert_int_equal(sspr_msg_recv(sv[1], &d, 50), -ETIMEDOUT);
	close(sv[0]);
	assert_int_equal(sspr_msg_recv(sv[1], &d, 1000), -EPIPE);
	close(sv[1]);
}

/* A frame announcing more than the cap is refused after reading only its
 * 4-byte length. */
static void test_recv_oversized_reads_no_more_than_cap(void **state)
{
	uint8_t hdr[4] = { 0, 0x10, 0, 0 }, junk[64];
	struct sspr_msg d;
	int sv[2];

	(void)state;
	memset(junk, 'A', sizeof junk);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], hdr, 4), 4);
	assert_int_equal(write(sv[0], junk, sizeof junk), (ssize_t)sizeof junk);
	assert_int_equal(sspr_msg_recv(sv[1], &d, 1000), -SSPR_E_PROTO);
	/* the body was not consumed */
	assert_int_equal(read(sv[1], junk, sizeof junk), (ssize_t)sizeof junk);
	close(sv[0]);
	close(sv[1]);
}

static void test_send_to_closed_peer_is_epipe(void **state)
{
	struct sspr_msg m;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	sspr_msg_init(&m, SSPR_MSG_VERIFY, 0);
	assert_int_equal(sspr_msg_add(&m, "123456"), 0);
	/* MSG_NOSIGNAL: an error, never SIGPIPE (which would kill sshd) */
	assert_int_equal(sspr_msg_send(sv[0], &m), -EPIPE);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_field_caps),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_send_recv),
		cmocka_unit_test(test_recv_oversized_reads_no_more_than_cap),
		cmocka_unit_test(test_send_to_closed_peer_is_epipe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
