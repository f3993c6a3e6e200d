/* test_sw.c - every row of the status-word table, the 63Cx family, and the
 * fallback for words the table does not know. */
#include "card/sw.h"

#include "t.h"

static const struct {
    uint16_t sw;
    sw_kind kind;
} rows[] = {
    { 0x9000, SW_K_OK },
    { 0x6100, SW_K_MORE_DATA },
    { 0x6110, SW_K_MORE_DATA },
    { 0x61FF, SW_K_MORE_DATA },
    { 0x6C00, SW_K_WRONG_LE },
    { 0x6C09, SW_K_WRONG_LE },
    { 0x6CFF, SW_K_WRONG_LE },
    { 0x6300, SW_K_WRONG_PIN_NO_COUNT },
    { 0x6983, SW_K_BLOCKED },
    { 0x6984, SW_K_BLOCKED },
    { 0x6985, SW_K_CONDITIONS },
    { 0x6988, SW_K_SM_WRONG },
    { 0x6A82, SW_K_NOT_FOUND },
    { 0x6A88, SW_K_NOT_FOUND },
    { 0x9303, SW_K_LOCKED },
    /* Rows kept for their log text only. */
    { 0x6281, SW_K_OTHER },
    { 0x6581, SW_K_OTHER },
    { 0x6700, SW_K_OTHER },
    { 0x6982, SW_K_OTHER },
    { 0x6986, SW_K_OTHER },
    { 0x6A80, SW_K_OTHER },
    { 0x6A81, SW_K_OTHER },
    { 0x6A83, SW_K_OTHER },
    { 0x6A86, SW_K_OTHER },
    { 0x6B00, SW_K_OTHER },
    { 0x6D00, SW_K_OTHER },
    { 0x6E00, SW_K_OTHER },
    { 0x6F00, SW_K_OTHER },
};

T_TEST(table_rows)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sw_info si = sw_lookup(rows[i].sw);
        if (si.kind != rows[i].kind)
            fprintf(stderr, "  sw %04X: want %s got %s\n", rows[i].sw,
                    sw_kind_name(rows[i].kind), sw_kind_name(si.kind));
        T_EQ_INT(si.kind, rows[i].kind);
        T_EQ_INT(si.tries, -1);
        T_CHECK(si.text != NULL && si.text[0] != '\0');
        T_CHECK(strcmp(si.text, "Unknown status word") != 0);
    }
}

T_TEST(specific_texts)
{
    T_EQ_STR(sw_lookup(0x9000).text, "Success");
    T_EQ_STR(sw_lookup(0x6983).text, "Authentication method blocked");
    T_EQ_STR(sw_lookup(0x9303).text, "Application permanently locked");
}

T_TEST(wrong_pin_family)
{
    for (int x = 0; x <= 15; x++) {
        sw_info si = sw_lookup((uint16_t)(0x63C0 | x));
        T_EQ_INT(si.kind, SW_K_WRONG_PIN);
        T_EQ_INT(si.tries, x);
        T_CHECK(si.text != NULL);
    }
}

T_TEST(wrong_pin_no_count)
{
    sw_info si = sw_lookup(0x6300);
    T_EQ_INT(si.kind, SW_K_WRONG_PIN_NO_COUNT);
    T_EQ_INT(si.tries, -1);
}

T_TEST(unknown_words)
{
    static const uint16_t unknown[] = { 0x0000, 0x1234, 0x6301, 0x63B5, 0x63D0, 0x6400,
                                        0x6999, 0x6A84, 0x9001, 0x9302, 0xFFFF };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        sw_info si = sw_lookup(unknown[i]);
        T_EQ_INT(si.kind, SW_K_OTHER);
        T_EQ_INT(si.tries, -1);
        T_EQ_STR(si.text, "Unknown status word");
    }
}

T_TEST(kind_names)
{
    T_EQ_STR(sw_kind_name(SW_K_OK), "ok");
    T_EQ_STR(sw_kind_name(SW_K_LOCKED), "locked");
    T_EQ_STR(sw_kind_name(SW_K__LAST), "?");
    T_EQ_STR(sw_kind_name((sw_kind)-1), "?");
}

T_MAIN(T_CASE(table_rows), T_CASE(specific_texts), T_CASE(wrong_pin_family),
       T_CASE(wrong_pin_no_count), T_CASE(unknown_words), T_CASE(kind_names))
