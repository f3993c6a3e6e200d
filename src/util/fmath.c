/* fmath.c - sine, cosine and arc tangents without libm (fmath.h: why).
 *
 * Taylor series after the usual reductions: x by multiples of pi/2 (the
 * split constants are fdlibm's, so k * PIO2_HI is exact for |k| < 2^20),
 * arc tangents by halving the angle until the series converges in eight
 * terms. sqrt is the compiler's instruction (__builtin_sqrt); libm's is
 * called only for a NaN argument (to set errno), which the kiosk's tones
 * and pictures never give.
 */
#include "util/fmath.h"

#define PI 3.14159265358979311600e+00
#define PIO2 1.57079632679489655800e+00
#define PIO2_HI 1.57079632673412561417e+00 /* the first 33 bits of pi/2 */
#define PIO2_LO 6.07710050650619224932e-11 /* pi/2 - PIO2_HI */
#define TWO_OVER_PI 6.36619772367581382433e-01

long fm_round(double x)
{
    return (long)(x < 0 ? x - 0.5 : x + 0.5);
}

/* |r| <= pi/4: the series to r^17 and r^18, whose next terms are under
 * 1e-18. */
static double sin_near(double r)
{
    double r2 = r * r;
    return r * (1.0 + r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362880
           + r2 * (-1.0 / 39916800 + r2 * (1.0 / 6227020800.0 + r2 * (-1.0 / 1307674368000.0
           + r2 * (1.0 / 355687428096000.0)))))))));
}

static double cos_near(double r)
{
    double r2 = r * r;
    return 1.0 + r2 * (-1.0 / 2 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320
           + r2 * (-1.0 / 3628800 + r2 * (1.0 / 479001600 + r2 * (-1.0 / 87178291200.0
           + r2 * (1.0 / 20922789888000.0))))))));
}

void fm_sincos(double x, double *s, double *c)
{
    if (!(x > -1e9 && x < 1e9)) { /* NaN, infinite, or past any reduction */
        *s = *c = __builtin_nan("");
        return;
    }
    long k = fm_round(x * TWO_OVER_PI);
    double r = (x - (double)k * PIO2_HI) - (double)k * PIO2_LO;
    double sn = sin_near(r), cs = cos_near(r);

    switch (k & 3) {    /* x = r + k pi/2 */
    case 0: *s = sn;  *c = cs;  break;
    case 1: *s = cs;  *c = -sn; break;
    case 2: *s = -sn; *c = -cs; break;
    default: *s = -cs; *c = sn; break;
    }
}

double fm_sin(double x)
{
    double s, c;
    fm_sincos(x, &s, &c);
    return s;
}

double fm_cos(double x)
{
    double s, c;
    fm_sincos(x, &s, &c);
    return c;
}

/* 0 <= t <= 1. atan(t) = 2 atan(t / (1 + sqrt(1 + t^2))): three halvings
 * bring t under tan(pi/32) ~ 0.0985, where the series' ninth term is
 * under 1e-18. */
static double atan_unit(double t)
{
    for (int i = 0; i < 3; i++)
        t = t / (1.0 + __builtin_sqrt(1.0 + t * t));
    double t2 = t * t;
    double a = t * (1.0 + t2 * (-1.0 / 3 + t2 * (1.0 / 5 + t2 * (-1.0 / 7 + t2 * (1.0 / 9
               + t2 * (-1.0 / 11 + t2 * (1.0 / 13 + t2 * (-1.0 / 15))))))));
    return 8.0 * a;
}

double fm_atan2(double y, double x)
{
    if (x != x || y != y)
        return x + y;   /* NaN */
    double ax = x < 0 ? -x : x, ay = y < 0 ? -y : y, a;
    if (ax == 0 && ay == 0)
        a = __builtin_signbit(x) ? PI : 0.0;  /* as libm: atan2(0, -0) = pi */
    else if (ay <= ax)
        a = atan_unit(ay / ax);
    else
        a = PIO2 - atan_unit(ax / ay);
    if (x < 0 && !(ax == 0 && ay == 0))
        a = PI - a;
    return __builtin_copysign(a, y);
}

double fm_acos(double x)
{
    if (!(x >= -1.0 && x <= 1.0))
        return __builtin_nan("");
    return fm_atan2(__builtin_sqrt((1.0 - x) * (1.0 + x)), x);
}
