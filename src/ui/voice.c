/* voice.c - a screen's prompt as clip names, read off its view (voice.h). */
#include "ui/voice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/strings.h"

/* The table strings a citizen's screen may show besides headings and
 * bodies, by the name their clips take. A string not named here is never
 * spoken (button words, the technician's labels). */
static const char *const voice_str_names[S__LAST] = {
    [S_PIN_HINT_OLD] = "pin_hint_old", [S_PIN_HINT_NEW] = "pin_hint_new",
    [S_PIN_HINT_CONFIRM] = "pin_hint_confirm", [S_WRONG_PIN_COUNT] = "wrong_pin_count",
    [S_WRONG_PIN_LAST] = "wrong_pin_last", [S_WRONG_PIN_PLAIN] = "wrong_pin_plain",
    [S_LAST_TRY] = "last_try", [S_WRONG_LENGTH] = "wrong_length", [S_WARNING] = "warning",
    [S_COUNTER_ADVICE] = "counter_advice", [S_BLOCKED_CAN_RESET] = "blocked_can_reset",
    [S_CODE_SENT] = "code_sent", [S_CODE_VALID] = "code_valid", [S_CODE_WRONG_COUNT] = "code_wrong_count",
    [S_CODE_HINT] = "code_hint",
    /* The screens' later strings (issue 13's care, the rule's examples, IDLE's notes). */
    [S_LAST_TRY_TITLE] = "last_try_title", [S_LAST_TRY_COUNTER] = "last_try_counter",
    [S_OLD_PIN_OK] = "old_pin_ok", [S_RULE_EXAMPLES] = "rule_examples", [S_RULE_INITIAL] = "rule_initial",
    [S_IDLE_INITIAL] = "idle_initial", [S_IDLE_WHICH_PIN] = "idle_which_pin", [S_IDLE_TRIES] = "idle_tries",
    [S_TOO_SIMPLE_FMT] = "too_simple", [S_UNKNOWN_GONE] = "unknown_gone", [S_UNKNOWN_ADVICE] = "unknown_advice",
    [S_TAKE_CARD_REMINDER] = "take_card_reminder", [S_STATION_COUNTER] = "station_counter",
    [S_STATION_HOURS] = "station_hours", [S_STATION_HOTLINE] = "station_hotline",
    /* Not S_BTN_DONE, S_BTN_REPEAT nor any button: a button is not spoken. */
};

/* One literal piece of a table string: the text between its counts. */
typedef struct {
    char name[VOICE_NAME_MAX];
    const char *text; /* into the string table; not NUL-terminated at len */
    size_t len;
    int canon;        /* the first segment with the same text: its clip is said */
} voice_seg;

/* One table string as a pattern: its segments, in order, between counts. */
typedef struct {
    const char *pat;
    int first_seg;
} voice_entry;

#define VOICE_MAX_ENTRIES 640
#define VOICE_MAX_SEGS 1024

static struct {
    bool ready;
    voice_entry entry[LANG__LAST][VOICE_MAX_ENTRIES];
    int n_entry[LANG__LAST];
    voice_seg seg[LANG__LAST][VOICE_MAX_SEGS];
    int n_seg[LANG__LAST];
    char num[VOICE_NUM_MAX + 1][8];
} voice_inv;

const char *voice_lang_dir(core_lang lang)
{
    return lang == LANG_EN ? "en" : "zh";
}

/* A placeholder at p: 'd', 's', or 0. */
static char voice_placeholder(const char *p)
{
    return p[0] == '%' && (p[1] == 'd' || p[1] == 's') ? p[1] : 0;
}

static void voice_add(core_lang l, const char *name, const char *pat)
{
    voice_entry *e;
    int k = 0;

    if (pat == NULL || pat[0] == '\0' || voice_inv.n_entry[l] >= VOICE_MAX_ENTRIES)
        return;
    e = &voice_inv.entry[l][voice_inv.n_entry[l]++];
    e->pat = pat;
    e->first_seg = voice_inv.n_seg[l];
    bool plain = strchr(pat, '%') == NULL;
    for (const char *p = pat; *p;) {
        const char *q = p;
        while (*q && !voice_placeholder(q))
            q++;
        if (q > p && voice_inv.n_seg[l] < VOICE_MAX_SEGS) {
            voice_seg *s = &voice_inv.seg[l][voice_inv.n_seg[l]];
            s->text = p;
            s->len = (size_t)(q - p);
            s->canon = voice_inv.n_seg[l];
            if (plain)
                snprintf(s->name, sizeof s->name, "%s", name);
            else
                snprintf(s->name, sizeof s->name, "%s.%d", name, ++k);
            for (int i = 0; i < voice_inv.n_seg[l]; i++) {
                const voice_seg *o = &voice_inv.seg[l][i];
                if (o->len == s->len && memcmp(o->text, s->text, s->len) == 0) {
                    s->canon = o->canon;
                    break;
                }
            }
            voice_inv.n_seg[l]++;
        }
        p = voice_placeholder(q) ? q + 2 : q;
    }
}

/* Headings first, then bodies, notices and the named strings: a text that
 * several hold is said by the clip of the first. */
static void voice_init(void)
{
    char name[VOICE_NAME_MAX];
    core_state bare = ST_ENTER_OLD_PIN; /* a state with no body of its own */

    if (voice_inv.ready)
        return;
    for (int s = 0; s < ST__LAST; s++)
        if (str_body((core_state)s, NT_NONE, LANG_ZH)[0] == '\0')
            bare = (core_state)s;
    for (int l = 0; l < LANG__LAST; l++) {
        for (int s = 0; s < ST__LAST; s++) {
            snprintf(name, sizeof name, "heading.%s", core_state_name((core_state)s));
            voice_add((core_lang)l, name, str_heading((core_state)s, (core_lang)l));
        }
        /* The (state, notice) headings of str_heading_for's table: those
         * that differ from the state's own, as heading.STATE.notice. */
        for (int s = 0; s < ST__LAST; s++)
            for (int n = 1; n < NT__LAST; n++) {
                const char *h = str_heading_for((core_state)s, (core_notice)n, (core_lang)l);
                if (h == NULL || strcmp(h, str_heading((core_state)s, (core_lang)l)) == 0)
                    continue;
                snprintf(name, sizeof name, "heading.%s.%s", core_state_name((core_state)s),
                         core_notice_name((core_notice)n));
                voice_add((core_lang)l, name, h);
            }
        for (int s = 0; s < ST__LAST; s++) {
            snprintf(name, sizeof name, "body.%s", core_state_name((core_state)s));
            voice_add((core_lang)l, name, str_body((core_state)s, NT_NONE, (core_lang)l));
        }
        for (int n = 1; n < NT__LAST; n++) {
            snprintf(name, sizeof name, "notice.%s", core_notice_name((core_notice)n));
            voice_add((core_lang)l, name, str_body(bare, (core_notice)n, (core_lang)l));
        }
        for (int i = 0; i < S__LAST; i++) {
            if (voice_str_names[i] == NULL)
                continue;
            snprintf(name, sizeof name, "s.%s", voice_str_names[i]);
            voice_add((core_lang)l, name, str_get((str_id)i, (core_lang)l));
        }
    }
    for (int i = 0; i <= VOICE_NUM_MAX; i++)
        snprintf(voice_inv.num[i], sizeof voice_inv.num[i], "num.%d", i);
    voice_inv.ready = true;
}

static size_t voice_separator(const char *t);

static void voice_push(voice_clips *out, const char *name)
{
    if (out->n < VOICE_MAX_CLIPS)
        out->name[out->n++] = name;
}

/* How much of `t` the entry's pattern matches from its start (0: none),
 * with its clips appended to `out`. A count is digits; a %s is a masked
 * number (digits, letters, '*'), never said. */
static size_t voice_try(core_lang l, const voice_entry *e, const char *t, voice_clips *out)
{
    const char *p = e->pat, *q = t;
    int seg = e->first_seg;

    while (*p) {
        char ph = voice_placeholder(p);
        if (ph == 'd') {
            long v = 0;
            const char *d = q;
            while (*q >= '0' && *q <= '9' && q - d < 6)
                v = v * 10 + (*q++ - '0');
            if (q == d)
                return 0;
            if (v <= VOICE_NUM_MAX)
                voice_push(out, voice_inv.num[v]);
            p += 2;
        } else if (ph == 's') {
            /* A %s is a wildcard, never said: a masked number, an example
             * PIN (111111), the station's counter. Inside a pattern it
             * runs to the next literal piece; at its start, over digits,
             * letters and '*' only; at its end, over those too, or to the
             * end of the line if what follows them is not a separator
             * (a counter's name in Chinese). */
            const char *next = p + 2;
            if (p == e->pat || voice_placeholder(next) || *next == '\0') {
                while ((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || *q == '*')
                    q++;
                if (*next == '\0' && p != e->pat && *q && *q != '\n' && voice_separator(q) == 0)
                    q += strcspn(q, "\n");
            } else {
                const voice_seg *s = &voice_inv.seg[l][seg];
                const char *hit = NULL;
                for (const char *r = q; *r && *r != '\n'; r++)
                    if (strncmp(r, s->text, s->len) == 0) {
                        hit = r;
                        break;
                    }
                if (hit == NULL)
                    return 0;
                q = hit;
            }
            p += 2;
        } else {
            const voice_seg *s = &voice_inv.seg[l][seg++];
            if (strncmp(q, s->text, s->len) != 0)
                return 0;
            voice_push(out, voice_inv.seg[l][s->canon].name);
            q += s->len;
            p += s->len;
        }
    }
    return (size_t)(q - t);
}

/* What a view puts between two table strings it joins ("，", ". "). */
static size_t voice_separator(const char *t)
{
    static const char *const seps[] = { "• ", "\n", "，", "。", "；", ", ", ". ", " " };

    for (size_t i = 0; i < sizeof seps / sizeof seps[0]; i++)
        if (strncmp(t, seps[i], strlen(seps[i])) == 0)
            return strlen(seps[i]);
    return 0;
}

bool voice_match(const char *text, core_lang lang, voice_clips *out)
{
    const char *t = text;
    int n0 = out->n;

    voice_init();
    if (lang >= LANG__LAST)
        return false;
    if (strncmp(t, "• ", strlen("• ")) == 0) /* a list's bullet is not said */
        t += strlen("• ");
    while (*t) {
        voice_clips best = { 0 }, c;
        size_t best_len = 0, skip;
        for (int i = 0; i < voice_inv.n_entry[lang]; i++) {
            size_t len;
            c.n = 0;
            len = voice_try(lang, &voice_inv.entry[lang][i], t, &c);
            if (len > best_len) {
                best_len = len;
                best = c;
            }
        }
        if (best_len == 0) {
            skip = voice_separator(t);
            if (skip == 0) {
                out->n = n0; /* nothing of a text said unless all of it is */
                return false;
            }
            t += skip;
            continue;
        }
        for (int i = 0; i < best.n; i++)
            voice_push(out, best.name[i]);
        t += best_len;
    }
    return true;
}

/* The roles said, in order: a notice and the sentence under it when a
 * notice is up (it says what went wrong, the sentence what to do now),
 * else the heading, any box (the last try's, "old PIN correct") and that
 * sentence; the countdown dialog alone. */
/* A text no table holds (two strings joined in a way the matcher does not
 * know, a %s it cannot place) is skipped, not the whole prompt: the rest
 * of the screen is still said; `miss` hears of it (kiosk-voice-list warns). */
static bool voice_prompt_miss(const ui_view *v, const core *c, voice_clips *out,
                              void (*miss)(const char *text, void *ud), void *ud)
{
    static const ui_text_role with_notice[] = { TXT_NOTICE, TXT_BODY };
    static const ui_text_role plain[] = { TXT_HEADING, TXT_NOTICE, TXT_BODY };
    static const ui_text_role dialog[] = { TXT_WARNING };
    const ui_text_role *roles = plain;
    size_t n_roles = 3;

    out->n = 0;
    if (c->state == ST_SERVICE || c->state == ST_SERVICE_CODE)
        return false; /* a technician's screens */
    for (int i = 0; i < v->n_texts; i++) {
        if (v->texts[i].role == TXT_WARNING) {
            roles = dialog;
            n_roles = 1;
            break;
        }
        if (v->texts[i].role == TXT_NOTICE && c->notice != NT_NONE) {
            roles = with_notice;
            n_roles = 2;
        }
    }
    for (size_t r = 0; r < n_roles; r++)
        for (int i = 0; i < v->n_texts; i++)
            if (v->texts[i].role == roles[r] && !voice_match(v->texts[i].text, c->lang, out) && miss)
                miss(v->texts[i].text, ud);
    return out->n > 0;
}

bool voice_prompt(const ui_view *v, const core *c, voice_clips *out)
{
    return voice_prompt_miss(v, c, out, NULL, NULL);
}

/* ---- the whole set, for kiosk-voice-list ------------------------------------ */

/* The texts skipped (voice_prompt_miss), each once per language. */
typedef struct {
    void (*fn)(core_lang lang, const char *name, const char *text, void *ud);
    void *ud;
    core_lang lang;
    int n;
    char *seen[128];
} voice_miss_ctx;

static void voice_each_miss(const char *text, void *ud)
{
    voice_miss_ctx *m = ud;
    size_t len = strlen(text);

    for (int i = 0; i < m->n; i++)
        if ((core_lang)m->seen[i][0] == m->lang && strcmp(m->seen[i] + 1, text) == 0)
            return;
    if (m->n < (int)(sizeof m->seen / sizeof m->seen[0])) {
        m->seen[m->n] = malloc(len + 2);
        if (m->seen[m->n] == NULL)
            return;
        m->seen[m->n][0] = (char)m->lang;
        memcpy(m->seen[m->n] + 1, text, len + 1);
        m->n++;
    }
    m->fn(m->lang, NULL, text, m->ud);
}

int voice_each_clip(void (*fn)(core_lang lang, const char *name, const char *text, void *ud), void *ud)
{
    static ui_view v; /* large: not on the stack */
    static const uint8_t order[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0 };
    static const int tries[] = { -1, 1, 2, 3 };
    bool *used[LANG__LAST];
    char text[1024];
    voice_miss_ctx miss = { .fn = fn, .ud = ud };

    voice_init();
    for (int l = 0; l < LANG__LAST; l++)
        used[l] = calloc(VOICE_MAX_SEGS, sizeof(bool));
    for (int l = 0; l < LANG__LAST && used[0] && used[1]; l++) {
        for (int s = 0; s < ST__LAST; s++) {
            for (int n = 0; n < NT__LAST; n++) {
                for (size_t t = 0; t < 2 * sizeof tries / sizeof tries[0]; t++) {
                    core c;
                    voice_clips clips;
                    ui_view_input in = { .w = 1920, .h = 1080, .keypad_order = order, .card_masked = "" };
                    memset(&c, 0, sizeof c);
                    c.cfg.pin_length = 6;
                    c.cfg.service_enabled = false;
                    c.state = (core_state)s;
                    c.notice = (core_notice)n;
                    c.lang = (core_lang)l;
                    c.card_present = s != ST_IDLE;
                    c.tries_left = tries[t % 4];
                    c.attempts_left = tries[t % 4];
                    /* Half the screens with a card left behind and an initial PIN. */
                    c.card_left = t >= 4;
                    if (t >= 4) {
                        c.cfg.n_initial = 1;
                        snprintf(c.cfg.initial[0], sizeof c.cfg.initial[0], "123456");
                    }
                    /* The last try with no reset on offer says go to a counter. */
                    c.storage_down = t >= 4 && s == ST_ENTER_OLD_PIN;
                    c.reset_expires_s = 300;
                    snprintf(c.phone, sizeof c.phone, "138****5678");
                    if (c.notice == NT_TIMEOUT_WARNING) {
                        c.now_ms = 1000;
                        c.warning_end_ms = 16000;
                    }
                    ui_view_build(&v, &c, &in);
                    miss.lang = (core_lang)l;
                    voice_prompt_miss(&v, &c, &clips, voice_each_miss, &miss);
                    for (int i = 0; i < clips.n; i++)
                        for (int k = 0; k < voice_inv.n_seg[l]; k++)
                            if (voice_inv.seg[l][k].name == clips.name[i])
                                used[l][k] = true;
                }
            }
        }
        for (int k = 0; k < voice_inv.n_seg[l]; k++) {
            const voice_seg *sg = &voice_inv.seg[l][k];
            if (!used[l][k] || sg->canon != k)
                continue;
            snprintf(text, sizeof text, "%.*s", (int)sg->len, sg->text);
            fn((core_lang)l, sg->name, text, ud);
        }
        for (int i = 0; i <= VOICE_NUM_MAX; i++) {
            snprintf(text, sizeof text, "%d", i);
            fn((core_lang)l, voice_inv.num[i], text, ud);
        }
    }
    for (int l = 0; l < LANG__LAST; l++)
        free(used[l]);
    for (int i = 0; i < miss.n; i++)
        free(miss.seen[i]);
    return miss.n;
}
