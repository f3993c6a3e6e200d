/* config.h - kiosk.conf, read once at start-up.
 *
 * The file is INI (inih): "[section]" headers, "name = value" lines, comments
 * on lines of their own starting with ';' or '#'. Every key, its default and
 * its range live in one table in config.c; kiosk.conf at the repository root
 * documents them for technicians.
 *
 * The config is plain data: no pointers, nothing to free, safe to copy. It
 * remembers the file and line of each key, so that a program finding a
 * value wrong later (an outbox directory that cannot be made) names the
 * line as the loader would (config_errf).
 * It holds no secret (pin_initial is the published factory PIN, not a
 * citizen's).
 */
#ifndef CONFIG_CONFIG_H
#define CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { CFG_BACKEND_PCSC, CFG_BACKEND_SIM } cfg_backend;
typedef enum { CFG_PROFILE_AUTO, CFG_PROFILE_SSSE, CFG_PROFILE_ISO7816 } cfg_profile;
typedef enum { CFG_OFFLINE_ALLOW, CFG_OFFLINE_DENY } cfg_offline;

#define CFG_MAX_INITIAL 4
/* Room for every key of the table in config_keys.c (checked there). */
#define CFG_KEYS_MAX 48
/* The longest config path whose name a message can give whole. */
#define CFG_SOURCE_MAX 4096
/* [terminal] counter and counter_hours: characters (not bytes) each, so
 * that the text fits its line on screen in either script. */
#define CFG_STATION_CHARS 40

typedef struct kiosk_config {
    /* [terminal] */
    char terminal_id[64];            /* id: sent as X-Terminal-Id and in every event */
    /* The station's own words for a citizen the kiosk cannot help: where
     * the nearest counter is and when it is open. Free UTF-8 text shown
     * as it is, CFG_STATION_CHARS characters at most; "" = not said. */
    char counter[CFG_STATION_CHARS * 4 + 1];
    char counter_hours[CFG_STATION_CHARS * 4 + 1];
    /* [display] */
    bool fullscreen;
    int width, height;               /* 0 = desktop size; only allowed when fullscreen */
    /* [ui] */
    char language[3];                /* "zh" or "en" */
    int idle_timeout_s;              /* seconds without a touch before the countdown */
    int warning_s;                   /* length of the visible countdown */
    bool scramble_keypad;
    int take_card_s;                 /* a card left on an "take your card" screen: remind after */
    int change_unknown_s;            /* IDLE's "change unknown" for the citizen who pulled the card */
    /* [pin] */
    int pin_length;
    char pin_initial[CFG_MAX_INITIAL][17]; /* each exactly pin_length digits */
    int pin_initial_count;
    /* [card] */
    cfg_backend card_backend;
    char card_reader[128];           /* "" = first reader that has a card */
    cfg_profile card_profile;
    int iso_pin_ref;                 /* P2 of VERIFY for the iso7816 profile */
    bool iso_pin_bcd;                /* iso_pin_padding = bcd */
    /* [outbox] */
    char outbox_dir[256];
    /* [sync] */
    char sync_socket[108];           /* fits sockaddr_un.sun_path */
    cfg_offline offline_policy;
    int heartbeat_s;
    int status_timeout_ms;
    int reset_timeout_ms;  /* each of a PIN reset's bureau calls, kiosk and kiosk-sync */
    int retry_base_ms;  /* kiosk-sync's first backoff window */
    int retry_cap_s;    /* ... and its cap (also the slow schedule's) */
    int dead_after_s;   /* an event file kiosk-sync cannot read is a dead letter after this */
    /* [bureau] */
    char bureau_url[512], ca_file[256], client_cert[256], client_key[256], pinned_pubkey[256];
    int connect_timeout_s, timeout_s;
    /* [control] */
    char control_socket[108];        /* "" = no control socket */
    /* [service] */
    char service_code_hash[160];     /* a checked tcode value (service/tcode.h); "" = no service screen */
    int service_idle_s;
    /* [audio] */
    bool audio_enabled;              /* a terminal speaks unless told not to */
    int audio_volume;                /* 0..100 of the prompts' and tones' own level */
    int audio_night_volume;          /* ... from night_from up to night_to */
    int audio_night_from, audio_night_to; /* hours of local time; equal: no night */

    /* Where the values came from, so that a value found wrong after the
     * load (config_errf) is reported as the loader reports one: the name
     * the loader was given ("" for the defaults alone), and the line that
     * set each key, by the key's place in the table (0: its default). */
    char source[CFG_SOURCE_MAX];
    int line_of[CFG_KEYS_MAX];
} kiosk_config;

/* Fills `c` with the defaults of every key (the table in config.c). */
void config_defaults(kiosk_config *c);

/* Both start from config_defaults() and apply the keys they read. They stop
 * at the first problem and write "<name>:<line>: <what is wrong>" to `err`
 * (NUL-terminated, truncated to `errlen`); a file that cannot be read at all
 * gives "<name>: <why>". On failure `c` is left exactly as it was.
 *
 * config_load_file: `path` names the file and is used as <name>. Anything
 * but a regular file (a FIFO, a directory, a socket, a device) is refused
 * with "<name>: not a regular file (<what it is>)", without blocking: a
 * FIFO would otherwise hold start-up until someone wrote to it.
 * config_load_string: `text` is the whole file, NUL-terminated; `name` is
 * only used in messages. Neither keeps any pointer it was given. */
bool config_load_file(kiosk_config *c, const char *path, char *err, size_t errlen);
bool config_load_string(kiosk_config *c, const char *text, const char *name, char *err, size_t errlen);

/* The line of the loaded file that set [section] name; 0 when the key kept
 * its default or there is no such key. */
int config_line(const kiosk_config *c, const char *section, const char *name);

/* For a value that the load accepted but a program cannot use (a directory
 * that cannot be made, a URL kiosk-sync will not call): writes
 *     "<file>:<line>: [<section>] <name>: <what>"
 * into `err`, the form of the loader's refusals; "<file>: ..." when the key
 * kept its default, and no "<file>: " when nothing was loaded. */
void config_errf(const kiosk_config *c, const char *section, const char *name, char *err,
                 size_t errlen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The rule the loader applies to [terminal] id, for a caller handed a
 * kiosk_config it did not load: 1..63 bytes of printable ASCII, no space.
 * On false, `why` (whylen bytes; may be NULL) says which byte breaks it,
 * in the loader's words. */
bool config_terminal_id_valid(const char *id, char *why, size_t whylen);

#endif
