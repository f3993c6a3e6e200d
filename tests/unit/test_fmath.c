/* test_fmath.c - util/fmath against libm: the same values over the ranges
 * the tones and nanosvg use and well past them, the quadrants' signs, the
 * zeros and NaNs. (The test may link libm: it is the reference.) */
#include <math.h>

#include "t.h"
#include "util/fmath.h"

#define TOL 4e-15

static int close_to(double got, double want, double tol)
{
    return fabs(got - want) <= tol * (fabs(want) > 1 ? fabs(want) : 1);
}

/* Every 1/4096 of a unit from -1000 to 1000, and sparse points to 1e5; the
 * multiples of pi/2 themselves (the reduction's edges) and their
 * neighbours. */
T_TEST(sin_cos_match_libm)
{
    int bad = 0;
    double worst = 0;
    for (long i = -4096000; i <= 4096000 && bad < 5; i++) {
        double x = i / 4096.0, s, c;
        fm_sincos(x, &s, &c);
        double e = fmax(fabs(s - sin(x)), fabs(c - cos(x)));
        worst = fmax(worst, e);
        if (e > TOL) {
            fprintf(stderr, "  x=%.17g: sin %.17g vs %.17g, cos %.17g vs %.17g\n", x, s, sin(x), c, cos(x));
            bad++;
        }
    }
    for (double x = 1000; x < 1e5 && bad < 5; x = x * 1.0001 + 0.37) {
        double s, c;
        fm_sincos(x, &s, &c);
        if (!close_to(s, sin(x), 1e-13) || !close_to(c, cos(x), 1e-13)) {
            fprintf(stderr, "  x=%.17g: sin %.17g vs %.17g\n", x, s, sin(x));
            bad++;
        }
    }
    for (int k = -64; k <= 64; k++) {
        for (int d = -2; d <= 2; d++) {
            double x = nextafter(k * M_PI_2, d < 0 ? -INFINITY : INFINITY);
            if (d == 0)
                x = k * M_PI_2;
            if (!close_to(fm_sin(x), sin(x), TOL) || !close_to(fm_cos(x), cos(x), TOL))
                bad++;
        }
    }
    printf("# sin/cos: largest difference from libm on [-1000, 1000]: %.3g\n", worst);
    T_EQ_INT(bad, 0);
    T_CHECK(fm_sin(0.0) == 0.0 && fm_cos(0.0) == 1.0);
    /* No reduction past 1e9, of infinities or of NaN: NaN, not a float
     * turned into a long out of its range. */
    T_CHECK(isnan(fm_sin(INFINITY)) && isnan(fm_cos(-INFINITY)) && isnan(fm_sin(NAN)) && isnan(fm_cos(2e9)));
}

/* A grid of (x, y) over every quadrant and both axes, at scales from a
 * thousandth of a pixel to a screen, as nanosvg's joins ask. */
T_TEST(atan2_matches_libm)
{
    static const double v[] = { 0.0, 1e-3, 0.1, 0.4142135623730951, 0.5, 0.7, 1.0, 1.0000001,
                                2.4142135623730951, 3.0, 17.0, 1000.0, 1920.0, 1e6 };
    const int n = (int)(sizeof v / sizeof v[0]);
    int bad = 0, cases = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int sx = -1; sx <= 1; sx += 2)
                for (int sy = -1; sy <= 1; sy += 2) {
                    double x = sx * v[i], y = sy * v[j];
                    double got = fm_atan2(y, x), want = atan2(y, x);
                    cases++;
                    if (!close_to(got, want, TOL) || signbit(got) != signbit(want)) {
                        fprintf(stderr, "  atan2(%g, %g) = %.17g, libm %.17g\n", y, x, got, want);
                        bad++;
                    }
                }
    for (int i = 0; i < 100000; i++) {
        double a = i * (2 * M_PI / 100000) - M_PI, r = 0.5 + i % 37;
        double x = r * cos(a), y = r * sin(a);
        cases++;
        if (!close_to(fm_atan2(y, x), atan2(y, x), TOL))
            bad++;
    }
    T_EQ_INT(bad, 0);
    T_CHECK(cases > 100000);
    T_CHECK(isnan(fm_atan2(NAN, 1.0)) && isnan(fm_atan2(1.0, NAN)));
}

T_TEST(acos_matches_libm_and_refuses_outside)
{
    int bad = 0;
    for (int i = -100000; i <= 100000; i++) {
        double x = i / 100000.0;
        if (!close_to(fm_acos(x), acos(x), TOL)) {
            if (bad < 5)
                fprintf(stderr, "  acos(%.17g) = %.17g, libm %.17g\n", x, fm_acos(x), acos(x));
            bad++;
        }
    }
    T_EQ_INT(bad, 0);
    T_CHECK(fm_acos(1.0) == 0.0);
    T_CHECK(close_to(fm_acos(-1.0), M_PI, TOL));
    T_CHECK(isnan(fm_acos(1.0000001)) && isnan(fm_acos(-2.0)) && isnan(fm_acos(NAN)));
}

T_TEST(round_halves_away_from_zero)
{
    T_EQ_INT(fm_round(0.0), 0);
    T_EQ_INT(fm_round(0.49), 0);
    T_EQ_INT(fm_round(0.5), 1);
    T_EQ_INT(fm_round(-0.5), -1);
    T_EQ_INT(fm_round(2.5), 3);
    T_EQ_INT(fm_round(-8999.6), -9000);
    T_EQ_INT(fm_round(8999.4), 8999);
    for (int i = -20000; i <= 20000; i++) {
        double x = i / 7.0;
        if (fm_round(x) != lround(x))
            T_EQ_INT(fm_round(x), lround(x));
    }
}

int main(void)
{
    static const t_case cases[] = {
        T_CASE(sin_cos_match_libm),
        T_CASE(atan2_matches_libm),
        T_CASE(acos_matches_libm_and_refuses_outside),
        T_CASE(round_halves_away_from_zero),
    };
    return t_run(cases, sizeof cases / sizeof cases[0]);
}
