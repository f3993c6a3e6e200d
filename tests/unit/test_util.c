#include "t.h"
#include "util/evname.h"
#include "util/mask.h"
#include "util/secure.h"
#include "util/text.h"
#include "util/wipealloc.h"

#include <malloc.h>

T_TEST(mask_keeps_three_each_side)
{
    char m[MASK_CARD_MAX];
    mask_card("A12345678", m);
    T_EQ_STR(m, "A12***678");
    mask_card("123456", m);
    T_EQ_STR(m, "***");
    mask_card(NULL, m);
    T_EQ_STR(m, "***");
    mask_card("ABCDEFG", m);
    T_EQ_STR(m, "AB***FG");
    mask_card("ABCDEFGHIJKLMNOPQRSTUVWXYZ", m);
    T_EQ_STR(m, "ABC***XYZ");
}

T_TEST(uuid4_has_version_and_variant)
{
    char a[SECURE_UUID_LEN], b[SECURE_UUID_LEN];
    T_CHECK(secure_uuid4(a));
    T_CHECK(secure_uuid4(b));
    T_EQ_INT(strlen(a), 36);
    T_EQ_INT(a[14], '4');
    T_CHECK(strchr("89ab", a[19]) != NULL);
    T_CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    T_CHECK(strcmp(a, b) != 0);
}

T_TEST(random_below_stays_in_range_and_covers_it)
{
    int seen[10] = {0};
    for (int i = 0; i < 2000; i++) {
        uint32_t v = 99;
        T_CHECK(secure_random_below(10, &v));
        T_CHECK(v < 10);
        if (v < 10)
            seen[v]++;
    }
    for (int i = 0; i < 10; i++)
        T_CHECK(seen[i] > 100); /* 200 expected; 100 is ~7 sigma away */
}

T_TEST(wipe_zeroes)
{
    char buf[8] = "123456";
    secure_wipe(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        T_EQ_INT(buf[i], 0);
}

T_TEST(json_nul_escapes_are_found_only_in_strings)
{
    const char *a = "{\"pin\":\"12\\u00003\"}";
    const char *b = "{\"pin\":\"12\\\\u00003\"}"; /* an escaped backslash, then text */
    const char *c = "{\"a\":\"\\u0001\"}";
    T_CHECK(text_json_has_nul_escape(a, strlen(a)));
    T_CHECK(!text_json_has_nul_escape(b, strlen(b)));
    T_CHECK(!text_json_has_nul_escape(c, strlen(c)));
    T_CHECK(!text_json_has_nul_escape("", 0));
}

T_TEST(whitespace_and_errf)
{
    const char *ws = " \t\r\n", *x = " x ";
    char err[8] = "zzzzzzz";
    T_CHECK(text_only_whitespace(ws, ws + strlen(ws)));
    T_CHECK(!text_only_whitespace(x, x + strlen(x)));
    text_errf(err, sizeof err, "%s:%d", "file", 12345);
    T_EQ_STR(err, "file:12"); /* cut to the buffer, NUL-terminated */
    text_errf(NULL, 0, "%d", 1); /* no buffer: nothing, no crash */
}

T_TEST(event_names_and_dead_letter_copies)
{
    static const struct { const char *name; bool event, dead; uint64_t seq; unsigned copy; } rows[] = {
        { "evt-000000001834.json", true, true, 1834, 0 },
        { "evt-999999999999.json", true, true, 999999999999ull, 0 },
        { "evt-000000000002.1.json", false, true, 2, 1 },
        { "evt-000000000002.999.json", false, true, 2, 999 },
        { "evt-000000000002.1000.json", false, false, 0, 0 },
        { "evt-000000000002.0.json", false, false, 0, 0 },
        { "evt-000000000002.01.json", false, false, 0, 0 },
        { "evt-000000000002..json", false, false, 0, 0 },
        { "evt-000000000002.1.json.tmp", false, false, 0, 0 },
        { "evt-00000000002.json", false, false, 0, 0 },
        { "evt-0000000000002.json", false, false, 0, 0 },
        { "evt-00000000000a.json", false, false, 0, 0 },
        { "intent-000000000002.json", false, false, 0, 0 },
        { ".tmp-evt-000000000002.json", false, false, 0, 0 },
        { "evt-000000000002.json.1", false, false, 0, 0 },
        { "", false, false, 0, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t seq = 7;
        unsigned copy = 7;
        T_EQ_INT(evname_parse(rows[i].name, &seq), rows[i].event);
        T_EQ_INT(evname_parse_dead(rows[i].name, &seq, &copy), rows[i].dead);
        if (rows[i].dead) {
            char back[EVNAME_DEAD_LEN];
            T_EQ_INT(seq, rows[i].seq);
            T_EQ_INT(copy, rows[i].copy);
            evname_dead(back, seq, copy); /* the one spelling of that name */
            T_EQ_STR(back, rows[i].name);
        }
    }
    T_CHECK(evname_parse("evt-000000000003.json", NULL));
    T_CHECK(evname_parse_dead("evt-000000000003.5.json", NULL, NULL));
}

/* wipe_realloc keeps the contents and never hands back the old block; a
 * hooked free of a block a library wrote leaves nothing to read (the
 * block's bytes are checked through a second block that reuses it: glibc's
 * tcache gives the same chunk back for the same size at once). */
T_TEST(wiping_allocators)
{
    char *p = malloc(48), *q, *r;

    T_CHECK(p != NULL);
    memcpy(p, "246810 the texted code, and more of the body ...", 48);
    q = wipe_realloc(p, 4096);
    T_CHECK(q != NULL && q != p);
    T_CHECK(q != NULL && memcmp(q, "246810 the texted code", 22) == 0);
    r = malloc(48); /* very likely the old block again */
    if (r == p) {
        /* glibc keeps its free-list link in the first 16 bytes of a freed chunk. */
        int nonzero = 0;
        for (size_t i = 16; i < 48; i++)
            nonzero += r[i] != 0;
        T_EQ_INT(nonzero, 0);
    }
    free(r);
    T_CHECK(wipe_realloc(q, 0) == NULL);
    q = wipe_realloc(NULL, 8);
    T_CHECK(q != NULL);
    wipe_free(q);
    wipe_free(NULL);
}

T_MAIN(T_CASE(wiping_allocators), T_CASE(json_nul_escapes_are_found_only_in_strings), T_CASE(whitespace_and_errf), T_CASE(mask_keeps_three_each_side), T_CASE(uuid4_has_version_and_variant),
       T_CASE(random_below_stays_in_range_and_covers_it), T_CASE(wipe_zeroes),
       T_CASE(event_names_and_dead_letter_copies))
