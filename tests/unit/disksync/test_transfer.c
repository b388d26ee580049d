/* test_transfer: whole transfers between local paths through the real
 * protocol — dedup counts, corruption in transit and in the basis, resume
 * after the receiver is killed, qcow2 sources, tenant isolation. */
#include "disksync/dsint.h"
#include "dstest.h"
#include "test.h"

#include <pthread.h>

#define NB 8192 /* 32 MiB */

static uint64_t base_content(uint64_t i, void *arg)
{
    (void)arg;
    return (i >= 2000 && i < 2500) ? 0 : i + 1;
}

/* Shares most blocks with base; 300 new blocks, of which blocks 7000..7099
 * repeat 6000..6099 (duplicates inside the image) and a zero run. */
static uint64_t src_content(uint64_t i, void *arg)
{
    (void)arg;
    if (i >= 6000 && i < 6200)
        return 100000 + i;
    if (i >= 7000 && i < 7100)
        return 100000 + i - 1000;
    if (i >= 7100 && i < 7200)
        return 100000 + i;
    if (i >= 3000 && i < 3100)
        return 0;
    return base_content(i, NULL);
}

struct fixture {
    char *dir, *base, *src, *idx, *out;
};

static void fixture_init(struct fixture *f)
{
    f->dir = dst_tmpdir();
    f->base = xasprintf("%s/base.img", f->dir);
    f->src = xasprintf("%s/src.img", f->dir);
    f->idx = xasprintf("%s/idx", f->dir);
    f->out = xasprintf("%s/out.img", f->dir);
    CHECK(dst_make_image(f->base, NB, base_content, NULL) == 0);
    CHECK(dst_make_image(f->src, NB, src_content, NULL) == 0);
    struct ds_index_update up;
    CHECK(ds_index_update_image(f->idx, f->base, "acme", false, &up) == 0);
    free(up.hashfile);
}

static void fixture_fini(struct fixture *f)
{
    dst_rmdir(f->dir);
    free(f->dir);
    free(f->base);
    free(f->src);
    free(f->idx);
    free(f->out);
}

static void check_sum(const struct ds_sync_stats *st)
{
    CHECK_INT_EQ(st->zero_blocks + st->matched_blocks + st->missing_blocks + st->duplicate_blocks +
                     st->resumed_blocks,
                 st->n_blocks);
}

TEST(transfer_dedups_and_verifies)
{
    struct fixture f;
    fixture_init(&f);
    struct ds_sync_stats st;
    CHECK(dst_transfer(f.src, f.out, f.idx, "acme", &st, NULL, NULL) == 0);
    CHECK(dst_same_file(f.src, f.out));
    check_sum(&st);
    CHECK_INT_EQ(st.missing_blocks, 300);   /* 6000..6199 and 7100..7199, each once */
    CHECK_INT_EQ(st.duplicate_blocks, 100); /* 7000..7099 copied from 6000..6099 */
    CHECK_INT_EQ(st.zero_blocks, 600);
    CHECK_INT_EQ(st.basis_bad_blocks, 0);
    /* Random blocks do not compress: ~4 KiB each, plus ~32 bytes a block of manifest. */
    CHECK(st.wire_bytes_sent < 300 * 4200 + NB * 40);
    CHECK(st.wire_bytes_sent > 300 * 4000);
    /* Without an index, every distinct non-zero block travels. */
    AUTOFREE char *out2 = xasprintf("%s/out2.img", f.dir);
    CHECK(dst_transfer(f.src, out2, NULL, "acme", &st, NULL, NULL) == 0);
    CHECK(dst_same_file(f.src, out2));
    CHECK_INT_EQ(st.missing_blocks, NB - 600 - 100);
    fixture_fini(&f);
}

TEST(tenant_isolation)
{
    struct fixture f;
    fixture_init(&f);
    struct ds_sync_stats st;
    CHECK(dst_transfer(f.src, f.out, f.idx, "globex", &st, NULL, NULL) == 0);
    CHECK(dst_same_file(f.src, f.out));
    CHECK_INT_EQ(st.matched_blocks, 0); /* acme's image is not a basis for globex */
    fixture_fini(&f);
}

TEST(receiver_size_limit)
{
    struct fixture f;
    fixture_init(&f);
    struct ds_sync_stats st;
    dst_recv_max_bytes = 16 << 20;
    CHECK(dst_transfer(f.src, f.out, f.idx, "acme", &st, NULL, NULL) < 0);
    CHECK_ERR_HAS("exceeds this receiver's limit");
    dst_recv_max_bytes = 0;
    CHECK(access(f.out, F_OK) != 0);
    fixture_fini(&f);
}

/* A relay between sender and receiver that flips one byte in the middle of
 * the first DATA frame it forwards. */
struct relay {
    int from, to;
    bool flip;
};

static void *relay_main(void *arg)
{
    struct relay *r = arg;
    uint8_t *buf = xmalloc(DS_FRAME_MAX + DS_FRAME_HDR);
    bool flipped = false;
    for (;;) {
        size_t hdr = 0;
        while (hdr < DS_FRAME_HDR) {
            ssize_t k = read(r->from, buf + hdr, DS_FRAME_HDR - hdr);
            if (k <= 0)
                break;
            hdr += (size_t)k;
        }
        if (hdr < DS_FRAME_HDR)
            break;
        size_t len = (size_t)buf[1] << 24 | buf[2] << 16 | buf[3] << 8 | buf[4], got = 0;
        while (got < len && len <= DS_FRAME_MAX) {
            ssize_t k = read(r->from, buf + DS_FRAME_HDR + got, len - got);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        if (r->flip && !flipped && buf[0] == DS_FRAME_DATA && len > 1000) {
            buf[DS_FRAME_HDR + len / 2] ^= 0x10;
            flipped = true;
        }
        if (write(r->to, buf, DS_FRAME_HDR + got) < 0)
            break;
    }
    shutdown(r->to, SHUT_WR);
    free(buf);
    return NULL;
}

static int relayed_transfer(const struct fixture *f, struct ds_sync_stats *st)
{
    int a[2], b[2];
    signal(SIGPIPE, SIG_IGN);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, a) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, b) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(a[0]);
        close(a[1]);
        close(b[0]);
        struct ds_recv_opts ro = {
            .dest = f->out, .index_dir = f->idx, .tenant = "acme", .sample_shift = 3};
        struct ds_sync_stats rst;
        _exit(ds_receive(&ro, b[1], b[1], &rst) < 0 ? 1 : 0);
    }
    close(b[1]);
    struct relay down = {.from = a[1], .to = b[0], .flip = true};
    struct relay up = {.from = b[0], .to = a[1], .flip = false};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, relay_main, &down);
    pthread_create(&t2, NULL, relay_main, &up);
    struct ds_send_opts so = {.image = f->src, .tenant = "acme"};
    int rc = ds_send(&so, a[0], a[0], st);
    AUTOFREE char *msg = xstrdup(err_msg());
    shutdown(a[0], SHUT_RDWR);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    int status;
    waitpid(pid, &status, 0);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    err_set("%s", msg);
    return rc;
}

TEST(flipped_byte_in_transit_is_caught)
{
    struct fixture f;
    fixture_init(&f);
    struct ds_sync_stats st;
    CHECK(relayed_transfer(&f, &st) < 0);
    CHECK_ERR_HAS("corrupted in transit");
    CHECK(access(f.out, F_OK) != 0); /* nothing half-verified is ever renamed into place */
    /* A clean retry resumes and completes. */
    CHECK(dst_transfer(f.src, f.out, f.idx, "acme", &st, NULL, NULL) == 0);
    CHECK(dst_same_file(f.src, f.out));
    check_sum(&st);
    fixture_fini(&f);
}

TEST(flipped_byte_in_basis_is_caught)
{
    struct fixture f;
    fixture_init(&f);
    /* Corrupt one base block after indexing, keeping its mtime: the index
     * still believes it. */
    struct stat st0;
    CHECK(stat(f.base, &st0) == 0);
    int fd = open(f.base, O_RDWR);
    uint8_t c;
    CHECK(pread(fd, &c, 1, 4000 * DS_BLOCK_BYTES + 17) == 1);
    c ^= 0x01;
    CHECK(pwrite(fd, &c, 1, 4000 * DS_BLOCK_BYTES + 17) == 1);
    struct timespec ts[2] = {st0.st_atim, st0.st_mtim};
    futimens(fd, ts);
    close(fd);
    struct ds_sync_stats st;
    CHECK(dst_transfer(f.src, f.out, f.idx, "acme", &st, NULL, NULL) == 0);
    CHECK(dst_same_file(f.src, f.out));
    CHECK_INT_EQ(st.basis_bad_blocks, 1);
    CHECK_INT_EQ(st.missing_blocks, 301); /* the bad block was sent instead */
    check_sum(&st);
    fixture_fini(&f);
}

static uint64_t unique_content(uint64_t i, void *arg)
{
    (void)arg;
    return i % 3 == 2 ? 0 : 300000 + i;
}

static bool killed;
static void kill_at_three_quarters(const struct ds_sync_stats *st, void *arg)
{
    pid_t *pid = arg;
    if (!killed && st->data_blocks_requested &&
        st->data_blocks_sent * 4 >= st->data_blocks_requested * 3) {
        kill(*pid, SIGKILL);
        killed = true;
    }
}

TEST(resume_after_receiver_killed)
{
    AUTOFREE char *dir = dst_tmpdir();
    AUTOFREE char *src = xasprintf("%s/src.img", dir);
    AUTOFREE char *out = xasprintf("%s/out.img", dir);
    AUTOFREE char *ref = xasprintf("%s/ref.img", dir);
    CHECK(dst_make_image(src, 3 * 4096, unique_content, NULL) == 0); /* 48 MiB, 8192 data */
    struct ds_sync_stats full, first, second;
    CHECK(dst_transfer(src, ref, NULL, "t", &full, NULL, NULL) == 0);
    pid_t pid = 0;
    CHECK(dst_transfer(src, out, NULL, "t", &first, kill_at_three_quarters, &pid) < 0);
    CHECK(killed);
    CHECK(access(out, F_OK) != 0);
    CHECK(dst_transfer(src, out, NULL, "t", &second, NULL, NULL) == 0);
    printf("resume: full %llu wire bytes, after kill %llu (resumed %llu blocks, sent %llu)\n",
           (unsigned long long)(full.wire_bytes_sent + full.wire_bytes_received),
           (unsigned long long)(second.wire_bytes_sent + second.wire_bytes_received),
           (unsigned long long)second.resumed_blocks, (unsigned long long)second.missing_blocks);
    CHECK(second.resumed_blocks >= 2048);
    CHECK(second.wire_bytes_sent < full.wire_bytes_sent - 2048 * DS_BLOCK_BYTES);
    check_sum(&second);
    CHECK(dst_same_file(src, out));
    CHECK(dst_same_file(src, ref));
    AUTOFREE char *journal = xasprintf("%s.dsjournal", out);
    CHECK(access(journal, F_OK) != 0);
    dst_rmdir(dir);
}

TEST(qcow2_source_same_as_raw)
{
    if (system("qemu-img --version >/dev/null 2>&1") != 0 ||
        system("qemu-nbd --version >/dev/null 2>&1") != 0) {
        printf("SKIP qcow2_source_same_as_raw: qemu-img/qemu-nbd not installed\n");
        return;
    }
    struct fixture f;
    fixture_init(&f);
    AUTOFREE char *q = xasprintf("%s/src.qcow2", f.dir);
    AUTOFREE char *cmd = xasprintf("qemu-img convert -f raw -O qcow2 '%s' '%s'", f.src, q);
    CHECK(system(cmd) == 0);
    struct ds_image *raw = ds_image_open(f.src), *qc = ds_image_open(q);
    CHECK(raw && qc);
    CHECK_STR_EQ(ds_image_format(qc), "qcow2");
    CHECK_INT_EQ(ds_image_size_bytes(qc), ds_image_size_bytes(raw));
    /* Block status skips the zero run at 2000..2499. */
    uint64_t d_off, d_end;
    CHECK(ds_image_next_data(qc, 2000ull * DS_BLOCK_BYTES, &d_off, &d_end) == 1);
    CHECK(d_off > 2000ull * DS_BLOCK_BYTES && d_off <= 2500ull * DS_BLOCK_BYTES); /* clusters */
    struct ds_hashes hr, hq;
    CHECK(ds_image_hash(raw, &hr) == 0);
    CHECK(ds_image_hash(qc, &hq) == 0);
    uint8_t dr[32], dq[32];
    ds_hashes_digest(&hr, dr);
    ds_hashes_digest(&hq, dq);
    CHECK(memcmp(dr, dq, 32) == 0);
    ds_image_close(raw);
    ds_image_close(qc);
    ds_hashes_free(&hr);
    ds_hashes_free(&hq);
    struct ds_sync_stats st;
    CHECK(dst_transfer(q, f.out, f.idx, "acme", &st, NULL, NULL) == 0);
    CHECK(dst_same_file(f.src, f.out));
    CHECK_INT_EQ(st.missing_blocks, 300);
    fixture_fini(&f);
}

RUN_TESTS(transfer_dedups_and_verifies, tenant_isolation, receiver_size_limit,
          flipped_byte_in_transit_is_caught, flipped_byte_in_basis_is_caught,
          resume_after_receiver_killed, qcow2_source_same_as_raw)
