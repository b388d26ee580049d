/* Unit tests for api_args: the option parsing shared by arasctl's daemon commands. */
#include "cli/api_args.h"

#include "test.h"

#include <string.h>

static int usage_calls;
static void usage(FILE *out, const char *cmd)
{
    (void)out;
    (void)cmd;
    usage_calls++;
}

struct run {
    const char *since;
    bool all;
    struct api_opts o;
    int first, rc;
};

/* Parse a NULL-terminated argv with one --since ARG, one --all flag and n operands. */
static struct run parse(int n_operands, const char *const *args)
{
    struct run r = {0};
    char *argv[16];
    int argc = 0;
    while (args[argc])
        argv[argc] = (char *)args[argc], argc++; /* getopt permutes, never writes */
    argv[argc] = NULL;
    const struct api_flag flags[] = {
        {"since", true, &r.since, NULL}, {"all", false, NULL, &r.all}, {NULL, false, NULL, NULL}};
    const struct api_args spec = {"demo", usage, flags, n_operands, "one ID"};
    usage_calls = 0;
    r.rc = api_args_parse(&spec, argc, argv, &r.o, &r.first);
    return r;
}

TEST(common_and_own_options)
{
    struct run r = parse(0, (const char *[]){"demo", "--api", "http://x:1", "--json", "--since",
                                             "5m", "--all", NULL});
    CHECK_INT_EQ(r.rc, -1);
    CHECK_STR_EQ(r.o.api, "http://x:1");
    CHECK(r.o.json);
    CHECK_STR_EQ(r.since, "5m");
    CHECK(r.all);
    r = parse(0, (const char *[]){"demo", NULL});
    CHECK_INT_EQ(r.rc, -1);
    CHECK(r.o.api == NULL && !r.o.json && !r.all && r.since == NULL);
}

TEST(help_and_errors)
{
    struct run r = parse(0, (const char *[]){"demo", "--help", NULL});
    CHECK_INT_EQ(r.rc, 0);
    CHECK_INT_EQ(usage_calls, 1);
    r = parse(0, (const char *[]){"demo", "-h", NULL});
    CHECK_INT_EQ(r.rc, 0);
    r = parse(0, (const char *[]){"demo", "--bogus", NULL});
    CHECK_INT_EQ(r.rc, 2);
    CHECK_INT_EQ(usage_calls, 1);
    r = parse(0, (const char *[]){"demo", "--since", NULL}); /* missing argument */
    CHECK_INT_EQ(r.rc, 2);
    r = parse(0, (const char *[]){"demo", "stray", NULL});
    CHECK_INT_EQ(r.rc, 2);
}

TEST(operands)
{
    struct run r = parse(1, (const char *[]){"demo", "--json", "42", NULL});
    CHECK_INT_EQ(r.rc, -1);
    CHECK_INT_EQ(r.first, 2);
    r = parse(1, (const char *[]){"demo", NULL});
    CHECK_INT_EQ(r.rc, 2);
    r = parse(1, (const char *[]){"demo", "1", "2", NULL});
    CHECK_INT_EQ(r.rc, 2);
}

RUN_TESTS(common_and_own_options, help_and_errors, operands)
