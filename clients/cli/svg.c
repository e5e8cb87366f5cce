// SPDX-License-Identifier: GPL-2.0
/*
 * A cumulative distribution plot in SVG. A CDF shows the whole latency
 * distribution at once (median, tail, and how they compare between create,
 * ready and destroy) where a table of percentiles shows a few points of it.
 * The x axis turns logarithmic when samples span more than a decade, because
 * latency tails are long and a linear axis would squash the body into a
 * corner. Text is escaped; numbers are printed with the C locale's dot.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "clients/cli/svg.h"

#define W 800
#define H 480
#define ML 70 /* margins: left, right, top, bottom */
#define MR 170
#define MT 40
#define MB 60

static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e" };

struct axis {
	double lo, hi;
	int log;
};

static double x_of(const struct axis *a, double v)
{
	double t;

	if (a->log)
		t = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
	else
		t = (v - a->lo) / (a->hi - a->lo);
	if (t < 0)
		t = 0;
	if (t > 1)
		t = 1;
	return ML + t * (W - ML - MR);
}

static double y_of(double frac)
{
	return MT + (1 - frac) * (H - MT - MB);
}

static void text_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

/* A "nice" step (1, 2 or 5 times a power of ten) giving about @n ticks over @span. */
static double nice_step(double span, int n)
{
	double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;

	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void x_ticks(FILE *f, const struct axis *a)
{
	if (a->log) {
		for (double d = pow(10, floor(log10(a->lo))); d <= a->hi * 1.0001; d *= 10)
			for (int m = 1; m < 10; m++) {
				double v = d * m, x;

				if (v < a->lo * 0.9999 || v > a->hi * 1.0001)
					continue;
				x = x_of(a, v);
				fprintf(f,
					"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
					"class=\"%s\"/>\n",
					x, MT, x, H - MB, m == 1 ? "grid" : "minor");
				if (m == 1 || m == 2 || m == 5)
					fprintf(f,
						"<text x=\"%.1f\" y=\"%d\" class=\"tick\" "
						"text-anchor=\"middle\">%g</text>\n",
						x, H - MB + 18, v);
			}
		return;
	}
	double step = nice_step(a->hi - a->lo, 8);

	for (double v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-9; v += step) {
		double x = x_of(a, v);

		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>\n",
			x, MT, x, H - MB);
		fprintf(f,
			"<text x=\"%.1f\" y=\"%d\" class=\"tick\" "
			"text-anchor=\"middle\">%g</text>\n",
			x, H - MB + 18, v);
	}
}

int svg_write_cdf(FILE *f, const char *title, const struct svg_series *series, size_t nseries)
{
	struct axis a = { .lo = INFINITY, .hi = -INFINITY };

	for (size_t s = 0; s < nseries; s++)
		if (series[s].n) {
			if (series[s].sorted[0] < a.lo)
				a.lo = series[s].sorted[0];
			if (series[s].sorted[series[s].n - 1] > a.hi)
				a.hi = series[s].sorted[series[s].n - 1];
		}
	if (!(a.lo <= a.hi)) {
		a.lo = 0;
		a.hi = 1;
	}
	if (a.lo > 0 && a.hi / a.lo > 10) {
		a.log = 1;
		a.lo = pow(10, floor(log10(a.lo)));
		a.hi = pow(10, ceil(log10(a.hi)));
	} else {
		double step = nice_step(a.hi - a.lo > 0 ? a.hi - a.lo : (a.hi > 0 ? a.hi : 1), 8);

		a.lo = floor(a.lo / step) * step;
		a.hi = ceil(a.hi / step) * step;
		if (a.hi <= a.lo)
			a.hi = a.lo + step;
	}

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<style>.grid{stroke:#ccc;stroke-width:1}.minor{stroke:#eee;stroke-width:1}"
		".axis{stroke:#000;stroke-width:1.5}.tick{fill:#333}"
		".cdf{fill:none;stroke-width:2}</style>\n"
		"<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
		"<text x=\"%d\" y=\"24\" font-size=\"16\" text-anchor=\"middle\">",
		W, H, W, H, W, H, (W - MR + ML) / 2);
	text_escaped(f, title);
	fputs("</text>\n", f);

	x_ticks(f, &a);
	for (int i = 0; i <= 10; i++) {
		double y = y_of(i / 10.0);

		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>\n",
			ML, y, W - MR, y);
		fprintf(f,
			"<text x=\"%d\" y=\"%.1f\" class=\"tick\" "
			"text-anchor=\"end\">%.1f</text>\n",
			ML - 6, y + 4, i / 10.0);
	}
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", ML, H - MB,
		W - MR, H - MB);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", ML, MT, ML,
		H - MB);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency (ms%s)</text>\n",
		(W - MR + ML) / 2, H - 16, a.log ? ", log scale" : "");
	fprintf(f,
		"<text x=\"18\" y=\"%d\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 18 %d)\">fraction of operations</text>\n",
		(H - MB + MT) / 2, (H - MB + MT) / 2);

	for (size_t s = 0; s < nseries; s++) {
		const char *color = colors[s % (sizeof(colors) / sizeof(colors[0]))];
		int ly = MT + 10 + (int)s * 22;

		if (series[s].n) {
			/* A step function: up at each sample, flat between samples. */
			fprintf(f, "<polyline class=\"cdf\" stroke=\"%s\" points=\"%.1f,%.1f",
				color, x_of(&a, series[s].sorted[0]), y_of(0));
			for (size_t i = 0; i < series[s].n; i++) {
				double x = x_of(&a, series[s].sorted[i]);

				fprintf(f, " %.1f,%.1f %.1f,%.1f", x,
					y_of((double)i / (double)series[s].n), x,
					y_of((double)(i + 1) / (double)series[s].n));
			}
			fputs("\"/>\n", f);
		}
		fprintf(f,
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"3\"/>\n",
			W - MR + 14, ly, W - MR + 38, ly, color);
		fprintf(f, "<text x=\"%d\" y=\"%d\">", W - MR + 44, ly + 4);
		text_escaped(f, series[s].name);
		fprintf(f, " (n=%zu)</text>\n", series[s].n);
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}
