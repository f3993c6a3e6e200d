/* fmath.h - sine, cosine and arc tangents for the tones and the pictures'
 * round joins, without libm.
 *
 * Why not libm's: it is in the process anyway (SDL links it), but its
 * functions sit far apart in a 900 KB file, and the kernel maps 64 KB of
 * pages around each one touched. The tones' sin and lrint and nanosvg's
 * sincosf, atan2f and acosf were five such windows: 0.31 MB of the
 * kiosk's resident memory for a few hundred calls, all at start-up
 * (issue 14). These are a few hundred bytes of our own code instead.
 *
 * Accuracy: within 4e-15 of libm's double results for |x| < 1e5 (tests/unit/
 * test_fmath.c sweeps them), far below what a pixel or a 16-bit sample can
 * show. Not for huge arguments: the reduction of x by pi/2 is exact to
 * |x| ~ 1.6e6 and loses digits past it (7e-9 at 8.6e7); NaN past 1e9, for
 * NaN and for infinities (nanosvg and the tones stay under 1e4). The arc
 * tangents are for finite arguments.
 */
#ifndef UTIL_FMATH_H
#define UTIL_FMATH_H

/* sin(x) and cos(x). */
void fm_sincos(double x, double *s, double *c);
double fm_sin(double x);
double fm_cos(double x);
/* atan2(y, x): the angle of (x, y) in [-pi, pi]; atan2(0, 0) = 0. */
double fm_atan2(double y, double x);
/* acos(x) in [0, pi] for x in [-1, 1]; NaN outside. */
double fm_acos(double x);
/* x rounded to the nearest integer, halves away from zero, as a long
 * (what a sample needs; lrint's halves to even make no audible
 * difference). x must fit a long. */
long fm_round(double x);

#endif
