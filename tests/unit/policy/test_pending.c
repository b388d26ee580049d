/* Unit tests for policy/pending: approve, reject, expire, refresh, run, prune. */
#include "policy/pending.h"
#include "test.h"
#include "util/util.h"

static struct rac_decision decision(const char *vm, enum rac_action a)
{
    struct rac_decision d;
    memset(&d, 0, sizeof(d));
    snprintf(d.vm, sizeof(d.vm), "%s", vm);
    d.action = a;
    d.mode = RAC_MODE_SEMI;
    return d;
}

TEST(approve_then_run)
{
    struct pending_queue *q = pending_new(600000, 0);
    struct rac_decision d = decision("web", RAC_ACTION_MIGRATE);
    uint64_t id = pending_add(q, &d, 1000);
    CHECK_INT_EQ(id, 1);
    struct pending_item out[4];
    CHECK_INT_EQ(pending_take_approved(q, out, 4), 0); /* waits for the operator */
    CHECK(pending_approve(q, id, "alice", 2000) == 0);
    CHECK(pending_approve(q, id, "bob", 2001) < 0);
    CHECK_ERR_HAS("recommendation 1 is approved, not waiting");
    CHECK_INT_EQ(pending_take_approved(q, out, 4), 1);
    CHECK_STR_EQ(out[0].decided_by, "alice");
    CHECK_INT_EQ(pending_get(q, id)->state, PENDING_RUNNING);
    CHECK_INT_EQ(pending_take_approved(q, out, 4), 0); /* taken once only */
    CHECK(pending_finish(q, id, true, "migrated in 1.2 s", 3000) == 0);
    CHECK_INT_EQ(pending_get(q, id)->state, PENDING_DONE);
    CHECK(pending_finish(q, id, true, "again", 3001) < 0);
    CHECK(pending_approve(q, 99, "alice", 2000) < 0);
    CHECK_ERR_HAS("no recommendation with id 99");
    pending_free(q);
}

TEST(expiry_and_refresh)
{
    struct pending_queue *q = pending_new(60000, 40);
    struct rac_decision d = decision("db", RAC_ACTION_GROW_MEMORY);
    uint64_t id = pending_add(q, &d, 0);
    CHECK_INT_EQ(id, 40);
    /* The same recommendation again refreshes the expiry and keeps the id. */
    CHECK_INT_EQ(pending_add(q, &d, 50000), 40);
    struct rac_decision other = decision("db", RAC_ACTION_MIGRATE);
    CHECK_INT_EQ(pending_add(q, &other, 50000), 41);
    struct pending_item out[4];
    CHECK_INT_EQ(pending_expire(q, 100000, out, 4), 0);
    /* Approving after expiry fails and marks it expired. */
    CHECK(pending_approve(q, 40, "alice", 110000) < 0);
    CHECK_ERR_HAS("is expired");
    CHECK_INT_EQ(pending_expire(q, 110000, out, 4), 1);
    CHECK_INT_EQ(out[0].id, 41);
    CHECK(pending_reject(q, 41, "bob", 120000) < 0);
    size_t n;
    pending_items(q, &n);
    CHECK_INT_EQ(n, 2);
    pending_prune(q, 200000);
    pending_items(q, &n);
    CHECK_INT_EQ(n, 0);
    pending_free(q);
}

TEST(reject_is_final)
{
    struct pending_queue *q = pending_new(60000, 0);
    struct rac_decision d = decision("web", RAC_ACTION_ADD_VCPU);
    uint64_t id = pending_add(q, &d, 0);
    CHECK(pending_reject(q, id, "carol", 10) == 0);
    CHECK_INT_EQ(pending_get(q, id)->state, PENDING_REJECTED);
    CHECK(pending_approve(q, id, "dave", 20) < 0);
    /* A new recommendation for the same VM after a rejection gets a new id. */
    CHECK(pending_add(q, &d, 30) != id);
    pending_free(q);
}

RUN_TESTS(approve_then_run, expiry_and_refresh, reject_is_final)
