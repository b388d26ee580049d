/* hashes: per-block hash arrays, SHA-256 through OpenSSL, the whole-image digest. */
#include "disksync/disksync.h"
#include "util/error.h"
#include "util/mem.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* A fetched SHA-256 and a reusable context: re-initialising a context with a
 * pre-fetched EVP_MD avoids OpenSSL 3's per-call implicit fetch. */
struct ds_hasher {
    EVP_MD *md;
    EVP_MD_CTX *ctx;
};

struct ds_hasher *ds_hasher_new(void)
{
    struct ds_hasher *hs = xcalloc(1, sizeof(*hs));
    hs->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    hs->ctx = EVP_MD_CTX_new();
    if (!hs->md || !hs->ctx)
        abort(); /* like an allocation failure: OpenSSL without SHA-256 */
    return hs;
}

void ds_hasher_free(struct ds_hasher *hs)
{
    if (!hs)
        return;
    EVP_MD_CTX_free(hs->ctx);
    EVP_MD_free(hs->md);
    free(hs);
}

void ds_hasher_sum(struct ds_hasher *hs, const void *buf, size_t len, uint8_t out[DS_HASH_BYTES])
{
    unsigned int n = 0;
    if (EVP_DigestInit_ex2(hs->ctx, hs->md, NULL) != 1 ||
        EVP_DigestUpdate(hs->ctx, buf, len) != 1 || EVP_DigestFinal_ex(hs->ctx, out, &n) != 1)
        abort();
}

bool ds_block_is_zero(const void *block)
{
    const uint64_t *w = block;
    for (size_t i = 0; i < DS_BLOCK_BYTES / sizeof(*w); i++) {
        if (w[i])
            return false;
    }
    return true;
}

int ds_hashes_init(struct ds_hashes *h, uint64_t image_bytes)
{
    memset(h, 0, sizeof(*h));
    if (image_bytes > DS_IMAGE_MAX_BYTES)
        return err_set("image of %llu bytes exceeds the %llu-byte limit",
                       (unsigned long long)image_bytes, (unsigned long long)DS_IMAGE_MAX_BYTES);
    h->image_bytes = image_bytes;
    h->n_blocks = (image_bytes + DS_BLOCK_BYTES - 1) / DS_BLOCK_BYTES;
    h->zero = xcalloc((size_t)(h->n_blocks + 7) / 8 + 1, 1);
    h->hash = xcalloc((size_t)h->n_blocks + 1, DS_HASH_BYTES);
    return 0;
}

void ds_hashes_free(struct ds_hashes *h)
{
    if (!h)
        return;
    free(h->zero);
    free(h->hash);
    h->zero = h->hash = NULL;
    h->n_blocks = h->image_bytes = 0;
}

void ds_hashes_digest(const struct ds_hashes *h, uint8_t out[DS_HASH_BYTES])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t size_le[8];
    for (int i = 0; i < 8; i++)
        size_le[i] = (uint8_t)(h->image_bytes >> (8 * i));
    if (!ctx || EVP_DigestInit_ex2(ctx, EVP_sha256(), NULL) != 1)
        abort();
    EVP_DigestUpdate(ctx, "ARASDS-IMAGE-1", 14);
    EVP_DigestUpdate(ctx, size_le, sizeof(size_le));
    static const uint8_t zero_mark = 0, hash_mark = 1;
    for (uint64_t i = 0; i < h->n_blocks; i++) {
        if (ds_hashes_is_zero(h, i)) {
            EVP_DigestUpdate(ctx, &zero_mark, 1);
        } else {
            EVP_DigestUpdate(ctx, &hash_mark, 1);
            EVP_DigestUpdate(ctx, ds_hashes_at(h, i), DS_HASH_BYTES);
        }
    }
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
}
