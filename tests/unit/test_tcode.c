/* test_tcode.c - SHA-256, HMAC-SHA256 and PBKDF2 against the published
 * vectors, and the technician code's value format, check and make. */
#include <stdint.h>
#include <time.h>

#include "service/sha256.h"
#include "service/tcode.h"
#include "t.h"

/* Decodes lower-case hex into `out` (room for strlen(hex) / 2 bytes). */
static size_t unhex(const char *hex, unsigned char *out)
{
    size_t n = strlen(hex) / 2;

    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

static void check_digest(const unsigned char *got, const char *want_hex, size_t n, int line)
{
    unsigned char want[64];

    T_EQ_INT(unhex(want_hex, want), n);
    if (memcmp(got, want, n) != 0) {
        fprintf(stderr, "  test_tcode.c:%d: digest differs from %s\n", line, want_hex);
        t_failed_checks++;
    }
}
#define T_DIGEST(got, hex, n) check_digest((got), (hex), (n), __LINE__)

/* ---- SHA-256: FIPS 180-2 appendix B examples ---- */

T_TEST(sha256_fips_vectors)
{
    static const struct { const char *msg; const char *hex; } v[] = {
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    };
    unsigned char d[SHA256_DIGEST_LEN];

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sha256(v[i].msg, strlen(v[i].msg), d);
        T_DIGEST(d, v[i].hex, sizeof d);
    }
    sha256(NULL, 0, d); /* NULL with length 0 is the empty message */
    T_DIGEST(d, v[1].hex, sizeof d);
}

T_TEST(sha256_million_a)
{
    unsigned char chunk[1000], d[SHA256_DIGEST_LEN];
    sha256_ctx c;

    memset(chunk, 'a', sizeof chunk);
    sha256_init(&c);
    for (int i = 0; i < 1000; i++)
        sha256_update(&c, chunk, sizeof chunk);
    sha256_final(&c, d);
    T_DIGEST(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", sizeof d);
}

/* The buffering of partial blocks: every split of the 448-bit message, and
 * byte-at-a-time feeding across the 55/56/64-byte padding edges. */
T_TEST(sha256_any_split)
{
    static const char msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    unsigned char one[SHA256_DIGEST_LEN], split[SHA256_DIGEST_LEN], buf[130];
    size_t n = strlen(msg);
    sha256_ctx c;

    for (size_t cut = 0; cut <= n; cut++) {
        sha256_init(&c);
        sha256_update(&c, msg, cut);
        sha256_update(&c, msg + cut, n - cut);
        sha256_final(&c, split);
        T_DIGEST(split, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", sizeof split);
    }
    for (size_t len = 50; len <= sizeof buf; len++) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)(i * 7 + len);
        sha256(buf, len, one);
        sha256_init(&c);
        for (size_t i = 0; i < len; i++)
            sha256_update(&c, buf + i, 1);
        sha256_final(&c, split);
        T_EQ_MEM(split, one, sizeof one);
    }
}

/* Known answers (Python's hashlib) at the padding edges: 55 bytes is the
 * most that takes the length in the same block, 56 the least that needs a
 * second one. Buffer contents: byte i is (i * 7 + length) & 255. */
T_TEST(sha256_padding_edges)
{
    static const struct { size_t n; const char *hex; } v[] = {
        { 55, "81afe5b788dc2ce138ff83d9b20164db75a94d75d2b2432eea4a0ef605088c72" },
        { 56, "2aba54f0ac632420a2b502431408866e40e1d5e430df4cd822642c78ab2eb9c1" },
        { 63, "733d3d4ee79ee67145bf73da13588f6f235d37414fc64b14a2f00f1762792f5e" },
        { 64, "79322907b3e9d013d7dc2c2f256674dbf733045cde01df3539271c6f5605feb8" },
        { 119, "6c87eedf096b345de205b702e5223b73b447a3207791ded3ea007ba15ed6736e" },
        { 120, "42500cf6a1e3936d6b9e0bcfe296d654b63255e525487d3634d0b15fde591c4d" },
    };
    unsigned char buf[128], d[SHA256_DIGEST_LEN];

    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        for (size_t i = 0; i < v[k].n; i++)
            buf[i] = (unsigned char)(i * 7 + v[k].n);
        sha256(buf, v[k].n, d);
        T_DIGEST(d, v[k].hex, sizeof d);
    }
}

/* Final wipes the context, so a forgotten context holds nothing. */
T_TEST(sha256_final_wipes)
{
    static const unsigned char zero[sizeof(sha256_ctx)];
    unsigned char d[SHA256_DIGEST_LEN];
    sha256_ctx c;

    sha256_init(&c);
    sha256_update(&c, "secret", 6);
    sha256_final(&c, d);
    T_EQ_MEM(&c, zero, sizeof c);
}

/* ---- HMAC-SHA256: RFC 4231 test cases 1-4, 6, 7 ---- */

T_TEST(hmac_rfc4231)
{
    unsigned char key_0b[20], key_aa20[20], key_seq[25], key_aa131[131];
    unsigned char data_dd[50], data_cd[50], mac[SHA256_DIGEST_LEN];
    static const char case6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    static const char case7[] = "This is a test using a larger than block-size key and a larger "
        "than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";

    memset(key_0b, 0x0b, sizeof key_0b);
    memset(key_aa20, 0xaa, sizeof key_aa20);
    for (size_t i = 0; i < sizeof key_seq; i++)
        key_seq[i] = (unsigned char)(i + 1);
    memset(key_aa131, 0xaa, sizeof key_aa131);
    memset(data_dd, 0xdd, sizeof data_dd);
    memset(data_cd, 0xcd, sizeof data_cd);

    const struct {
        const void *key; size_t keylen; const void *data; size_t n; const char *hex;
    } v[] = {
        { key_0b, sizeof key_0b, "Hi There", 8,
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { "Jefe", 4, "what do ya want for nothing?", 28,
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { key_aa20, sizeof key_aa20, data_dd, sizeof data_dd,
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
        { key_seq, sizeof key_seq, data_cd, sizeof data_cd,
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
        { key_aa131, sizeof key_aa131, case6, sizeof case6 - 1,
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
        { key_aa131, sizeof key_aa131, case7, sizeof case7 - 1,
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
    };

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        memset(mac, 0, sizeof mac);
        hmac_sha256(v[i].key, v[i].keylen, v[i].data, v[i].n, mac);
        T_DIGEST(mac, v[i].hex, sizeof mac);
    }
}

T_TEST(hmac_final_wipes)
{
    static const unsigned char zero[sizeof(hmac_sha256_ctx)];
    unsigned char mac[SHA256_DIGEST_LEN];
    hmac_sha256_ctx c;

    hmac_sha256_init(&c, "Jefe", 4);
    hmac_sha256_update(&c, "what do ya want ", 16);
    hmac_sha256_update(&c, "for nothing?", 12);
    hmac_sha256_final(&c, mac);
    T_DIGEST(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", sizeof mac);
    T_EQ_MEM(&c, zero, sizeof c);
}

/* ---- PBKDF2-HMAC-SHA256: RFC 7914 section 11 ---- */

T_TEST(pbkdf2_rfc7914)
{
    unsigned char dk[64];

    T_CHECK(pbkdf2_hmac_sha256("passwd", 6, "salt", 4, 1, dk, sizeof dk));
    T_DIGEST(dk, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                 "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783", sizeof dk);

    T_CHECK(pbkdf2_hmac_sha256("Password", 8, "NaCl", 4, 80000, dk, sizeof dk));
    T_DIGEST(dk, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
                 "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d", sizeof dk);
}

/* A dkLen that is not a multiple of 32 is a prefix of the longer output. */
T_TEST(pbkdf2_partial_block)
{
    unsigned char dk[40];

    memset(dk, 0xee, sizeof dk);
    T_CHECK(pbkdf2_hmac_sha256("passwd", 6, "salt", 4, 1, dk, 33));
    T_DIGEST(dk, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49", 33);
    T_EQ_INT(dk[33], 0xee); /* nothing written past dkLen */
}

T_TEST(pbkdf2_bad_arguments)
{
    unsigned char dk[32], untouched[32];

    memset(dk, 0x5a, sizeof dk);
    memcpy(untouched, dk, sizeof dk);
    T_CHECK(!pbkdf2_hmac_sha256("p", 1, "s", 1, 0, dk, sizeof dk));   /* c = 0 */
    T_CHECK(!pbkdf2_hmac_sha256("p", 1, "s", 1, 1, dk, 0));           /* dkLen 0 */
    T_CHECK(!pbkdf2_hmac_sha256("p", 1, "s", 1, 1, NULL, 32));
    T_CHECK(!pbkdf2_hmac_sha256(NULL, 1, "s", 1, 1, dk, sizeof dk));
    T_CHECK(!pbkdf2_hmac_sha256("p", 1, NULL, 1, 1, dk, sizeof dk));
    T_EQ_MEM(dk, untouched, sizeof dk);
    /* An empty password and salt are allowed (RFC 8018 sets no minimum). */
    T_CHECK(pbkdf2_hmac_sha256(NULL, 0, NULL, 0, 1, dk, sizeof dk));
}

/* ---- tcode ---- */

/* Made with Python: hashlib.pbkdf2_hmac('sha256', b'2468', salt, 1000). */
#define KNOWN_SALT "5c1e9a07d3b28f64a1c0e7d45b9f3268"
#define KNOWN_HASH "f5973c0f43a1dd9085e3e8cae17fbf50c07460ea03b945d3d3089b828d3ce802"
#define KNOWN "pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_HASH

T_TEST(tcode_parse_good)
{
    static const char salt64[] = "9f8e7d6c5b4a39281706f5e4d3c2b1a0" "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    char text[TCODE_TEXT_MAX + 8], err[160] = "";
    unsigned char want[TCODE_SALT_MAX];
    tcode t;

    T_CHECK(tcode_parse(KNOWN, &t, err, sizeof err));
    T_EQ_STR(err, "");
    T_EQ_INT(t.iterations, 1000);
    T_EQ_INT(t.salt_len, 16);
    T_DIGEST(t.salt, KNOWN_SALT, 16);
    T_DIGEST(t.hash, KNOWN_HASH, 32);
    T_CHECK(tcode_check(&t, "2468"));

    /* The longest value taken: the most iterations and salt. */
    snprintf(text, sizeof text, "pbkdf2-sha256$%u$%s$%s", TCODE_ITER_MAX, salt64, KNOWN_HASH);
    T_CHECK(strlen(text) < TCODE_TEXT_MAX);
    T_CHECK(tcode_parse(text, &t, err, sizeof err));
    T_EQ_INT(t.iterations, TCODE_ITER_MAX);
    T_EQ_INT(t.salt_len, 32);
    unhex(salt64, want);
    T_EQ_MEM(t.salt, want, 32);

    /* err may be NULL */
    T_CHECK(tcode_parse(KNOWN, &t, NULL, 0));
}

/* A bad value: the text, a word its message must hold. */
static const struct { const char *text; const char *want; } bad_values[] = {
    { "", "no code_hash" },
    { "sha256$1000$" KNOWN_SALT "$" KNOWN_HASH, "must start with" },
    { "PBKDF2-SHA256$1000$" KNOWN_SALT "$" KNOWN_HASH, "must start with" },
    { " pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_HASH, "must start with" },
    { "pbkdf2-sha256", "must start with" },
    { "pbkdf2-sha256$", "iterations" },
    { "pbkdf2-sha256$999$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$10000001$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$99999999$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$100000000$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$4294968296$" KNOWN_SALT "$" KNOWN_HASH, "iterations" }, /* 2^32 + 1000 */
    { "pbkdf2-sha256$01000$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$+1000$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$-1000$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$ 1000$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$1000 $" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$1e4$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$$" KNOWN_SALT "$" KNOWN_HASH, "iterations" },
    { "pbkdf2-sha256$1000", "iterations" },
    { "pbkdf2-sha256$1000$", "ends after the salt" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT, "ends after the salt" },
    { "pbkdf2-sha256$1000$$" KNOWN_HASH, "salt must be an even number" },
    { "pbkdf2-sha256$1000$5c1e9a07d3b28f$" KNOWN_HASH, "not 14" },
    { "pbkdf2-sha256$1000$5c1e9a07d3b28f64a$" KNOWN_HASH, "not 17" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT KNOWN_SALT "ab$" KNOWN_HASH, "not 66" },
    { "pbkdf2-sha256$1000$5C1E9A07D3B28F64A1C0E7D45B9F3268$" KNOWN_HASH, "salt has a character" },
    { "pbkdf2-sha256$1000$5c1e9a07d3b28f64a1c0e7d45b9f326g$" KNOWN_HASH, "position 32" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT "$", "exactly 64 hex characters, not 0" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT "$f5973c0f43a1dd9085e3e8cae17fbf50c07460ea03b945d3d3089b828d3ce80",
      "not 63" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_HASH "2", "not 65" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_HASH " ", "not 65" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT "$F5973C0F43A1DD9085E3E8CAE17FBF50C07460EA03B945D3D3089B828D3CE802",
      "hash has a character" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT "$f5973c0f43a1dd9085e3e8cae17fbf50 07460ea03b945d3d3089b828d3ce802",
      "position 33" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_HASH "$", "more than four" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_HASH "$00", "more than four" },
    { "pbkdf2-sha256$1000$" KNOWN_SALT "$" KNOWN_HASH KNOWN_HASH KNOWN_HASH, "longer than 152" },
};

/* True when some 8-character run of `secret` appears in `msg`. */
static int leaks(const char *msg, const char *secret)
{
    size_t n = strlen(secret);

    for (size_t i = 0; i + 8 <= n; i++) {
        char run[9];
        memcpy(run, secret + i, 8);
        run[8] = '\0';
        if (strstr(msg, run) != NULL)
            return 1;
    }
    return 0;
}

T_TEST(tcode_parse_bad)
{
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        char err[160] = "";
        const char *text = bad_values[i].text;
        const char *last = strrchr(text, '$');
        tcode t, before;

        memset(&t, 0xa5, sizeof t);
        before = t;
        if (tcode_parse(text, &t, err, sizeof err)) {
            fprintf(stderr, "  case %zu: \"%s\" was accepted\n", i, text);
            t_failed_checks++;
            continue;
        }
        if (strstr(err, bad_values[i].want) == NULL) {
            fprintf(stderr, "  case %zu: \"%s\" lacks \"%s\"\n", i, err, bad_values[i].want);
            t_failed_checks++;
        }
        T_EQ_MEM(&t, &before, sizeof t); /* *out untouched */
        /* The message never repeats the salt or the hash. */
        T_CHECK(!leaks(err, KNOWN_HASH));
        T_CHECK(!leaks(err, KNOWN_SALT));
        if (last != NULL && leaks(err, last + 1)) {
            fprintf(stderr, "  case %zu: \"%s\" repeats the value\n", i, err);
            t_failed_checks++;
        }
        /* No room for a message, or a tiny one: still refused, no overrun. */
        T_CHECK(!tcode_parse(text, &t, NULL, 0));
        T_CHECK(!tcode_parse(text, &t, err, 4));
        T_EQ_INT(strlen(err), 3);
    }
}

T_TEST(tcode_parse_null)
{
    char err[160] = "";
    tcode t;

    T_CHECK(!tcode_parse(NULL, &t, err, sizeof err));
    T_CHECK(strstr(err, "no code_hash") != NULL);
}

/* The hash part's own text never appears in the error, however it is bad. */
T_TEST(tcode_error_never_echoes_hash)
{
    static const char *const hashes[] = {
        "0123456789ABCDEFfedcba9876543210" "0123456789abcdeffedcba9876543210",  /* upper case */
        "0123456789abcdeffedcba9876543210" "0123456789abcdeffedcba987654321",   /* 63 */
        "0123456789abcdeffedcba9876543210" "0123456789abcdeffedcba98765432100", /* 65 */
        "0123456789abcdeffedcba9876543210" "0123456789abcdeffedcba98765432 0",  /* space */
    };
    char text[256], err[160];
    tcode t;

    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
        snprintf(text, sizeof text, "pbkdf2-sha256$1000$%s$%s", KNOWN_SALT, hashes[i]);
        err[0] = '\0';
        T_CHECK(!tcode_parse(text, &t, err, sizeof err));
        T_CHECK(strlen(err) > 0);
        T_CHECK(strstr(err, "hash") != NULL);
        T_CHECK(!leaks(err, hashes[i]));
    }
}

T_TEST(tcode_code_valid_table)
{
    static const struct { const char *code; int ok; } v[] = {
        { "0000", 1 }, { "1234", 1 }, { "0123456789012345", 1 },
        { NULL, 0 }, { "", 0 }, { "123", 0 }, { "01234567890123456", 0 },
        { "12a4", 0 }, { "12 4", 0 }, { " 1234", 0 }, { "1234 ", 0 }, { "1234\n", 0 },
        { "-1234", 0 }, { "+1234", 0 }, { "１２３４", 0 }, /* full-width digits */
        { "123456789012345678901234567890123456789012345678901234567890", 0 },
    };

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (tcode_code_valid(v[i].code) != v[i].ok) {
            fprintf(stderr, "  code %zu (\"%s\"): expected %s\n", i,
                    v[i].code ? v[i].code : "(null)", v[i].ok ? "valid" : "invalid");
            t_failed_checks++;
        }
}

T_TEST(tcode_round_trip)
{
    char value[TCODE_TEXT_MAX], err[160] = "";
    tcode t;

    T_EQ_INT(tcode_make("0815", TCODE_ITER_MIN, value, sizeof value), TCODE_OK);
    T_EQ_INT(strlen(value), 14 + 4 + 1 + 32 + 1 + 64);
    T_CHECK(strncmp(value, "pbkdf2-sha256$1000$", 19) == 0);
    T_CHECK(tcode_parse(value, &t, err, sizeof err));
    T_EQ_STR(err, "");
    T_EQ_INT(t.iterations, 1000);
    T_EQ_INT(t.salt_len, TCODE_SALT_MAKE);
    T_CHECK(tcode_check(&t, "0815"));
    T_CHECK(!tcode_check(&t, "0816"));
    T_CHECK(!tcode_check(&t, "5180"));
    T_CHECK(!tcode_check(&t, "08150"));
    T_CHECK(!tcode_check(&t, "081"));

    /* The default cost, as the tool makes it. */
    T_EQ_INT(tcode_make("20240517", TCODE_ITER_DEFAULT, value, sizeof value), TCODE_OK);
    T_CHECK(tcode_parse(value, &t, err, sizeof err));
    T_EQ_INT(t.iterations, TCODE_ITER_DEFAULT);
    T_CHECK(tcode_check(&t, "20240517"));
    T_CHECK(!tcode_check(&t, "20240518"));
}

/* A fresh salt each time: the same code gives different values, and each
 * still checks. */
T_TEST(tcode_salt_is_random)
{
    char a[TCODE_TEXT_MAX], b[TCODE_TEXT_MAX];
    tcode ta, tb;

    T_EQ_INT(tcode_make("1234", TCODE_ITER_MIN, a, sizeof a), TCODE_OK);
    T_EQ_INT(tcode_make("1234", TCODE_ITER_MIN, b, sizeof b), TCODE_OK);
    T_CHECK(strcmp(a, b) != 0);
    T_CHECK(tcode_parse(a, &ta, NULL, 0));
    T_CHECK(tcode_parse(b, &tb, NULL, 0));
    T_CHECK(memcmp(ta.salt, tb.salt, TCODE_SALT_MAKE) != 0);
    T_CHECK(memcmp(ta.hash, tb.hash, TCODE_HASH_LEN) != 0);
    T_CHECK(tcode_check(&ta, "1234"));
    T_CHECK(tcode_check(&tb, "1234"));
}

T_TEST(tcode_wrong_code)
{
    tcode t;

    T_CHECK(tcode_parse(KNOWN, &t, NULL, 0));
    T_CHECK(tcode_check(&t, "2468"));
    T_CHECK(!tcode_check(&t, "2467"));
    T_CHECK(!tcode_check(&t, "0000"));
    T_CHECK(!tcode_check(&t, "24680"));
    /* One bit off in the stored hash, in the last byte: the whole key counts. */
    t.hash[TCODE_HASH_LEN - 1] ^= 0x01;
    T_CHECK(!tcode_check(&t, "2468"));
    t.hash[TCODE_HASH_LEN - 1] ^= 0x01;
    t.salt[0] ^= 0x80;
    T_CHECK(!tcode_check(&t, "2468"));
}

T_TEST(tcode_check_refuses_bad_codes)
{
    char value[TCODE_TEXT_MAX];
    tcode t, zero;

    /* A 16-digit code: a longer guess that starts with it must not pass. */
    T_EQ_INT(tcode_make("1234567890123456", TCODE_ITER_MIN, value, sizeof value), TCODE_OK);
    T_CHECK(tcode_parse(value, &t, NULL, 0));
    T_CHECK(tcode_check(&t, "1234567890123456"));
    T_CHECK(!tcode_check(&t, "12345678901234567"));
    T_CHECK(!tcode_check(&t, "1234567890123456 "));
    T_CHECK(!tcode_check(&t, "1234567890123456\n"));
    T_CHECK(!tcode_check(&t, "123456789012345612345678901234561234567890123456"));

    T_CHECK(tcode_parse(KNOWN, &t, NULL, 0));
    T_CHECK(!tcode_check(&t, NULL));
    T_CHECK(!tcode_check(&t, ""));
    T_CHECK(!tcode_check(&t, "246"));
    T_CHECK(!tcode_check(&t, "24a8"));
    T_CHECK(!tcode_check(&t, "2468\n"));
    T_CHECK(!tcode_check(&t, " 2468"));
    T_CHECK(!tcode_check(NULL, "2468"));

    /* Not from tcode_parse: refused rather than checked cheaply or read
     * out of bounds, even when the hash is right for what the struct says. */
    memset(&zero, 0, sizeof zero);
    T_CHECK(!tcode_check(&zero, "2468"));
    zero = t;
    zero.iterations = 1;
    T_CHECK(pbkdf2_hmac_sha256("2468", 4, zero.salt, zero.salt_len, 1, zero.hash, TCODE_HASH_LEN));
    T_CHECK(!tcode_check(&zero, "2468"));
    zero.iterations = TCODE_ITER_MIN - 1;
    T_CHECK(pbkdf2_hmac_sha256("2468", 4, zero.salt, zero.salt_len, zero.iterations,
                               zero.hash, TCODE_HASH_LEN));
    T_CHECK(!tcode_check(&zero, "2468"));
    zero = t;
    zero.salt_len = TCODE_SALT_MIN - 1;
    T_CHECK(pbkdf2_hmac_sha256("2468", 4, zero.salt, zero.salt_len, zero.iterations,
                               zero.hash, TCODE_HASH_LEN));
    T_CHECK(!tcode_check(&zero, "2468"));
    zero.salt_len = TCODE_SALT_MAX + 1;
    T_CHECK(!tcode_check(&zero, "2468"));
    zero.salt_len = (size_t)-1;
    T_CHECK(!tcode_check(&zero, "2468"));
}

T_TEST(tcode_make_errors)
{
    char value[TCODE_TEXT_MAX];
    static const char *const bad_codes[] = {
        NULL, "", "123", "12a4", "12345678901234567", " 1234", "1234\n",
    };

    for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
        strcpy(value, "junk");
        T_EQ_INT(tcode_make(bad_codes[i], TCODE_ITER_MIN, value, sizeof value), TCODE_BAD_CODE);
        T_EQ_STR(value, "");
    }
    strcpy(value, "junk");
    T_EQ_INT(tcode_make("1234", TCODE_ITER_MIN - 1, value, sizeof value), TCODE_BAD_ITERATIONS);
    T_EQ_STR(value, "");
    T_EQ_INT(tcode_make("1234", TCODE_ITER_MAX + 1, value, sizeof value), TCODE_BAD_ITERATIONS);
    T_EQ_INT(tcode_make("1234", 0, value, sizeof value), TCODE_BAD_ITERATIONS);
    strcpy(value, "junk");
    T_EQ_INT(tcode_make("1234", TCODE_ITER_MIN, value, TCODE_TEXT_MAX - 1), TCODE_NO_ROOM);
    T_EQ_STR(value, "");
    T_EQ_INT(tcode_make("1234", TCODE_ITER_MIN, NULL, 0), TCODE_NO_ROOM);
    T_EQ_INT(tcode_make("1234", TCODE_ITER_MIN, NULL, 500), TCODE_NO_ROOM);
}

T_TEST(tcode_strerror_table)
{
    T_EQ_STR(tcode_strerror(TCODE_OK), "ok");
    T_CHECK(strstr(tcode_strerror(TCODE_BAD_CODE), "4 to 16 digits") != NULL);
    T_CHECK(strstr(tcode_strerror(TCODE_BAD_ITERATIONS), "1000") != NULL);
    T_CHECK(strstr(tcode_strerror(TCODE_NO_ROOM), "too small") != NULL);
    T_CHECK(strstr(tcode_strerror(TCODE_NO_RANDOM), "random") != NULL);
    T_CHECK(strstr(tcode_strerror((tcode_status)99), "unknown") != NULL);
}

/* The kiosk checks a code on its main thread, so the cost a config may ask
 * for is bounded at load: 10,000,000 iterations was accepted and a check
 * then held the main thread for 4.6 s (the watchdog is 10 s). The bound and
 * its figures are in tcode.h. */
T_TEST(tcode_iteration_bound)
{
    static const struct { const char *iterations; bool ok; } cases[] = {
        { "1000", true }, { "150000", true }, { "250000", true },
        { "999", false }, { "250001", false }, { "300000", false }, { "1000000", false },
        { "10000000", false },
    };
    char text[TCODE_TEXT_MAX + 8], err[160], value[TCODE_TEXT_MAX];
    tcode t;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, "pbkdf2-sha256$%s$" KNOWN_SALT "$" KNOWN_HASH, cases[i].iterations);
        err[0] = '\0';
        if (tcode_parse(text, &t, err, sizeof err) != cases[i].ok) {
            fprintf(stderr, "  %s iterations: expected %s\n", cases[i].iterations,
                    cases[i].ok ? "accepted" : "refused");
            t_failed_checks++;
        }
        if (!cases[i].ok)
            T_EQ_STR(err, "code_hash iterations must be a decimal number from 1000 to 250000, "
                          "followed by '$'");
    }
    T_EQ_STR(tcode_strerror(TCODE_BAD_ITERATIONS), "iterations must be from 1000 to 250000");
    /* The sentence is written out in tcode.c: it must say the macros' figures. */
    snprintf(text, sizeof text, "iterations must be from %u to %u", TCODE_ITER_MIN, TCODE_ITER_MAX);
    T_EQ_STR(tcode_strerror(TCODE_BAD_ITERATIONS), text);
    T_CHECK(TCODE_ITER_DEFAULT >= TCODE_ITER_MIN && TCODE_ITER_DEFAULT <= TCODE_ITER_MAX);
    T_EQ_INT(tcode_make("20240517", 250001, value, sizeof value), TCODE_BAD_ITERATIONS);

#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
    /* The dearest hash the loader takes checks in well under a second here
     * (about 130 ms; the bound keeps it at or under ~250 ms even with the
     * machine busy). A sanitizer or -O0 build is several times slower and
     * says nothing about the terminal, so only optimised builds time it. */
    struct timespec t0, t1;
    double ms;

    T_EQ_INT(tcode_make("20240517", TCODE_ITER_MAX, value, sizeof value), TCODE_OK);
    T_CHECK(tcode_parse(value, &t, err, sizeof err));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    T_CHECK(!tcode_check(&t, "20240518"));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("# one check at %u iterations: %.1f ms\n", TCODE_ITER_MAX, ms);
    T_CHECK(ms < 1000.0);
#endif
}

T_MAIN(T_CASE(sha256_fips_vectors), T_CASE(sha256_million_a), T_CASE(sha256_any_split), T_CASE(sha256_padding_edges),
       T_CASE(sha256_final_wipes), T_CASE(hmac_rfc4231), T_CASE(hmac_final_wipes),
       T_CASE(pbkdf2_rfc7914), T_CASE(pbkdf2_partial_block), T_CASE(pbkdf2_bad_arguments),
       T_CASE(tcode_parse_good), T_CASE(tcode_parse_bad), T_CASE(tcode_parse_null),
       T_CASE(tcode_error_never_echoes_hash), T_CASE(tcode_code_valid_table),
       T_CASE(tcode_round_trip), T_CASE(tcode_salt_is_random), T_CASE(tcode_wrong_code),
       T_CASE(tcode_check_refuses_bad_codes), T_CASE(tcode_make_errors),
       T_CASE(tcode_strerror_table), T_CASE(tcode_iteration_bound))
