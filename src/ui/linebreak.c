/* linebreak.c - break opportunities for mixed Chinese and Latin text
 * (linebreak.h): the punctuation rules of Chinese typesetting (GB/T 15834,
 * the "避头尾" rules), a few words kept whole, and break points a string
 * marks itself. Tables, not if-chains: a new rule is a new row. */
#include "ui/linebreak.h"

#include <stddef.h>
#include <string.h>

/* No line starts with these: they close what came before. */
static const uint32_t lb_closing[] = {
    0xFF0C /* ， */, 0x3002 /* 。 */, 0x3001 /* 、 */, 0xFF1B /* ； */, 0xFF1A /* ： */,
    0xFF1F /* ？ */, 0xFF01 /* ！ */, 0x201D /* ” */, 0x2019 /* ’ */, 0xFF09 /* ） */,
    0x300B /* 》 */, 0x300D /* 」 */, 0x300F /* 』 */, 0x3011 /* 】 */, 0x3009 /* 〉 */,
    0xFF3D /* ］ */, 0xFF5D /* ｝ */, 0x2026 /* … */, 0x00B7 /* · */, 0x30FC /* ー */,
    0xFF0E /* ． */, 0x3005 /* 々 */, ',', '.', ':', ';', '!', '?', ')', ']', '}', '%',
};

/* No line ends with these: they open what comes after. */
static const uint32_t lb_opening[] = {
    0x201C /* “ */, 0x2018 /* ‘ */, 0xFF08 /* （ */, 0x300A /* 《 */, 0x300C /* 「 */,
    0x300E /* 『 */, 0x3010 /* 【 */, 0x3008 /* 〈 */, 0xFF3B /* ［ */, 0xFF5B /* ｛ */,
    '(', '[', '{',
};

/* Words of the kiosk's texts that read wrongly split across two lines
 * (被/锁定, 数/字, 解/锁, 身份/证). Longest first where one holds another,
 * so that 社保服务窗口 is not only kept as 社保 + 服务 + 窗口. */
static const char *const lb_words[] = {
    "被锁定", "身份证", "社保卡", "验证码", "社保服务", "服务窗口", "初始密码", "手机号",
    "锁定", "解锁", "数字", "密码", "窗口", "社保", "卡片", "手机", "短信", "修改",
    "输入", "确认", "办理", "重置", "重新", "连续", "取回", "拔出", "插入", "分钟",
    "系统", "有效", "记录", "次数", "机会", "新密码", "原密码", "技术人员", "持卡人",
    "读卡", "核对", "设置", "携带", "咨询", "查询", "稍候", "稍后", "暂停", "服务",
    "登记", "挂失", "冻结", "注销", "过期", "永久", "换卡", "错误", "失败", "成功",
    "请勿", "不要", "可以", "已经", "今天", "明天", "上限", "作废", "发送", "部门",
    "经办", "机构", "药店", "柜台", "营业", "时间", "电话", "地址", "附近",
};

#define LB_WORD_MAX 8 /* code points in the longest word */

static bool lb_in(const uint32_t *set, size_t n, uint32_t cp)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == cp)
            return true;
    return false;
}

bool lb_is_cjk(uint32_t cp)
{
    return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFF00 && cp <= 0xFFEF) || cp >= 0x20000 ||
           cp == 0x201C || cp == 0x201D || cp == 0x2018 || cp == 0x2019 || cp == 0x2026;
}

/* Decodes one UTF-8 character of a table word (the tables are ours: well
 * formed); returns its length. */
static int lb_utf8(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    int n = u[0] < 0x80 ? 1 : (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3 : 4;

    *cp = n == 1 ? u[0] : n == 2 ? (u[0] & 0x1Fu) : n == 3 ? (u[0] & 0x0Fu) : (u[0] & 0x07u);
    for (int i = 1; i < n; i++)
        *cp = (*cp << 6) | (u[i] & 0x3Fu);
    return n;
}

/* The length in code points of the table word at cps[k..], 0 if none. */
static int lb_word_at(const uint32_t *cps, int n, int k)
{
    for (size_t w = 0; w < sizeof lb_words / sizeof lb_words[0]; w++) {
        const char *p = lb_words[w];
        int len = 0;
        bool same = true;
        while (*p && same && len < LB_WORD_MAX) {
            uint32_t cp;
            p += lb_utf8(p, &cp);
            same = k + len < n && cp == cps[k + len];
            len += same;
        }
        if (same && *p == '\0' && len > 1)
            return len;
    }
    return 0;
}

void lb_breaks(const uint32_t *cps, int n, bool *brk)
{
    bool marked = false;

    for (int k = 0; k < n && !marked; k++)
        marked = cps[k] == LB_MARKER;
    for (int k = 0; k <= n; k++) {
        uint32_t prev = k > 0 ? cps[k - 1] : 0, cur = k < n ? cps[k] : 0;
        bool cjk = lb_is_cjk(prev) || lb_is_cjk(cur) || prev == LB_MARKER;
        if (k == 0 || k == n) {
            brk[k] = k == n;
        } else if (cur == ' ' || prev == ' ') {
            brk[k] = !lb_in(lb_closing, sizeof lb_closing / sizeof lb_closing[0], cur) || prev == ' ';
        } else if (!cjk || lb_in(lb_closing, sizeof lb_closing / sizeof lb_closing[0], cur) ||
                   lb_in(lb_opening, sizeof lb_opening / sizeof lb_opening[0], prev)) {
            brk[k] = false;
        } else {
            brk[k] = marked ? prev == LB_MARKER : true;
        }
    }
    /* Words kept whole: no break strictly inside one. Greedy from the
     * left, so that overlapping words (社保卡片) keep the first. */
    for (int k = 0; k < n;) {
        int len = marked ? 0 : lb_word_at(cps, n, k);
        for (int i = 1; i < len; i++)
            brk[k + i] = false;
        k += len > 0 ? len : 1;
    }
}
