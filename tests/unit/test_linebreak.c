/* Where Chinese and Latin lines may break (ui/linebreak.c), rule by rule,
 * with no font: a "|" in the expectation is a break opportunity. */
#include "t.h"
#include "ui/linebreak.h"

#include <string.h>

/* The text with "|" at every place a line may end (not at its end). */
static void breaks_of(const char *text, char *out, size_t outlen)
{
    uint32_t cps[256];
    int off[257], n = 0;
    bool brk[257];
    size_t o = 0;

    for (int pos = 0; text[pos] && n < 256; n++) {
        const unsigned char *u = (const unsigned char *)text + pos;
        int len = u[0] < 0x80 ? 1 : (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3 : 4;
        uint32_t cp = len == 1 ? u[0] : len == 2 ? (u[0] & 0x1Fu) : len == 3 ? (u[0] & 0x0Fu) : (u[0] & 0x07u);
        for (int i = 1; i < len; i++)
            cp = (cp << 6) | (u[i] & 0x3Fu);
        cps[n] = cp;
        off[n] = pos;
        pos += len;
    }
    off[n] = (int)strlen(text);
    lb_breaks(cps, n, brk);
    T_CHECK(!brk[0] && brk[n]);
    for (int k = 0; k < n; k++) {
        if (k > 0 && brk[k] && o + 1 < outlen)
            out[o++] = '|';
        for (int b = off[k]; b < off[k + 1] && o + 1 < outlen; b++)
            out[o++] = text[b];
    }
    out[o] = '\0';
}

#define T_BREAKS(text, want) do { char got_[1024]; breaks_of(text, got_, sizeof got_); \
    T_EQ_STR(got_, want); } while (0)

T_TEST(spaces_break_latin_text)
{
    T_BREAKS("one two", "one| |two");
    T_BREAKS("Supercalifragilistic", "Supercalifragilistic");
    T_BREAKS("12333", "12333");
}

T_TEST(between_chinese_characters)
{
    T_BREAKS("请稍候", "请|稍候");
    T_BREAKS("拨打12333", "拨|打|12333");
}

T_TEST(no_line_starts_with_closing_punctuation)
{
    T_BREAKS("错，请", "错，|请");
    T_BREAKS("好。好、好；好：好？好！好", "好。|好、|好；|好：|好？|好！|好");
    T_BREAKS("按“确认”然后", "按|“确认”|然|后");
    T_BREAKS("（本机）》", "（本|机）》");
    T_BREAKS("次。", "次。");
}

T_TEST(no_line_ends_with_opening_punctuation)
{
    T_BREAKS("按“确认”", "按|“确认”");
    T_BREAKS("号（仅）", "号|（仅）");
    T_BREAKS("看《通知》", "看|《通|知》");
}

T_TEST(words_of_the_table_are_never_split)
{
    T_BREAKS("卡片将被锁定", "卡片|将|被锁定");
    T_BREAKS("同一个数字", "同|一|个|数字");
    T_BREAKS("在本机解锁", "在|本|机|解锁");
    T_BREAKS("携带身份证到", "携带|身份证|到");
    T_BREAKS("社保卡密码", "社保卡|密码");
    T_BREAKS("社保服务窗口", "社保服务|窗口");
    T_BREAKS("短信验证码", "短信|验证码");
}

T_TEST(marked_strings_break_only_at_their_markers)
{
    /* U+200B is "\xE2\x80\x8B": breaks after it, nowhere else in Chinese. */
    T_BREAKS("请携带\xE2\x80\x8B身份证", "请携带\xE2\x80\x8B|身份证");
    T_BREAKS("请稍候\xE2\x80\x8B不要拔卡，谢谢", "请稍候\xE2\x80\x8B|不要拔卡，谢谢");
    /* Spaces still break in a marked string (its Latin words). */
    T_BREAKS("PIN 码\xE2\x80\x8B已改", "PIN| |码\xE2\x80\x8B|已改");
    /* A marker before closing punctuation does not let it start a line. */
    T_BREAKS("改\xE2\x80\x8B，好", "改\xE2\x80\x8B，好");
}

T_MAIN(T_CASE(spaces_break_latin_text), T_CASE(between_chinese_characters),
       T_CASE(no_line_starts_with_closing_punctuation), T_CASE(no_line_ends_with_opening_punctuation),
       T_CASE(words_of_the_table_are_never_split), T_CASE(marked_strings_break_only_at_their_markers))
