/* SPDX-License-Identifier: BSD-2-Clause */
/* QR codes of the otpauth:// URI with libqrencode (8-bit mode, error
 * correction level M), drawn three ways:
 *
 *   utf8  half blocks, two modules a character cell, as `qrencode -t UTF8`
 *         draws them: a glyph's lit part is a light module, so the code
 *         reads right on a terminal with light text on a dark background
 *         (most terminals' default); elsewhere use ansi, which sets its own
 *         colours.
 *   ansi  background colours, two spaces a module, as `qrencode -t ANSI`.
 *   svg   an SVG document: white background, one black path.
 *
 * Every drawing has a quiet zone of QR_MARGIN light modules.  The symbol
 * encodes the secret, so its modules are wiped before it is freed. */
#include <errno.h>
#include <string.h>

#include <qrencode.h>

#include "sspr/common.h"
#include "cli.h"

#define QR_MARGIN 4      /* modules of quiet zone on every side */
#define SVG_MODULE_PX 8  /* size of a module in the SVG's width/height */

#define UTF8_FULL "\xe2\x96\x88"  /* U+2588 FULL BLOCK */
#define UTF8_UPPER "\xe2\x96\x80" /* U+2580 UPPER HALF BLOCK */
#define UTF8_LOWER "\xe2\x96\x84" /* U+2584 LOWER HALF BLOCK */

#define ANSI_LIGHT "\033[47m"
#define ANSI_DARK "\033[40m"
#define ANSI_RESET "\033[0m"

int cli_qr_parse(const char *arg, struct cli_qr_opt *ret)
{
	if (strcmp(arg, "utf8") == 0) {
		ret->kind = CLI_QR_UTF8;
	} else if (strcmp(arg, "ansi") == 0) {
		ret->kind = CLI_QR_ANSI;
	} else if (strcmp(arg, "none") == 0) {
		ret->kind = CLI_QR_NONE;
	} else if (strncmp(arg, "svg:", 4) == 0 && arg[4] != '\0') {
		ret->kind = CLI_QR_SVG;
		ret->svg_path = arg + 4;
		return 0;
	} else {
		return -EINVAL;
	}
	ret->svg_path = NULL;
	return 0;
}

/* Whether module (x, y) is dark; outside the symbol (the quiet zone) is
 * light. */
static bool dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1;
}

/* Whether (x, y) is inside the drawing: symbol plus quiet zone. */
static bool inside(const QRcode *qr, int x, int y)
{
	return x >= -QR_MARGIN && y >= -QR_MARGIN && x < qr->width + QR_MARGIN &&
	       y < qr->width + QR_MARGIN;
}

static void render_utf8(const QRcode *qr, struct cli_out *o)
{
	int end = qr->width + QR_MARGIN;

	for (int y = -QR_MARGIN; y < end; y += 2) {
		for (int x = -QR_MARGIN; x < end; x++) {
			/* lit = light module; below the last row is the
			 * terminal's own background */
			bool up = !dark(qr, x, y);
			bool down = inside(qr, x, y + 1) && !dark(qr, x, y + 1);

			if (up && down)
				cli_out_str(o, UTF8_FULL);
			else if (up)
				cli_out_str(o, UTF8_UPPER);
			else if (down)
				cli_out_str(o, UTF8_LOWER);
			else
				cli_out_str(o, " ");
		}
		cli_out_str(o, "\n");
	}
}

static void render_ansi(const QRcode *qr, struct cli_out *o)
{
	int end = qr->width + QR_MARGIN;

	for (int y = -QR_MARGIN; y < end; y++) {
		bool last_dark = false;

		cli_out_str(o, ANSI_LIGHT);
		for (int x = -QR_MARGIN; x < end; x++) {
			bool d = dark(qr, x, y);

			if (d != last_dark)
				cli_out_str(o, d ? ANSI_DARK : ANSI_LIGHT);
			last_dark = d;
			cli_out_str(o, "  ");
		}
		cli_out_str(o, ANSI_RESET "\n");
	}
}

static void render_svg(const QRcode *qr, struct cli_out *o)
{
	int n = qr->width + 2 * QR_MARGIN;

	cli_out_str(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	cli_out_fmt(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	               "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	               "shape-rendering=\"crispEdges\">\n",
	            n * SVG_MODULE_PX, n * SVG_MODULE_PX, n, n);
	cli_out_fmt(o, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", n, n);
	cli_out_str(o, "<path fill=\"#000000\" d=\"");
	/* one rectangle per horizontal run of dark modules */
	for (int y = 0; y < qr->width; y++) {
		for (int x = 0; x < qr->width;) {
			int run = 0;

			while (x + run < qr->width && dark(qr, x + run, y))
				run++;
			if (run == 0) {
				x++;
				continue;
			}
			cli_out_fmt(o, "M%d %dh%dv1h-%dz", x + QR_MARGIN, y + QR_MARGIN, run, run);
			x += run;
		}
	}
	cli_out_str(o, "\"/>\n</svg>\n");
}

int cli_qr_render(const char *text, enum cli_qr_kind kind, struct cli_out *o)
{
	QRcode *qr;

	if (kind == CLI_QR_NONE)
		return 0;
	errno = 0;
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!qr)
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	switch (kind) {
	case CLI_QR_UTF8:
		render_utf8(qr, o);
		break;
	case CLI_QR_ANSI:
		render_ansi(qr, o);
		break;
	case CLI_QR_SVG:
		render_svg(qr, o);
		break;
	case CLI_QR_NONE:
		break;
	}
	sspr_wipe(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	return o->failed ? -ENOMEM : 0;
}
