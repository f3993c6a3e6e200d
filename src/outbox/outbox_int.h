/* outbox_int.h - what the outbox's files share; private to src/outbox.
 *
 *   outbox.c       names, the directory, atomic writes; records and intents
 *                  (the kiosk's events -> files)
 *   outbox_open.c  open: the lock, the counter, crash recovery; close
 *   outbox_dead.c  depth, dead letters moved back, the disk probe
 *                  (files -> figures for the service screen)
 *
 * One outbox is used by one thread (outbox.h), so nothing here locks.
 */
#ifndef OUTBOX_OUTBOX_INT_H
#define OUTBOX_OUTBOX_INT_H

#include "outbox/outbox.h"

#include "util/secure.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OB_WHERE "outbox"
#define OB_TERMINAL_MAX 63
#define OB_SEQ_MAX UINT64_C(999999999999) /* what fits the 12 digits of a file name */
#define OB_NAME_MAX 64                    /* ".tmp-intent-<12 digits>.json" and then some */
#define OB_TMP_PREFIX ".tmp-"
#define OB_SEQ_FILE "seq"

struct outbox {
    int dirfd;                   /* the directory; holds the flock */
    char dir[PATH_MAX];
    char terminal_id[OB_TERMINAL_MAX + 1];
    uint64_t last_seq;           /* last number reserved in the seq file */
    bool intent_open;
    uint64_t intent_seq;
    char intent_id[SECURE_UUID_LEN];
    char intent_card[OUTBOX_CARD_MAX + 1];
    char intent_reset[OUTBOX_RESET_ID_MAX + 1]; /* "" for a change; a reset's id */
};

/* Shared helpers, defined in outbox.c. */
void ob_name(char out[OB_NAME_MAX], const char *prefix, uint64_t seq);
bool ob_parse_name(const char *name, const char *prefix, uint64_t *seq);
bool ob_fsync_dir(const outbox *o);
bool ob_write_all(int fd, const char *data, size_t len);
DIR *ob_opendir(const outbox *o);

#endif
