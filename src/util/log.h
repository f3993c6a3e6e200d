/* log.h - one line per message on stderr, with a syslog priority prefix.
 *
 * journald reads "<N>" prefixes from stderr (SyslogLevelPrefix), so the same
 * line serves a technician's terminal and a production journal. `where` is the
 * module prefix ("card", "outbox"...). Never pass a PIN or an unmasked card
 * number: use mask_card() first.
 */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* Messages above this level are dropped; default LOG_LVL_INFO. */
void log_set_level(enum log_level max);

void log_msg(enum log_level lvl, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_err(where, ...)    log_msg(LOG_LVL_ERR, where, __VA_ARGS__)
#define log_warn(where, ...)   log_msg(LOG_LVL_WARN, where, __VA_ARGS__)
#define log_notice(where, ...) log_msg(LOG_LVL_NOTICE, where, __VA_ARGS__)
#define log_info(where, ...)   log_msg(LOG_LVL_INFO, where, __VA_ARGS__)
#define log_debug(where, ...)  log_msg(LOG_LVL_DEBUG, where, __VA_ARGS__)

#endif
