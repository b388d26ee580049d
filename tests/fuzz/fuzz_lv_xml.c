/* fuzz_lv_xml: libFuzzer target for what the libvirt backend reads from domain
 * XML (device targets, the memory hot-plug ceiling) — any text must give
 * bounded results, never a crash or an over-long name. */
#include "backend/libvirt/lv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *xml = malloc(size + 1);
    if (!xml)
        return 0;
    memcpy(xml, data, size);
    xml[size] = '\0';
    char names[8][32];
    static const char *const elems[] = {"disk", "interface"};
    for (size_t e = 0; e < 2; e++) {
        size_t n = lv_xml_targets(xml, elems[e], names, 8);
        if (n > 8)
            abort();
        for (size_t i = 0; i < n; i++) {
            if (strnlen(names[i], sizeof(names[i])) == sizeof(names[i]))
                abort();
        }
    }
    struct lv_memcaps caps;
    if (lv_xml_memory_caps(xml, &caps) == 0 && caps.slots > 256)
        abort();
    free(xml);
    return 0;
}
