// SPDX-License-Identifier: MIT
/*
 * mtia-fw-sign: Ed25519 keys and signatures for mtia-fw images
 * (docs/firmware.md, "Signing"). A host tool, built by firmware/Makefile
 * with the host cc and libsodium.
 *
 *   mtia-fw-sign keygen KEY            new key pair: KEY (secret) and KEY.pub
 *   mtia-fw-sign pubkey KEY            print the public key (64 hex digits)
 *   mtia-fw-sign sign -k KEY -o OUT IN sign an image (re-signs a signed one)
 *   mtia-fw-sign verify -p PUB IMAGE   check an image as the boot ROM would
 *
 * Key files are text: '#' comment lines, then one line of 64 hex digits, the
 * 32-byte Ed25519 seed (KEY) or public key (KEY.pub; what the device
 * property fw-pubkey takes). "sign" sets the header's sig_size, recomputes
 * its SHA-256 digest (header with sha256 zeroed, then payload) and appends a
 * struct mtia_fw_sig whose signature covers the header's header_size bytes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "mtia/mtia_spec.h"

#define MAX_IMAGE (64u << 20)
#define MAX_HEADER 4096u

static const char *prog = "mtia-fw-sign";

static int fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "%s: error: ", prog);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, b, n);
}

/* The first non-comment line of @path as exactly @n bytes of hex. */
static int read_hex_file(const char *path, uint8_t *out, size_t n)
{
    char line[512];
    FILE *f = fopen(path, "r");
    if (!f) return fail("%s: %s", path, strerror(errno));
    const char *why = "no key line (64 hex digits) found";
    while (fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = 0;
        if (len == 0 || line[0] == '#') continue;
        size_t got = 0;
        const char *end = NULL;
        if (len == 2 * n && sodium_hex2bin(out, n, line, len, NULL, &got, &end) == 0 && got == n && !*end)
            why = NULL;
        else
            why = "the key line is not 64 hex digits";
        break;
    }
    fclose(f);
    sodium_memzero(line, sizeof(line));
    return why ? fail("%s: %s", path, why) : 0;
}

/* @arg is 64 hex digits, or a file holding them (a .pub file). */
static int read_pubkey(const char *arg, uint8_t pk[MTIA_FW_PUBKEY_SIZE])
{
    size_t got = 0;
    const char *end = NULL;
    if (strlen(arg) == 2 * MTIA_FW_PUBKEY_SIZE &&
        sodium_hex2bin(pk, MTIA_FW_PUBKEY_SIZE, arg, strlen(arg), NULL, &got, &end) == 0 &&
        got == MTIA_FW_PUBKEY_SIZE && !*end)
        return 0;
    return read_hex_file(arg, pk, MTIA_FW_PUBKEY_SIZE);
}

static int read_key(const char *path, uint8_t pk[crypto_sign_PUBLICKEYBYTES], uint8_t sk[crypto_sign_SECRETKEYBYTES])
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    if (read_hex_file(path, seed, sizeof(seed))) return 1;
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof(seed));
    return 0;
}

static void key_id(const uint8_t pk[MTIA_FW_PUBKEY_SIZE], uint8_t id[MTIA_FW_KEY_ID_SIZE])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, pk, MTIA_FW_PUBKEY_SIZE);
    memcpy(id, h, MTIA_FW_KEY_ID_SIZE);
}

/* Writes @n bytes to @path through a temporary file (never a half file). */
static int write_file(const char *path, const void *data, size_t n, mode_t mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) return fail("%s: %s", path, "path too long");
    FILE *f = fopen(tmp, "wb");
    if (!f) return fail("%s: %s", tmp, strerror(errno));
    int bad = fwrite(data, 1, n, f) != n;
    bad |= fclose(f) != 0;
    if (!bad) bad = chmod(tmp, mode) != 0;
    if (!bad) bad = rename(tmp, path) != 0;
    if (bad) {
        int e = errno;
        remove(tmp);
        return fail("%s: %s", path, strerror(e));
    }
    return 0;
}

static int cmd_keygen(const char *path)
{
    uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t id[MTIA_FW_KEY_ID_SIZE];
    char shex[2 * sizeof(seed) + 1], phex[2 * sizeof(pk) + 1], idhex[2 * sizeof(id) + 1];
    char text[512], pubpath[4096];
    struct stat st;

    if (stat(path, &st) == 0) return fail("%s: %s", path, "exists; not overwriting a key");
    size_t len = strlen(path);
    int n = len > 4 && !strcmp(path + len - 4, ".key")
                ? snprintf(pubpath, sizeof(pubpath), "%.*s.pub", (int)(len - 4), path)
                : snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
    if (n >= (int)sizeof(pubpath)) return fail("%s: %s", path, "path too long");

    randombytes_buf(seed, sizeof(seed));
    crypto_sign_seed_keypair(pk, sk, seed);
    key_id(pk, id);
    hex(seed, sizeof(seed), shex);
    hex(pk, sizeof(pk), phex);
    hex(id, sizeof(id), idhex);
    snprintf(text, sizeof(text),
             "# mtia-fw Ed25519 public key, key id %s.\n"
             "# Devices trust it with the property fw-pubkey=<the line below>.\n%s\n",
             idhex, phex);
    if (write_file(pubpath, text, strlen(text), 0644)) return 1;
    snprintf(text, sizeof(text),
             "# mtia-fw Ed25519 signing key (secret seed), key id %s. Keep it private.\n%s\n", idhex, shex);
    int ret = write_file(path, text, strlen(text), 0600);
    sodium_memzero(text, sizeof(text));
    sodium_memzero(shex, sizeof(shex));
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(sk, sizeof(sk));
    if (!ret) printf("%s: new key pair %s, %s (key id %s)\n", prog, path, pubpath, idhex);
    return ret;
}

static int cmd_pubkey(const char *path)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char phex[2 * sizeof(pk) + 1];
    if (read_key(path, pk, sk)) return 1;
    sodium_memzero(sk, sizeof(sk));
    hex(pk, sizeof(pk), phex);
    printf("%s\n", phex);
    return 0;
}

struct image {
    uint8_t *data;
    size_t size;
    uint32_t header_size, payload_size, sig_size;
};

/* Reads an image and checks the layout fields "sign" and "verify" rely on. */
static int read_image(const char *path, struct image *img)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fail("%s: %s", path, strerror(errno));
    img->data = malloc(MAX_IMAGE + 1);
    img->size = img->data ? fread(img->data, 1, MAX_IMAGE + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!img->data || err) return fail("%s: %s", path, "cannot read");
    if (img->size > MAX_IMAGE) return fail("%s: %s", path, "larger than 64 MiB: not an image");
    if (img->size < MTIA_FW_HEADER_SIZE) return fail("%s: %s", path, "shorter than the image header");
    const uint8_t *h = img->data;
    if (get_le32(h + offsetof(struct mtia_fw_header, magic)) != MTIA_FW_MAGIC)
        return fail("%s: %s", path, "bad magic: not an mtia-fw image");
    if (get_le16(h + offsetof(struct mtia_fw_header, format_version)) != MTIA_FW_FORMAT_VERSION)
        return fail("%s: %s", path, "unknown format_version (repack it with firmware/pack.py)");
    img->header_size = get_le16(h + offsetof(struct mtia_fw_header, header_size));
    img->payload_size = get_le32(h + offsetof(struct mtia_fw_header, payload_size));
    img->sig_size = get_le32(h + offsetof(struct mtia_fw_header, sig_size));
    if (img->header_size < MTIA_FW_HEADER_SIZE || img->header_size > MAX_HEADER || img->header_size % 4)
        return fail("%s: %s", path, "bad header_size");
    if (img->sig_size != 0 && img->sig_size != MTIA_FW_SIG_SIZE) return fail("%s: %s", path, "bad sig_size");
    if ((uint64_t)img->header_size + img->payload_size + img->sig_size != img->size)
        return fail("%s: %s", path, "file size is not header + payload + signature block");
    return 0;
}

static int cmd_sign(const char *keypath, const char *out, const char *in)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    struct image img = {0};
    int ret = 1;
    if (read_key(keypath, pk, sk) || read_image(in, &img)) goto out;

    /* Drop an old signature block; the new one goes where it was. */
    uint8_t *h = img.data;
    size_t body = img.header_size + (size_t)img.payload_size;
    put_le32(h + offsetof(struct mtia_fw_header, sig_size), MTIA_FW_SIG_SIZE);

    uint8_t *sha = h + offsetof(struct mtia_fw_header, sha256);
    crypto_hash_sha256_state st;
    memset(sha, 0, crypto_hash_sha256_BYTES);
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, h, body);
    crypto_hash_sha256_final(&st, sha);

    uint8_t *sig = h + body; /* room: the buffer holds MAX_IMAGE + 1 bytes */
    if (body + MTIA_FW_SIG_SIZE > MAX_IMAGE) {
        fail("%s: %s", in, "no room for the signature block");
        goto out;
    }
    memset(sig, 0, MTIA_FW_SIG_SIZE);
    put_le32(sig + offsetof(struct mtia_fw_sig, magic), MTIA_FW_SIG_MAGIC);
    put_le16(sig + offsetof(struct mtia_fw_sig, alg), MTIA_FW_SIG_ALG_ED25519);
    key_id(pk, sig + offsetof(struct mtia_fw_sig, key_id));
    crypto_sign_detached(sig + offsetof(struct mtia_fw_sig, signature), NULL, h, img.header_size, sk);
    ret = write_file(out, h, body + MTIA_FW_SIG_SIZE, 0644);
    if (!ret) {
        char idhex[2 * MTIA_FW_KEY_ID_SIZE + 1];
        hex(sig + offsetof(struct mtia_fw_sig, key_id), MTIA_FW_KEY_ID_SIZE, idhex);
        printf("%s: %s: signed with key id %s (%zu bytes)\n", prog, out, idhex, body + MTIA_FW_SIG_SIZE);
    }
out:
    sodium_memzero(sk, sizeof(sk));
    free(img.data);
    return ret;
}

/* The boot ROM's signature checks (digest included), in its order. */
static int cmd_verify(const char *pubarg, const char *path)
{
    uint8_t pk[MTIA_FW_PUBKEY_SIZE], id[MTIA_FW_KEY_ID_SIZE], digest[crypto_hash_sha256_BYTES];
    uint8_t hdr[MAX_HEADER];
    struct image img = {0};
    const char *why = NULL;
    if (read_pubkey(pubarg, pk) || read_image(path, &img)) {
        free(img.data);
        return 1;
    }
    const uint8_t *sig = img.data + img.header_size + img.payload_size;
    memcpy(hdr, img.data, img.header_size);
    memset(hdr + offsetof(struct mtia_fw_header, sha256), 0, crypto_hash_sha256_BYTES);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, hdr, img.header_size);
    crypto_hash_sha256_update(&st, img.data + img.header_size, img.payload_size);
    crypto_hash_sha256_final(&st, digest);
    key_id(pk, id);
    if (memcmp(digest, img.data + offsetof(struct mtia_fw_header, sha256), sizeof(digest)))
        why = "SHA-256 digest mismatch";
    else if (!img.sig_size)
        why = "not signed";
    else if (get_le32(sig) != MTIA_FW_SIG_MAGIC || get_le16(sig + 4) != MTIA_FW_SIG_ALG_ED25519 ||
             get_le16(sig + 6) != 0)
        why = "malformed signature block";
    else if (memcmp(sig + offsetof(struct mtia_fw_sig, key_id), id, sizeof(id)))
        why = "signed with another key";
    else if (crypto_sign_verify_detached(sig + offsetof(struct mtia_fw_sig, signature), img.data, img.header_size,
                                         pk))
        why = "bad signature";
    free(img.data);
    if (why) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, why);
        return 1;
    }
    char idhex[2 * sizeof(id) + 1];
    hex(id, sizeof(id), idhex);
    printf("%s: %s: signature ok (key id %s)\n", prog, path, idhex);
    return 0;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: %s keygen KEY | pubkey KEY | sign -k KEY -o OUT IN | verify -p PUBKEY IMAGE\n"
            "  KEY: secret key file (keygen also writes KEY.pub); PUBKEY: 64 hex digits or a .pub file\n",
            prog);
    return 2;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) return fail("%s%s", "libsodium failed to initialise", "");
    if (argc == 3 && !strcmp(argv[1], "keygen")) return cmd_keygen(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "pubkey")) return cmd_pubkey(argv[2]);
    if (argc == 7 && !strcmp(argv[1], "sign") && !strcmp(argv[2], "-k") && !strcmp(argv[4], "-o"))
        return cmd_sign(argv[3], argv[5], argv[6]);
    if (argc == 5 && !strcmp(argv[1], "verify") && !strcmp(argv[2], "-p")) return cmd_verify(argv[3], argv[4]);
    return usage();
}
