/* text.h - small helpers for the text the kiosk reads from outside:
 * JSON lines from sockets, and error messages into caller buffers. */
#ifndef UTIL_TEXT_H
#define UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Formats into err (errlen bytes; nothing when err is NULL or errlen 0). */
void text_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* True when a JSON text holds "\u0000" inside a string. cJSON decodes it
 * into a NUL inside a valuestring, which would silently cut a field short
 * ("12\u00003" read as "12"); lines holding it are refused. The lexing only
 * has to be right for valid JSON, since anything else fails to parse. */
bool text_json_has_nul_escape(const char *s, size_t n);

/* True when [p, end) is only spaces, tabs, CR and LF. */
bool text_only_whitespace(const char *p, const char *end);

#endif
