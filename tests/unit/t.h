/* t.h - the smallest test harness that says what it expected and what it got.
 *
 * Each test file defines tests with T_TEST(name) { ... } and lists them in
 * T_MAIN(...). A failed check prints file:line, the expression, and both
 * values; the run ends with the plain "N passed, N failed" line that CI reads.
 */
#ifndef T_H
#define T_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static int t_failed_checks;

#define T_CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "  %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
    t_failed_checks++; } } while (0)

#define T_EQ_INT(got, want) do { long long g_ = (long long)(got), w_ = (long long)(want); \
    if (g_ != w_) { fprintf(stderr, "  %s:%d: %s: expected %lld, got %lld\n", \
        __FILE__, __LINE__, #got, w_, g_); t_failed_checks++; } } while (0)

#define T_EQ_STR(got, want) do { const char *g_ = (got), *w_ = (want); \
    if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) { \
        fprintf(stderr, "  %s:%d: %s: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, \
            #got, w_ ? w_ : "(null)", g_ ? g_ : "(null)"); t_failed_checks++; } } while (0)

#define T_EQ_MEM(got, want, n) do { if (memcmp((got), (want), (n)) != 0) { \
    fprintf(stderr, "  %s:%d: %s differs from %s in its first %zu bytes\n", \
        __FILE__, __LINE__, #got, #want, (size_t)(n)); t_failed_checks++; } } while (0)

typedef struct { const char *name; void (*fn)(void); } t_case;

#define T_TEST(name) static void name(void)
#define T_CASE(name) { #name, name }

static inline int t_run(const t_case *cases, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        int before = t_failed_checks;
        cases[i].fn();
        if (t_failed_checks == before) {
            passed++;
            printf("ok %zu - %s\n", i + 1, cases[i].name);
        } else {
            failed++;
            printf("not ok %zu - %s\n", i + 1, cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* $KIOSK_SOURCE_ROOT (the test runner sets it) into root, for the tests
 * that read the tree's files; 0, after saying why, if it is unset or does
 * not fit. */
static inline int t_source_root(char *root, size_t n)
{
    const char *r = getenv("KIOSK_SOURCE_ROOT");

    if (r == NULL || r[0] == '\0' || strlen(r) >= n) {
        fprintf(stderr, "KIOSK_SOURCE_ROOT is not set\n");
        return 0;
    }
    snprintf(root, n, "%s", r);
    return 1;
}

#define T_MAIN(...) int main(void) { \
    static const t_case cases_[] = { __VA_ARGS__ }; \
    return t_run(cases_, sizeof cases_ / sizeof cases_[0]); }

#endif
