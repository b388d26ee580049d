/* Unit tests for backend dispatch: unknown schemes and non-URIs are clear errors. */
#include "backend/backend.h"
#include "test.h"
#include "util/util.h"

TEST(unknown_scheme_is_an_error)
{
    CHECK(backend_lookup("vmware://esx1") == NULL);
    CHECK_ERR_HAS("no backend handles URI 'vmware://esx1'");
    CHECK(backend_lookup("not a uri") == NULL);
    CHECK_ERR_HAS("is not a URI");
    struct clock c;
    clock_init_virtual(&c, 0);
    CHECK(backend_open(NULL, 0, &c) == NULL);
    CHECK_ERR_HAS("no backend URI");
}

RUN_TESTS(unknown_scheme_is_an_error)
