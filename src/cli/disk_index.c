/* disk_index: `arasctl disk-index` — build or update a host's disk dedup index. */
#include "cli/cli.h"
#include "disksync/disksync.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_INDEX_DIR "/var/lib/aras/disk-index"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: arasctl disk-index [--out DIR] [--tenant T] [--golden] [--json] IMAGE...\n"
            "\n"
            "Build or update this host's dedup index for WAN disk transfers: one hash file\n"
            "per image (a SHA-256 per 4 KiB guest-visible block, zero blocks marked and\n"
            "never hashed). Raw and qcow2 images are read as the guest sees them; holes\n"
            "are skipped. An image whose size, mtime and inode are unchanged is not read.\n"
            "\n"
            "Options:\n"
            "  -o, --out DIR     index directory (default $ARAS_DISK_INDEX or %s)\n"
            "  -t, --tenant T    tenant label of these images (default \"default\"); a\n"
            "                    transfer only matches its own tenant's images\n"
            "  -g, --golden      shared golden images: every tenant may match them\n"
            "  -j, --json        print one JSON object\n"
            "  -h, --help        show this help\n"
            "\n"
            "Afterwards the sampled in-memory table (1/8 of the hashes) is built once and\n"
            "its RAM is printed beside what a table of every block would take.\n"
            "\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n",
            DEFAULT_INDEX_DIR);
}

struct index_opts {
    const char *out, *tenant;
    bool golden, json;
};

static int parse_opts(int argc, char **argv, struct index_opts *o)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'}, {"tenant", required_argument, NULL, 't'},
        {"golden", no_argument, NULL, 'g'},    {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:t:gjh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->out = optarg;
            break;
        case 't':
            o->tenant = optarg;
            break;
        case 'g':
            o->golden = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    return -1;
}

static int print_index_stats(const struct index_opts *o, json_t *root)
{
    struct ds_index *ix = ds_index_open(o->out, o->tenant, 3);
    if (!ix)
        return -1;
    struct ds_index_stats st;
    ds_index_get_stats(ix, &st);
    ds_index_free(ix);
    if (root) {
        json_object_set_new(root, "index",
                            json_pack("{s:I, s:I, s:I, s:I, s:I}", "images", (json_int_t)st.images,
                                      "blocks", (json_int_t)st.blocks, "sampled_entries",
                                      (json_int_t)st.entries, "table_bytes",
                                      (json_int_t)st.table_bytes, "full_table_bytes",
                                      (json_int_t)st.full_table_bytes));
        return 0;
    }
    printf("index %s (tenant %s): %u images, %llu non-zero blocks, %llu sampled entries, "
           "table %.1f KiB (a full table: %.1f KiB)\n",
           o->out, o->tenant, st.images, (unsigned long long)st.blocks,
           (unsigned long long)st.entries, st.table_bytes / 1024.0, st.full_table_bytes / 1024.0);
    return 0;
}

static int run(int argc, char **argv)
{
    struct index_opts o = {.tenant = "default"};
    o.out = getenv("ARAS_DISK_INDEX") ? getenv("ARAS_DISK_INDEX") : DEFAULT_INDEX_DIR;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct clock clk;
    clock_init_real(&clk);
    json_t *root = o.json ? json_object() : NULL;
    json_t *images = o.json ? json_array() : NULL;
    int ret = 0;
    for (int i = optind; i < argc && ret == 0; i++) {
        int64_t t0 = clock_mono_ms(&clk);
        struct ds_index_update up;
        if (ds_index_update_image(o.out, argv[i], o.tenant, o.golden, &up) < 0) {
            err_prefix("%s", argv[i]);
            ret = cli_fail();
            free(up.hashfile);
            break;
        }
        double secs = (double)(clock_mono_ms(&clk) - t0) / 1000.0;
        if (images)
            json_array_append_new(
                images, json_pack("{s:s, s:s, s:s, s:I, s:I, s:f}", "image", argv[i], "action",
                                  ds_index_action_str(up.action), "hashfile", up.hashfile, "blocks",
                                  (json_int_t)up.n_blocks, "zero_blocks",
                                  (json_int_t)up.zero_blocks, "seconds", secs));
        else
            printf("%s: %s, %llu blocks (%llu zero), %.2f s -> %s\n", argv[i],
                   ds_index_action_str(up.action), (unsigned long long)up.n_blocks,
                   (unsigned long long)up.zero_blocks, secs, up.hashfile);
        free(up.hashfile);
    }
    if (ret == 0 && print_index_stats(&o, root) < 0)
        ret = cli_fail();
    if (root && ret == 0) {
        json_object_set_new(root, "images", images);
        images = NULL;
        char *s = json_dumps(root, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
    }
    json_decref(images);
    json_decref(root);
    return ret;
}

const struct cli_command cli_cmd_disk_index = {
    .name = "disk-index",
    .summary = "build/update this host's disk dedup index (hash files)",
    .run = run,
};
