#include "t.h"
#include "outbox/outbox.h"

#include <cJSON.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 ((time_t)1795768212) /* 2026-11-27T08:30:12Z */
#define T0_TEXT "2026-11-27T08:30:12Z"
#define T5_TEXT "2026-11-27T08:30:17Z"
#define CARD "A12345678"
#define TERM "GZ-YX-0042"

static char base[64];

static void make_base(void)
{
    snprintf(base, sizeof base, "/tmp/test_outbox.XXXXXX");
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static void remove_base(void)
{
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(const char *name)
{
    static char p[4][256];
    static int next;
    char *out = p[next++ % 4];

    snprintf(out, sizeof p[0], "%s/%s", base, name);
    return out;
}

/* The whole file, malloc'd; NULL if it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = calloc(1, (size_t)n + 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
}

/* Names in `dir`, sorted, joined by spaces ("seq evt-...json"). */
static const char *listing(const char *dir)
{
    static char out[1024];
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);

    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
            if (out[0] != '\0')
                strncat(out, " ", sizeof out - strlen(out) - 1);
            strncat(out, names[i]->d_name, sizeof out - strlen(out) - 1);
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
    return out;
}

static bool is_uuid4(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
            return false;
        }
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static bool is_utc_stamp(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

    if (strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    return true;
}

/* Checks that `name` in the outbox is exactly an event body with these
 * values (and "reset_id" when `reset` is not NULL); copies its event_id to
 * `id` (may be NULL). */
static void check_event_reset(const char *name, uint64_t seq, const char *kind, const char *when,
                              char *id, const char *reset)
{
    char *text = slurp(path_in(name));
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    const cJSON *f;
    int nkeys = 0;

    T_CHECK(text != NULL);
    T_CHECK(j != NULL && cJSON_IsObject(j));
    if (j == NULL) {
        free(text);
        return;
    }
    cJSON_ArrayForEach(f, j)
        nkeys++;
    T_EQ_INT(nkeys, reset ? 7 : 6);
    f = cJSON_GetObjectItemCaseSensitive(j, "reset_id");
    T_EQ_STR(cJSON_GetStringValue(f), reset);
    f = cJSON_GetObjectItemCaseSensitive(j, "event_id");
    T_CHECK(cJSON_IsString(f) && is_uuid4(f->valuestring));
    if (id != NULL && cJSON_IsString(f))
        snprintf(id, 37, "%s", f->valuestring);
    f = cJSON_GetObjectItemCaseSensitive(j, "terminal_id");
    T_CHECK(cJSON_IsString(f));
    T_EQ_STR(cJSON_GetStringValue(f), TERM);
    f = cJSON_GetObjectItemCaseSensitive(j, "seq");
    T_CHECK(cJSON_IsNumber(f));
    T_CHECK(f != NULL && f->valuedouble == (double)seq);
    f = cJSON_GetObjectItemCaseSensitive(j, "card_number");
    T_EQ_STR(cJSON_GetStringValue(f), CARD);
    f = cJSON_GetObjectItemCaseSensitive(j, "kind");
    T_EQ_STR(cJSON_GetStringValue(f), kind);
    f = cJSON_GetObjectItemCaseSensitive(j, "occurred_at");
    T_CHECK(cJSON_IsString(f) && is_utc_stamp(f->valuestring));
    T_EQ_STR(cJSON_GetStringValue(f), when);
    /* The seq is written as an integer, not 1.0 or 1e0. */
    {
        char want[32];
        snprintf(want, sizeof want, "\"seq\":%llu,", (unsigned long long)seq);
        T_CHECK(strstr(text, want) != NULL);
    }
    cJSON_Delete(j);
    free(text);
}

static void check_event(const char *name, uint64_t seq, const char *kind, const char *when, char *id)
{
    check_event_reset(name, seq, kind, when, id, NULL);
}

static outbox *open_base(void)
{
    char err[256] = "";
    outbox *o = outbox_open(base, TERM, err, sizeof err);

    T_CHECK(o != NULL);
    T_EQ_STR(err, "");
    return o;
}

T_TEST(record_writes_exactly_the_event_body)
{
    char id[37] = "", want[512], *text;
    struct stat st;
    outbox *o;

    umask(027); /* kiosk.service's UMask=, which keeps the group's read bit */
    make_base();
    o = open_base();
    T_EQ_INT(outbox_last_seq(o), 0);
    T_EQ_INT(outbox_depth(o), 0);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    T_EQ_STR(listing(base), "evt-000000000001.json seq");
    check_event("evt-000000000001.json", 1, "pin_changed", T0_TEXT, id);
    snprintf(want, sizeof want,
             "{\"event_id\":\"%s\",\"terminal_id\":\"" TERM "\",\"seq\":1,\"card_number\":\"" CARD
             "\",\"kind\":\"pin_changed\",\"occurred_at\":\"" T0_TEXT "\"}", id);
    text = slurp(path_in("evt-000000000001.json"));
    T_EQ_STR(text, want);
    free(text);
    /* 0640: kiosk-sync, another user in the outbox's group, must read it. */
    T_CHECK(stat(path_in("evt-000000000001.json"), &st) == 0);
    T_EQ_INT(st.st_mode & 0777, 0640);
    T_CHECK(stat(path_in("seq"), &st) == 0);
    T_EQ_INT(st.st_mode & 0777, 0640);

    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_BLOCKED, T0 + 5));
    check_event("evt-000000000002.json", 2, "pin_blocked", T5_TEXT, NULL);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGE_UNKNOWN, T0));
    check_event("evt-000000000003.json", 3, "pin_change_unknown", T0_TEXT, NULL);
    T_EQ_INT(outbox_last_seq(o), 3);
    T_EQ_INT(outbox_depth(o), 3);
    outbox_close(o);
    remove_base();
}

T_TEST(event_ids_differ)
{
    char a[37] = "", b[37] = "";
    outbox *o;

    make_base();
    o = open_base();
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    check_event("evt-000000000001.json", 1, "pin_changed", T0_TEXT, a);
    check_event("evt-000000000002.json", 2, "pin_changed", T0_TEXT, b);
    T_CHECK(strcmp(a, b) != 0);
    outbox_close(o);
    remove_base();
}

T_TEST(seq_survives_reopen_and_delivery)
{
    char err[256] = "", *text;
    outbox *o;

    make_base();
    o = open_base();
    for (int i = 0; i < 3; i++)
        T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    outbox_close(o);
    text = slurp(path_in("seq"));
    T_EQ_STR(text, "3\n");
    free(text);

    o = open_base();
    T_EQ_INT(outbox_last_seq(o), 3);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    check_event("evt-000000000004.json", 4, "pin_changed", T0_TEXT, NULL);
    outbox_close(o);

    /* kiosk-sync delivered (and deleted) everything: numbers still go on. */
    for (int i = 1; i <= 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "evt-%012d.json", i);
        T_EQ_INT(unlink(path_in(name)), 0);
    }
    o = open_base();
    T_EQ_INT(outbox_depth(o), 0);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_BLOCKED, T0));
    T_EQ_STR(listing(base), "evt-000000000005.json seq");
    outbox_close(o);

    /* A counter behind the files (restored from an old backup, say) does
     * not hand out a number that is already in use. */
    spit(path_in("seq"), "1\n");
    o = open_base();
    T_EQ_INT(outbox_last_seq(o), 5);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_BLOCKED, T0));
    check_event("evt-000000000006.json", 6, "pin_blocked", T0_TEXT, NULL);
    outbox_close(o);

    /* A damaged counter stops the outbox rather than guessing. */
    spit(path_in("seq"), "12x\n");
    T_CHECK(outbox_open(base, TERM, err, sizeof err) == NULL);
    T_CHECK(strstr(err, "/seq is damaged") != NULL);
    spit(path_in("seq"), "");
    T_CHECK(outbox_open(base, TERM, err, sizeof err) == NULL);
    T_CHECK(strstr(err, "/seq is damaged") != NULL);
    remove_base();
}

T_TEST(intent_resolved_changed_keeps_id_and_seq)
{
    char id1[37] = "", id2[37] = "";
    outbox *o;

    make_base();
    o = open_base();
    T_CHECK(!outbox_intent_open(o));
    T_CHECK(outbox_intent_begin(o, CARD, T0));
    T_CHECK(outbox_intent_open(o));
    T_EQ_STR(listing(base), "intent-000000000001.json seq");
    check_event("intent-000000000001.json", 1, "pin_change_unknown", T0_TEXT, id1);
    T_EQ_INT(outbox_depth(o), 0); /* not for delivery yet */
    T_EQ_INT(outbox_last_seq(o), 1);
    /* One change at a time. */
    T_CHECK(!outbox_intent_begin(o, CARD, T0));

    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_CHANGED, T0 + 5));
    T_CHECK(!outbox_intent_open(o));
    T_EQ_STR(listing(base), "evt-000000000001.json seq");
    check_event("evt-000000000001.json", 1, "pin_changed", T5_TEXT, id2);
    T_EQ_STR(id2, id1);
    T_EQ_INT(outbox_depth(o), 1);
    /* Nothing open: a no-op. */
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_DISCARD, T0));
    T_EQ_STR(listing(base), "evt-000000000001.json seq");
    outbox_close(o);
    remove_base();
}

T_TEST(intent_resolved_unknown_keeps_its_time)
{
    char id1[37] = "", id2[37] = "";
    outbox *o;

    make_base();
    o = open_base();
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_BLOCKED, T0));
    T_CHECK(outbox_intent_begin(o, CARD, T0));
    check_event("intent-000000000002.json", 2, "pin_change_unknown", T0_TEXT, id1);
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_UNKNOWN, T0 + 5));
    T_CHECK(!outbox_intent_open(o));
    T_EQ_STR(listing(base), "evt-000000000001.json evt-000000000002.json seq");
    check_event("evt-000000000002.json", 2, "pin_change_unknown", T0_TEXT, id2);
    T_EQ_STR(id2, id1);
    T_EQ_INT(outbox_depth(o), 2);
    outbox_close(o);
    remove_base();
}

T_TEST(intent_discarded_leaves_nothing_but_never_reuses_seq)
{
    outbox *o;

    make_base();
    o = open_base();
    T_CHECK(outbox_intent_begin(o, CARD, T0));
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_DISCARD, T0));
    T_CHECK(!outbox_intent_open(o));
    T_EQ_STR(listing(base), "seq");
    T_EQ_INT(outbox_depth(o), 0);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_BLOCKED, T0));
    T_EQ_STR(listing(base), "evt-000000000002.json seq");
    /* A new intent after a discarded one. */
    T_CHECK(outbox_intent_begin(o, CARD, T0));
    T_EQ_STR(listing(base), "evt-000000000002.json intent-000000000003.json seq");
    outbox_close(o);
    remove_base();
}

T_TEST(reset_intent_carries_its_reset_id_to_every_end)
{
    char id1[37] = "", id2[37] = "";
    outbox *o;

    make_base();
    o = open_base();
    /* The card took the bureau's command: pin_reset, same id and seq. */
    T_CHECK(outbox_intent_begin_reset(o, CARD, "r-7f3a.x_9", T0));
    check_event_reset("intent-000000000001.json", 1, "pin_change_unknown", T0_TEXT, id1, "r-7f3a.x_9");
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_RESET, T0 + 5));
    check_event_reset("evt-000000000001.json", 1, "pin_reset", T5_TEXT, id2, "r-7f3a.x_9");
    T_EQ_STR(id2, id1);
    /* The answer was lost: pin_change_unknown with the reset's id. */
    T_CHECK(outbox_intent_begin_reset(o, CARD, "r-2", T0));
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_UNKNOWN, T0 + 5));
    check_event_reset("evt-000000000002.json", 2, "pin_change_unknown", T0_TEXT, NULL, "r-2");
    /* A definite refusal: nothing. */
    T_CHECK(outbox_intent_begin_reset(o, CARD, "r-3", T0));
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_DISCARD, T0));
    T_EQ_STR(listing(base), "evt-000000000001.json evt-000000000002.json seq");
    /* The change that follows a reset is a change of its own: no reset_id
     * on it, and a change's intent cannot become a reset. */
    T_CHECK(outbox_intent_begin(o, CARD, T0));
    T_CHECK(!outbox_intent_resolve(o, OUTBOX_RESOLVE_RESET, T0));
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_CHANGED, T0 + 5));
    check_event("evt-000000000004.json", 4, "pin_changed", T5_TEXT, NULL);
    /* Ids the bureau could not have made are refused before anything is written. */
    T_CHECK(!outbox_intent_begin_reset(o, CARD, "", T0));
    T_CHECK(!outbox_intent_begin_reset(o, CARD, "r 1", T0));
    T_CHECK(!outbox_intent_begin_reset(o, CARD, "r-\"\n", T0));
    T_CHECK(!outbox_intent_begin_reset(o, CARD,
                                       "r-01234567890123456789012345678901234567890123456789012345678901", T0));
    T_CHECK(!outbox_intent_begin_reset(o, CARD, NULL, T0));
    T_CHECK(!outbox_intent_open(o));
    T_EQ_INT(outbox_last_seq(o), 4);
    outbox_close(o);

    /* Killed while the reset command was at the card. */
    o = open_base();
    T_CHECK(outbox_intent_begin_reset(o, CARD, "r-9", T0));
    outbox_close(o);
    o = open_base();
    check_event_reset("evt-000000000005.json", 5, "pin_change_unknown", T0_TEXT, NULL, "r-9");
    outbox_close(o);
    remove_base();
}

T_TEST(leftover_intent_is_promoted_on_open)
{
    char id1[37] = "", id2[37] = "";
    outbox *o;
    pid_t pid;
    int status = -1;

    make_base();
    /* The kiosk is killed while the change command is at the card. */
    pid = fork();
    if (pid == 0) {
        outbox *c = outbox_open(base, TERM, NULL, 0);
        bool begun = c != NULL && outbox_intent_begin(c, CARD, T0);

        /* Freed only so valgrind has no leak to report for the child:
         * outbox_close() touches no file. */
        outbox_close(c);
        if (begun)
            raise(SIGKILL);
        _exit(1);
    }
    T_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    T_EQ_STR(listing(base), "intent-000000000001.json seq");
    check_event("intent-000000000001.json", 1, "pin_change_unknown", T0_TEXT, id1);
    /* And a temp file from a write cut short. */
    spit(path_in(".tmp-evt-000000000002.json"), "{\"event_id\":");

    o = open_base();
    T_CHECK(!outbox_intent_open(o));
    T_EQ_STR(listing(base), "evt-000000000001.json seq");
    check_event("evt-000000000001.json", 1, "pin_change_unknown", T0_TEXT, id2);
    T_EQ_STR(id2, id1);
    T_EQ_INT(outbox_depth(o), 1);
    T_EQ_INT(outbox_last_seq(o), 1);
    /* Closing with an open intent is the same as dying with it. */
    T_CHECK(outbox_intent_begin(o, CARD, T0 + 5));
    outbox_close(o);
    o = open_base();
    T_EQ_STR(listing(base), "evt-000000000001.json evt-000000000002.json seq");
    check_event("evt-000000000002.json", 2, "pin_change_unknown", T5_TEXT, NULL);
    outbox_close(o);

    /* Died between the two steps of CHANGED: the intent already says
     * pin_changed, and that is what it becomes. */
    spit(path_in("intent-000000000003.json"),
         "{\"event_id\":\"0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10\",\"terminal_id\":\"" TERM
         "\",\"seq\":3,\"card_number\":\"" CARD "\",\"kind\":\"pin_changed\",\"occurred_at\":\"" T0_TEXT "\"}");
    o = open_base();
    T_EQ_INT(outbox_last_seq(o), 3); /* the counter said 2; the file says 3 */
    check_event("evt-000000000003.json", 3, "pin_changed", T0_TEXT, id1);
    T_EQ_STR(id1, "0b9a4f52-8e8e-4d55-9f0b-3c2f6d1f7a10");
    T_EQ_INT(outbox_depth(o), 3);
    outbox_close(o);
    remove_base();
}

T_TEST(depth_counts_only_events)
{
    outbox *o;

    make_base();
    o = open_base();
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    T_CHECK(outbox_intent_begin(o, CARD, T0));
    spit(path_in("README"), "not an event");
    spit(path_in(".tmp-evt-000000000009.json"), "");
    T_EQ_INT(outbox_depth(o), 2);
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_UNKNOWN, T0));
    T_EQ_INT(outbox_depth(o), 3);
    T_EQ_INT(unlink(path_in("evt-000000000001.json")), 0);
    T_EQ_INT(outbox_depth(o), 2);
    outbox_close(o);
    remove_base();
}

T_TEST(creates_directory_and_parents_0700)
{
    char dir[256], err[256] = "";
    struct stat st;
    outbox *o;

    make_base();
    snprintf(dir, sizeof dir, "%s/var/lib/kiosk/outbox", base);
    o = outbox_open(dir, TERM, err, sizeof err);
    T_CHECK(o != NULL);
    T_EQ_STR(err, "");
    T_CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    snprintf(dir, sizeof dir, "%s/var/lib", base);
    T_CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    outbox_close(o);
    remove_base();
}

T_TEST(unusable_directory_fails_cleanly)
{
    char dir[5000], err[512];
    outbox *o;

    make_base();
    spit(path_in("file"), "x");
    snprintf(dir, sizeof dir, "%s/file/outbox", base);
    err[0] = '\0';
    T_CHECK(outbox_open(dir, TERM, err, sizeof err) == NULL);
    T_CHECK(strstr(err, "cannot create ") != NULL && strstr(err, ": Not a directory") != NULL);
    snprintf(dir, sizeof dir, "%s/file", base);
    T_CHECK(outbox_open(dir, TERM, err, sizeof err) == NULL);
    T_CHECK(strstr(err, ": Not a directory") != NULL);

    /* One name longer than NAME_MAX. */
    snprintf(dir, sizeof dir, "%s/%0300d", base, 1);
    T_CHECK(outbox_open(dir, TERM, err, sizeof err) == NULL);
    T_CHECK(strstr(err, "File name too long") != NULL);
    /* A whole path longer than PATH_MAX. */
    memset(dir, 'a', sizeof dir - 1);
    dir[sizeof dir - 1] = '\0';
    dir[0] = '/';
    T_CHECK(outbox_open(dir, TERM, err, sizeof err) == NULL);
    T_EQ_STR(err, "outbox directory name is too long (4999 characters)");

    T_CHECK(outbox_open("", TERM, err, sizeof err) == NULL);
    T_EQ_STR(err, "no outbox directory given");
    T_CHECK(outbox_open(NULL, TERM, NULL, 0) == NULL);
    T_CHECK(outbox_open(base, "", err, sizeof err) == NULL);
    T_EQ_STR(err, "terminal id must be 1..63 characters");
    T_CHECK(outbox_open(base, NULL, err, sizeof err) == NULL);
    T_EQ_STR(listing(base), "file");

    /* The directory disappears under an open outbox. */
    snprintf(dir, sizeof dir, "%s/gone", base);
    o = outbox_open(dir, TERM, err, sizeof err);
    T_CHECK(o != NULL);
    T_CHECK(rmdir(dir) == 0);
    T_CHECK(!outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    T_CHECK(!outbox_intent_begin(o, CARD, T0));
    T_CHECK(!outbox_intent_open(o));
    outbox_close(o);
    remove_base();
}

T_TEST(second_open_of_the_same_dir_is_refused)
{
    char err[256] = "";
    outbox *o, *p;

    make_base();
    o = open_base();
    p = outbox_open(base, TERM, err, sizeof err);
    T_CHECK(p == NULL);
    T_CHECK(strstr(err, "another process has it open") != NULL);
    outbox_close(p);
    outbox_close(o);
    o = open_base();
    outbox_close(o);
    remove_base();
}

/* Files may not grow past `bytes`: writes fail with EFBIG, the way a full
 * disk fails them with ENOSPC, and root cannot ignore it. */
static void limit_file_size(rlim_t bytes)
{
    struct rlimit rl;

    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = bytes;
    T_EQ_INT(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

T_TEST(failed_writes_leave_no_event_file)
{
    struct rlimit saved;
    char id1[37] = "", id2[37] = "";
    outbox *o;

    make_base();
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &saved);
    o = open_base();

    limit_file_size(16); /* the counter fits, an event does not */
    T_CHECK(!outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    T_EQ_STR(listing(base), "seq");
    T_EQ_INT(outbox_depth(o), 0);
    T_CHECK(!outbox_intent_begin(o, CARD, T0));
    T_CHECK(!outbox_intent_open(o));
    T_EQ_STR(listing(base), "seq");
    setrlimit(RLIMIT_FSIZE, &saved);

    /* Both numbers were reserved before the writes failed: never reused. */
    T_EQ_INT(outbox_last_seq(o), 2);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    T_EQ_STR(listing(base), "evt-000000000003.json seq");

    /* CHANGED cannot be written: the intent stays open and unchanged, and
     * resolving again works once the disk is back. */
    T_CHECK(outbox_intent_begin(o, CARD, T0));
    check_event("intent-000000000004.json", 4, "pin_change_unknown", T0_TEXT, id1);
    limit_file_size(16);
    T_CHECK(!outbox_intent_resolve(o, OUTBOX_RESOLVE_CHANGED, T0 + 5));
    setrlimit(RLIMIT_FSIZE, &saved);
    T_CHECK(outbox_intent_open(o));
    T_EQ_STR(listing(base), "evt-000000000003.json intent-000000000004.json seq");
    check_event("intent-000000000004.json", 4, "pin_change_unknown", T0_TEXT, NULL);
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_CHANGED, T0 + 5));
    check_event("evt-000000000004.json", 4, "pin_changed", T5_TEXT, id2);
    T_EQ_STR(id2, id1);

    /* The counter itself cannot be written: nothing is reserved. */
    limit_file_size(0);
    T_CHECK(!outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    setrlimit(RLIMIT_FSIZE, &saved);
    T_EQ_INT(outbox_last_seq(o), 4);
    T_EQ_STR(listing(base), "evt-000000000003.json evt-000000000004.json seq");
    outbox_close(o);
    signal(SIGXFSZ, SIG_DFL);
    remove_base();
}

T_TEST(bad_arguments_are_refused)
{
    outbox *o;

    make_base();
    o = open_base();
    T_CHECK(!outbox_record(o, NULL, OUTBOX_PIN_CHANGED, T0));
    T_CHECK(!outbox_record(o, "", OUTBOX_PIN_CHANGED, T0));
    T_CHECK(!outbox_record(o, "A123-5678", OUTBOX_PIN_CHANGED, T0));
    T_CHECK(!outbox_record(o, "A1234567890123456789012345678901X", OUTBOX_PIN_CHANGED, T0));
    T_CHECK(outbox_record(o, "A123456789012345678901234567890X", OUTBOX_PIN_CHANGED, T0)); /* 32 */
    T_CHECK(!outbox_record(o, CARD, (outbox_kind)7, T0));
    T_CHECK(!outbox_intent_begin(o, "A12\"345", T0));
    T_CHECK(!outbox_intent_open(o));
    T_CHECK(outbox_intent_begin(o, CARD, T0));
    T_CHECK(!outbox_intent_resolve(o, (outbox_resolution)9, T0));
    T_CHECK(outbox_intent_open(o));
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_DISCARD, T0));
    T_EQ_STR(listing(base), "evt-000000000001.json seq");

    T_CHECK(!outbox_record(NULL, CARD, OUTBOX_PIN_CHANGED, T0));
    T_CHECK(!outbox_intent_begin(NULL, CARD, T0));
    T_CHECK(!outbox_intent_resolve(NULL, OUTBOX_RESOLVE_DISCARD, T0));
    T_CHECK(!outbox_intent_open(NULL));
    T_EQ_INT(outbox_depth(NULL), -1);
    T_EQ_INT(outbox_last_seq(NULL), 0);
    outbox_close(NULL);
    outbox_close(o);
    remove_base();
}

T_TEST(logs_mask_the_card_number)
{
    char logpath[128], *log;
    int saved, fd;
    outbox *o;

    make_base();
    o = open_base();
    snprintf(logpath, sizeof logpath, "%s.log", base);
    fflush(stderr);
    saved = dup(2);
    fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    T_CHECK(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_BLOCKED, T0));
    T_CHECK(outbox_intent_begin(o, CARD, T0));
    T_CHECK(outbox_intent_resolve(o, OUTBOX_RESOLVE_CHANGED, T0));
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    log = slurp(logpath);
    T_CHECK(log != NULL);
    if (log != NULL) {
        T_CHECK(strstr(log, "A12***678") != NULL);
        T_CHECK(strstr(log, CARD) == NULL);
    }
    free(log);
    unlink(logpath);
    outbox_close(o);
    remove_base();
}

T_TEST(probe_says_whether_a_record_could_be_written)
{
    struct rlimit saved;
    char why[256] = "", before[512];
    outbox *o;

    make_base();
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &saved);
    o = open_base();
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0));
    snprintf(before, sizeof before, "%s", listing(base));
    T_CHECK(outbox_probe(o, OUTBOX_MIN_FREE, why, sizeof why));
    T_EQ_STR(listing(base), before); /* the probe leaves nothing behind */

    /* Not enough room for us: said in KiB, nothing written. */
    T_CHECK(!outbox_probe(o, UINT64_MAX / 2, why, sizeof why));
    T_CHECK(strstr(why, "KiB free in") != NULL);
    T_CHECK(strstr(why, base) != NULL);
    T_EQ_STR(listing(base), before);

    /* A write that fails (here: the file-size limit; ENOSPC and EIO take
     * the same path) is reported with its step and reason. */
    limit_file_size(16);
    T_CHECK(!outbox_probe(o, 0, why, sizeof why));
    setrlimit(RLIMIT_FSIZE, &saved);
    T_CHECK(strncmp(why, "write ", 6) == 0);
    T_CHECK(strstr(why, ".tmp-probe: File too large") != NULL);
    T_EQ_STR(listing(base), before);
    T_CHECK(outbox_probe(o, 0, why, sizeof why)); /* and it recovers */
    outbox_close(o);
    remove_base();
}

T_TEST(dead_letters_counted_and_moved_back)
{
    char dead[128], text[200];
    outbox *o;

    make_base();
    o = open_base();
    T_EQ_INT(outbox_dead_count(o), 0);  /* no folder yet: none */
    T_EQ_INT(outbox_requeue_dead(o), 0);
    snprintf(dead, sizeof dead, "%s.dead", base);
    T_EQ_INT(mkdir(dead, 0700), 0);
    T_CHECK(outbox_record(o, CARD, OUTBOX_PIN_CHANGED, T0)); /* evt 1 stays in the outbox */
    /* Copies (".<n>" before ".json": kiosk-sync found the name taken) count
     * and go back under their event's name; other spellings are not ours. */
    static const char *const names[] = { "evt-000000000001.json", "evt-000000000002.json",
                                         "evt-000000000003.json", "notes.txt", "evt-12.json",
                                         "evt-000000000004.1.json", "evt-000000000001.2.json",
                                         "evt-000000000005.0.json", "evt-000000000005.01.json" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(text, sizeof text, "%s/%s", dead, names[i]);
        FILE *f = fopen(text, "w");
        T_CHECK(f != NULL);
        fputs(names[i], f);
        fclose(f);
    }
    T_EQ_INT(outbox_dead_count(o), 5);
    /* evt 1 exists in the outbox: its two dead letters stay; 2, 3 and 4 go back. */
    T_EQ_INT(outbox_requeue_dead(o), 3);
    T_EQ_STR(listing(base), "evt-000000000001.json evt-000000000002.json evt-000000000003.json "
                            "evt-000000000004.json seq");
    T_EQ_STR(listing(dead), "evt-000000000001.2.json evt-000000000001.json evt-000000000005.0.json "
                            "evt-000000000005.01.json evt-12.json notes.txt");
    T_EQ_INT(outbox_dead_count(o), 2);
    char *back = slurp(path_in("evt-000000000002.json"));
    T_EQ_STR(back, "evt-000000000002.json");
    free(back);
    back = slurp(path_in("evt-000000000004.json"));
    T_EQ_STR(back, "evt-000000000004.1.json");
    free(back);
    T_EQ_INT(outbox_depth(o), 4);
    /* An unreadable folder: -1, nothing moved. */
    T_EQ_INT(chmod(dead, 0), 0);
    if (geteuid() != 0) {
        T_EQ_INT(outbox_dead_count(o), -1);
        T_EQ_INT(outbox_requeue_dead(o), -1);
    }
    T_EQ_INT(chmod(dead, 0700), 0);
    T_EQ_INT(outbox_dead_count(NULL), -1);
    outbox_close(o);
    /* A trailing slash names the same outbox and the same dead letters. */
    {
        char slashed[160], err[256];
        snprintf(slashed, sizeof slashed, "%s//", base);
        o = outbox_open(slashed, TERM, err, sizeof err);
        T_CHECK(o != NULL);
        T_EQ_INT(outbox_dead_count(o), 2);
        outbox_close(o);
    }
    remove_base();
    {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dead);
        T_EQ_INT(system(cmd), 0);
    }
}

T_MAIN(T_CASE(record_writes_exactly_the_event_body), T_CASE(event_ids_differ),
       T_CASE(seq_survives_reopen_and_delivery), T_CASE(intent_resolved_changed_keeps_id_and_seq),
       T_CASE(intent_resolved_unknown_keeps_its_time),
       T_CASE(intent_discarded_leaves_nothing_but_never_reuses_seq),
       T_CASE(reset_intent_carries_its_reset_id_to_every_end),
       T_CASE(leftover_intent_is_promoted_on_open), T_CASE(depth_counts_only_events),
       T_CASE(creates_directory_and_parents_0700), T_CASE(unusable_directory_fails_cleanly),
       T_CASE(second_open_of_the_same_dir_is_refused), T_CASE(failed_writes_leave_no_event_file),
       T_CASE(bad_arguments_are_refused), T_CASE(logs_mask_the_card_number),
       T_CASE(probe_says_whether_a_record_could_be_written), T_CASE(dead_letters_counted_and_moved_back))
