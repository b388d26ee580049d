/* tenant: which indexed images may serve as a basis for whom.
 *
 * The destination index answers "do you have this block?" implicitly, so a
 * tenant could probe another tenant's disks for known content. Each indexed
 * image therefore carries a tenant label, and a transfer only matches against
 * images of the receiver's tenant plus shared golden images.
 */
#include "disksync/disksync.h"
#include "util/error.h"

#include <string.h>

int ds_tenant_check(const char *label)
{
    size_t n = label ? strlen(label) : 0;
    if (n == 0 || n > DS_TENANT_MAX)
        return err_set("tenant label must be 1..%d characters", DS_TENANT_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = label[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return err_set("tenant label '%s': only letters, digits, '.', '_' and '-'", label);
    }
    return 0;
}

bool ds_tenant_may_serve(const char *image_tenant, bool golden, const char *requester)
{
    if (golden)
        return true;
    return image_tenant && requester && strcmp(image_tenant, requester) == 0;
}
