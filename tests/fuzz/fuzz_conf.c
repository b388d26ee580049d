/* fuzz_conf: libFuzzer target for the config parser — any bytes must give a
 * conf or an error message naming a line, never a crash or a leak. */
#include "conf/conf.h"
#include "util/error.h"
#include "util/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct conf *c = conf_parse_string(text, "fuzz.conf");
    if (c) {
        /* A conf that parsed is complete and within its ranges. */
        if (c->n_uris == 0 || c->tick_ms < 100 || !c->api_listen || !c->history_path)
            abort();
    } else if (strncmp(err_msg(), "fuzz.conf:", 10) != 0) {
        fprintf(stderr, "error without file:line: %s\n", err_msg());
        abort();
    }
    conf_free(c);
    free(text);
    return 0;
}
