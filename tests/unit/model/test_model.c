/* Unit tests for model/: enum tables, inventory container, bounded names. */
#include "model/model.h"
#include "test.h"
#include "util/util.h"

TEST(inventory_grows_and_finds)
{
    struct inventory inv;
    inventory_init(&inv);
    char name[32];
    for (int i = 0; i < 100; i++) {
        struct host *h = inventory_add_host(&inv);
        snprintf(name, sizeof(name), "host-%d", i);
        CHECK(model_name_set(h->name, sizeof(h->name), name) == 0);
    }
    struct vm *v = inventory_add_vm(&inv);
    CHECK(model_name_set(v->name, sizeof(v->name), "vm-a") == 0);
    CHECK(v->counters.dirty_rate_mib_s < 0);
    CHECK_INT_EQ(inv.n_hosts, 100);
    CHECK(inventory_find_host(&inv, "host-77") == &inv.hosts[77]);
    CHECK(inventory_find_host(&inv, "host-100") == NULL);
    CHECK(inventory_find_vm(&inv, "vm-a") != NULL);
    inventory_clear(&inv);
    CHECK_INT_EQ(inv.n_hosts, 0);
    CHECK(inventory_find_vm(&inv, "vm-a") == NULL);
    inventory_free(&inv);
}

TEST(names_are_bounded)
{
    char dst[8];
    CHECK(model_name_set(dst, sizeof(dst), "1234567") == 0);
    CHECK(model_name_set(dst, sizeof(dst), "12345678") < 0);
    CHECK_ERR_HAS("limit is 7");
}

TEST(enum_tables)
{
    CHECK_STR_EQ(vm_state_str(VM_STATE_MIGRATING), "migrating");
    CHECK_STR_EQ(load_class_str(LOAD_CLASS_IO), "io");
    enum load_class c;
    CHECK(load_class_parse("memory", &c) == 0 && c == LOAD_CLASS_MEMORY);
    CHECK(load_class_parse("gpu", &c) < 0);
}

RUN_TESTS(inventory_grows_and_finds, names_are_bounded, enum_tables)
