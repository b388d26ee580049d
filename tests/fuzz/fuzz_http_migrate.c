/* fuzz_http_migrate: libFuzzer target for the body of POST
 * /api/v1/migrations — any bytes give a request with bounded, terminated
 * names and parameters in range, or a refusal; never a crash. */
#include "http/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HTTP_BODY_MAX)
        return 0;
    struct http_migrate_req r;
    char by[HTTP_BY_MAX];
    if (http_migrate_req_parse((const char *)data, size, &r, by) < 0)
        return 0;
    if (!r.vm[0] || !r.host[0] || strnlen(by, sizeof(by)) == sizeof(by) ||
        strnlen(r.params.dest_uri, sizeof(r.params.dest_uri)) == sizeof(r.params.dest_uri))
        abort();
    if (r.params.max_downtime_ms < 0 || r.params.timeout_ms < 0 ||
        r.params.parallel_connections > 255 || r.params.bandwidth_bytes_per_s < 0 ||
        (!r.params.postcopy && (r.params.postcopy_after_ms || r.params.postcopy_after_rounds)))
        abort();
    return 0;
}
