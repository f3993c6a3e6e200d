/* linebreak.h - where a line of mixed Chinese and Latin text may break.
 *
 * Pure: code points in, break opportunities out; no font, no SDL, so each
 * rule is tested on its own (tests/unit/test_view.c). text.c's wrapping
 * measures and picks among the opportunities given here.
 *
 * The rules, in order:
 *  - a space is a break (before and after it), as in Latin text;
 *  - between Chinese characters (and a Chinese character and a Latin one)
 *    a line may break, except
 *      - before closing punctuation (，。、；：？！”’）》」 ...): no line
 *        starts with one;
 *      - after opening punctuation (“‘（《「 ...): no line ends with one;
 *      - inside a word of the small table of words never split (锁定, 数字,
 *        身份证, 社保卡 ...);
 *  - a string may mark its own break points with U+200B (zero-width
 *    space): when it holds one, Chinese text breaks only after a marker
 *    (and at spaces); the marker takes no room and is never drawn.
 */
#ifndef UI_LINEBREAK_H
#define UI_LINEBREAK_H

#include <stdbool.h>
#include <stdint.h>

#define LB_MARKER 0x200Bu /* zero-width space: "a line may break here" */

/* brk[k] (0 <= k <= n) is set true when a line may end before cps[k]
 * (brk[n] is always true, brk[0] false). */
void lb_breaks(const uint32_t *cps, int n, bool *brk);

/* True for the code points wrapping treats as Chinese (CJK ideographs,
 * CJK punctuation, full-width forms). */
bool lb_is_cjk(uint32_t cp);

#endif
