#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level log_max = LOG_LVL_INFO;

void log_set_level(enum log_level max)
{
    log_max = max;
}

void log_msg(enum log_level lvl, const char *where, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    if (lvl > log_max)
        return;
    n = snprintf(line, sizeof line, "<%d>%s: ", (int)lvl, where);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* One fputs per line so that lines from several threads do not interleave. */
    fprintf(stderr, "%s\n", line);
}
