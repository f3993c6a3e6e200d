/* nanosvg.c - the one compilation unit holding nanosvg's implementation
 * (README.md: where it comes from and why). The headers are upstream's,
 * unchanged; the kiosk's code includes them for the declarations only.
 *
 * The trigonometry of round joins, caps and arcs is util/fmath's, not
 * libm's: each libm function touched maps 64 KB of its pages into the
 * kiosk (util/fmath.h). <math.h> first, so that its declarations keep
 * their names; nanosvg's own #include of it is then a no-op. What is left
 * to libm (tanf, fmodf, pow, roundf) runs only for skews, percentages and
 * numbers with fractions or exponents, which the kiosk's pictures do not
 * have (a picture that does still draws right, at the cost of those
 * pages). */
#include <math.h>

#include "util/fmath.h"

#define sinf(x) ((float)fm_sin(x))
#define cosf(x) ((float)fm_cos(x))
#define atan2f(y, x) ((float)fm_atan2((y), (x)))
#define acosf(x) ((float)fm_acos(x))

#define NANOSVG_IMPLEMENTATION
#include "nanosvg.h"
#define NANOSVGRAST_IMPLEMENTATION
#include "nanosvgrast.h"
