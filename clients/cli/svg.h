/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Latency CDF plots as standalone SVG text, written by hand: no plotting
 * library is needed to turn `shoal bench` samples into a picture a browser
 * shows. One plot holds up to a few series, each a step line of its sorted
 * samples, with axes, grid, tick labels and a legend.
 */
#ifndef SHOAL_CLI_SVG_H
#define SHOAL_CLI_SVG_H

#include <stddef.h>
#include <stdio.h>

struct svg_series {
	const char *name;
	const double *sorted; /* ascending samples (ms) */
	size_t n;
};

/*
 * svg_write_cdf() - write an SVG document to @f: the empirical CDF of each
 * series (x: latency in ms, log scale when the samples span more than a
 * decade; y: fraction of samples at or below). Series with no samples are
 * listed in the legend only. Returns 0, or -EIO if writing failed.
 */
int svg_write_cdf(FILE *f, const char *title, const struct svg_series *series, size_t nseries);

#endif /* SHOAL_CLI_SVG_H */
