/* config_int.h - what the two halves of the config module share: the
 * table of keys with how each value is read (config_keys.c) and the file,
 * its lines and the rules between keys (config.c). Nothing else includes
 * this. */
#ifndef CONFIG_CONFIG_INT_H
#define CONFIG_CONFIG_INT_H

#include "config/config.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct cfg_key cfg_key;

/* Turns `value` into the key's field of `c`. On a bad value it writes why
 * (without the "name:line: key: " prefix) into `why` and leaves `c` alone. */
typedef bool (*cfg_parse_fn)(const cfg_key *k, kiosk_config *c, const char *value,
                             char *why, size_t whylen);

typedef struct {
    const char *text;
    int value;
} cfg_choice;

enum { CFG_HEX = 1 }; /* cfg_key.flags: "0x80" is accepted as well as "128" */

struct cfg_key {
    const char *section, *name;
    cfg_parse_fn parse;
    size_t offset, size;      /* the field in kiosk_config */
    const char *def;          /* the default, as it would be written in the file */
    long min, max;            /* numbers: inclusive range; initial: digits per PIN */
    const cfg_choice *choices; /* choices and words: ends with a NULL text */
    unsigned flags;
};

/* Every key, in the order kiosk.conf documents them. */
extern const cfg_key cfg_keys[];
extern const size_t cfg_nkeys;

/* The key [section] name; NULL if there is none. */
const cfg_key *cfg_find(const char *section, const char *name);

/* True when some key lives in the section named by the `len` bytes at
 * `section` (not NUL-terminated: the reader passes a header's inside). */
bool cfg_section_known(const char *section, size_t len);

#endif
