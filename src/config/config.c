/* config.c - reading kiosk.conf: the file, its lines through inih, and the
 * rules between keys. Each key and how its value is read are in
 * config_keys.c. */
#include "config/config_int.h"

#include "util/text.h"

#include <ini.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config file is a page of text; anything bigger is a mistake (a log or a
 * binary given by accident), and refusing it early bounds the work. */
#define CFG_FILE_MAX (64 * 1024)

/* State of one load, shared by the reader and the handler. */
typedef struct {
    kiosk_config work;       /* parsed into; copied out only on success */
    const char *name;
    const char *text;        /* the whole file, for messages about a line */
    const char *pos;         /* next unread character */
    int line;                /* line number of the line inih is working on */
    bool failed;
    int fail_line;
    char *err;
    size_t errlen;
} cfg_parse;

/* Records the first problem as "<name>:<line>: <what>"; returns 0 so that a
 * handler can `return cfg_fail(...)`. */
static int cfg_fail(cfg_parse *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cfg_fail(cfg_parse *p, int line, const char *fmt, ...)
{
    char what[384];
    va_list ap;

    if (p->failed)
        return 0;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    text_errf(p->err, p->errlen, "%s:%d: %s", p->name, line, what);
    p->failed = true;
    p->fail_line = line;
    return 0;
}

static int cfg_handler(void *user, const char *section, const char *name, const char *value)
{
    cfg_parse *p = user;
    const cfg_key *k;
    size_t i;
    char why[256];

    if (p->failed)
        return 0;
    if (section[0] == '\0')
        return cfg_fail(p, p->line, "'%s' is outside any section; put it under its [section]", name);
    k = cfg_find(section, name);
    if (k == NULL) {
        if (!cfg_section_known(section, strlen(section)))
            return cfg_fail(p, p->line, "unknown section [%s]", section);
        return cfg_fail(p, p->line, "unknown key '%s' in [%s]", name, section);
    }
    i = (size_t)(k - cfg_keys);
    if (p->work.line_of[i] != 0)
        return cfg_fail(p, p->line, "duplicate key '%s' in [%s] (first set on line %d)", name,
                        section, p->work.line_of[i]);
    p->work.line_of[i] = p->line;
    if (!k->parse(k, &p->work, value, why, sizeof why))
        return cfg_fail(p, p->line, "%s: %s", name, why);
    return 1;
}

/* Feeds inih one line at a time so that the handler knows the line number,
 * and stops the parse at the first problem by reporting end of input. It
 * also removes leading blanks, which inih would otherwise take for the
 * continuation of the previous value, and checks section headers here so
 * that an unknown section is reported on its own line. */
static char *cfg_reader(char *buf, int num, void *stream)
{
    cfg_parse *p = stream;
    const char *s = p->pos, *nl, *close;
    size_t len;

    if (p->failed || *s == '\0')
        return NULL;
    p->line++;
    nl = strchr(s, '\n');
    len = nl ? (size_t)(nl - s) + 1 : strlen(s);
    p->pos = s + len;
    if (p->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        len -= 3;
    }
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    if (num < 3 || len > (size_t)num - 1) {
        cfg_fail(p, p->line, "line is longer than %d characters", num - 2);
        return NULL;
    }
    if (len > 0 && *s == '[') {
        close = memchr(s, ']', len);
        if (close == NULL) {
            cfg_fail(p, p->line, "'[' without a closing ']'");
            return NULL;
        }
        if (!cfg_section_known(s + 1, (size_t)(close - s - 1))) {
            cfg_fail(p, p->line, "unknown section [%.*s]", (int)(close - s - 1), s + 1);
            return NULL;
        }
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

/* The start of line `line` of the text. */
static const char *cfg_line_start(const char *text, int line)
{
    for (int i = 1; i < line && text != NULL; i++) {
        text = strchr(text, '\n');
        if (text != NULL)
            text++;
    }
    return text ? text : "";
}

static int cfg_max_line(const cfg_parse *p, const char *section, const char *a, const char *b)
{
    int la = config_line(&p->work, section, a), lb = config_line(&p->work, section, b);

    return la > lb ? la : lb;
}

/* Rules between keys, checked once every key is known. A problem is
 * reported on the later of the lines involved: the point where it arose. */
static void cfg_check(cfg_parse *p)
{
    const kiosk_config *c = &p->work;
    int line;

    for (int i = 0; i < c->pin_initial_count; i++) {
        size_t len = strlen(c->pin_initial[i]);

        if (len != (size_t)c->pin_length) {
            line = cfg_max_line(p, "pin", "initial", "length");
            cfg_fail(p, line, "initial PIN #%d has %zu digits but [pin] length is %d", i + 1, len,
                     c->pin_length);
            return;
        }
    }
    /* Keys the kiosk cannot run without may not be set empty. */
    static const struct { const char *section, *name; size_t off; } required[] = {
        { "terminal", "id", offsetof(kiosk_config, terminal_id) },
        { "outbox", "dir", offsetof(kiosk_config, outbox_dir) },
        { "sync", "socket", offsetof(kiosk_config, sync_socket) },
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (((const char *)c + required[i].off)[0] == '\0') {
            cfg_fail(p, config_line(&p->work, required[i].section, required[i].name),
                     "[%s] %s must not be empty", required[i].section, required[i].name);
            return;
        }
    }
    if (!c->fullscreen && (c->width == 0 || c->height == 0)) {
        line = cfg_max_line(p, "display", "width", "height");
        if (config_line(&p->work, "display", "fullscreen") > line)
            line = config_line(&p->work, "display", "fullscreen");
        cfg_fail(p, line, "width and height must not be 0 when fullscreen is false");
    }
}

bool config_load_string(kiosk_config *c, const char *text, const char *name, char *err, size_t errlen)
{
    cfg_parse *p = NULL;
    bool ok = false;
    int ret;

    if (name == NULL)
        name = "(config)";
    if (c == NULL || text == NULL) {
        text_errf(err, errlen, "%s: no config given", name);
        goto out;
    }
    p = calloc(1, sizeof *p);
    if (p == NULL) {
        text_errf(err, errlen, "%s: out of memory", name);
        goto out;
    }
    config_defaults(&p->work);
    snprintf(p->work.source, sizeof p->work.source, "%s", name);
    p->name = name;
    p->text = text;
    p->pos = text;
    p->err = err;
    p->errlen = errlen;

    ret = ini_parse_stream(cfg_reader, p, cfg_handler, p);
    if (ret < 0) {
        text_errf(err, errlen, "%s: out of memory", name);
        goto out;
    }
    /* inih reports lines it cannot parse only through its return value: the
     * first line with an error, ours (handler refused) or its own. */
    if (ret > 0 && (!p->failed || ret < p->fail_line)) {
        const char *l = cfg_line_start(text, ret);

        p->failed = false;
        l += strspn(l, " \t");
        if (*l == '[')
            cfg_fail(p, ret, "'[' without a closing ']'");
        else
            cfg_fail(p, ret, "expected 'name = value', '[section]' or a comment");
    }
    if (!p->failed)
        cfg_check(p);
    if (p->failed)
        goto out;
    *c = p->work;
    ok = true;
out:
    free(p);
    return ok;
}

int config_line(const kiosk_config *c, const char *section, const char *name)
{
    const cfg_key *k = section && name ? cfg_find(section, name) : NULL;

    return c != NULL && k != NULL ? c->line_of[k - cfg_keys] : 0;
}

void config_errf(const kiosk_config *c, const char *section, const char *name, char *err,
                 size_t errlen, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    int line = config_line(c, section, name);

    /* Formatted first: the arguments may point into err. */
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c == NULL || c->source[0] == '\0')
        text_errf(err, errlen, "[%s] %s: %s", section, name, what);
    else if (line > 0)
        text_errf(err, errlen, "%s:%d: [%s] %s: %s", c->source, line, section, name, what);
    else
        text_errf(err, errlen, "%s: [%s] %s: %s", c->source, section, name, what);
}

/* What a config path may name instead of a file, for the refusal. */
static const struct {
    mode_t type;
    const char *what;
} cfg_not_files[] = {
    { S_IFDIR, "a directory" },
    { S_IFIFO, "a FIFO" },
    { S_IFSOCK, "a socket" },
    { S_IFCHR, "a character device" },
    { S_IFBLK, "a block device" },
};

static const char *cfg_file_kind(mode_t mode)
{
    for (size_t i = 0; i < sizeof cfg_not_files / sizeof cfg_not_files[0]; i++)
        if ((mode & S_IFMT) == cfg_not_files[i].type)
            return cfg_not_files[i].what;
    return "not a file";
}

/* Opens `path` for reading if it is a regular file. O_NONBLOCK: opening a
 * FIFO for reading would otherwise wait for a writer, for ever, before the
 * type could be looked at; O_NOCTTY: a terminal named by mistake must not
 * become ours. Neither changes how a regular file reads. Returns -1 with
 * the message in err. */
static int cfg_open_regular(const char *path, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), saved;

    if (fd < 0) {
        saved = errno;
        /* A socket cannot be opened at all (ENXIO): say what it is. */
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            text_errf(err, errlen, "%s: not a regular file (%s)", path, cfg_file_kind(st.st_mode));
        else
            text_errf(err, errlen, "%s: cannot open: %s", path, strerror(saved));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        text_errf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        text_errf(err, errlen, "%s: not a regular file (%s)", path, cfg_file_kind(st.st_mode));
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads up to `cap` bytes; the count, or -1 with errno. */
static ssize_t cfg_read_all(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    ssize_t n = 0;

    while (got < cap) {
        n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return n < 0 ? -1 : (ssize_t)got;
}

bool config_load_file(kiosk_config *c, const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    const char *nul;
    ssize_t got;
    size_t n;
    bool ok = false;
    int fd = -1;

    if (path == NULL) {
        text_errf(err, errlen, "(config): no file name given");
        goto out;
    }
    fd = cfg_open_regular(path, err, errlen);
    if (fd < 0)
        goto out;
    text = malloc(CFG_FILE_MAX + 1);
    if (text == NULL) {
        text_errf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    got = cfg_read_all(fd, text, CFG_FILE_MAX + 1);
    if (got < 0) {
        text_errf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    n = (size_t)got;
    if (n > CFG_FILE_MAX) {
        text_errf(err, errlen, "%s: larger than %d bytes, not a config file", path, CFG_FILE_MAX);
        goto out;
    }
    text[n] = '\0';
    nul = memchr(text, '\0', n);
    if (nul != NULL) {
        int line = 1;

        for (const char *q = text; q < nul; q++)
            line += *q == '\n';
        text_errf(err, errlen, "%s:%d: NUL byte: not a text file", path, line);
        goto out;
    }
    ok = config_load_string(c, text, path, err, errlen);
out:
    if (fd >= 0)
        close(fd);
    free(text);
    return ok;
}
