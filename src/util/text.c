#include "util/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void text_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

bool text_json_has_nul_escape(const char *s, size_t n)
{
    bool in_string = false;

    for (size_t i = 0; i < n; i++) {
        if (!in_string) {
            in_string = (s[i] == '"');
        } else if (s[i] == '"') {
            in_string = false;
        } else if (s[i] == '\\' && i + 1 < n) {
            i++;
            if (s[i] == 'u' && i + 4 < n && memcmp(s + i + 1, "0000", 4) == 0)
                return true;
        }
    }
    return false;
}

bool text_only_whitespace(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            return false;
    return true;
}
