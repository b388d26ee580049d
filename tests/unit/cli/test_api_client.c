/* test_api_client: arasctl's HTTP client errors and its table layout. */
#include "cli/api_client.h"
#include "cli/table.h"
#include "test.h"
#include "util/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* A loopback port that nothing listens on: bind one, note it, close it. */
static unsigned closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

TEST(unreachable_daemon_is_explained)
{
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", closed_port());
    CHECK(api_get_json(base, "/api/v1/status", NULL) == NULL);
    CHECK_ERR_HAS("cannot reach arasd at http://127.0.0.1:");
    CHECK_ERR_HAS("Connection refused");
    CHECK_ERR_HAS("is arasd running?");
    CHECK(api_get_json("https://127.0.0.1:1", "/x", NULL) == NULL);
    CHECK_ERR_HAS("must start with http://");
}

TEST(base_url_precedence)
{
    unsetenv("ARAS_API");
    CHECK_STR_EQ(api_base_url(NULL), API_DEFAULT_URL);
    setenv("ARAS_API", "http://127.0.0.1:9", 1);
    CHECK_STR_EQ(api_base_url(NULL), "http://127.0.0.1:9");
    CHECK_STR_EQ(api_base_url("http://127.0.0.1:7"), "http://127.0.0.1:7");
    unsetenv("ARAS_API");
}

TEST(helpers)
{
    json_t *j = json_pack("{s:s, s:f, s:n}", "name", "web1", "cpu_pct", 12.345, "mem", NULL);
    char buf[32];
    CHECK_STR_EQ(api_str(j, "name"), "web1");
    CHECK_STR_EQ(api_str(j, "nope"), "-");
    CHECK_STR_EQ(api_num(j, "cpu_pct", 1, 1, buf, sizeof(buf)), "12.3");
    CHECK_STR_EQ(api_num(j, "mem", 1, 1, buf, sizeof(buf)), "-");
    json_decref(j);
    char *e = api_escape("a b&c");
    CHECK_STR_EQ(e, "a%20b%26c");
    free(e);
}

TEST(table_aligns_columns)
{
    char spec[] = "Name|>CPU %";
    struct table t;
    table_init(&t, spec);
    const char *r1[] = {"host-1", "5.0"};
    const char *r2[] = {"h", "100.0"};
    table_add(&t, r1);
    table_add(&t, r2);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    table_print(&t, f);
    fclose(f);
    CHECK_STR_EQ(out, " Name    CPU %\n"
                      "---------------\n"
                      " host-1    5.0\n"
                      " h       100.0\n");
    free(out);
    table_free(&t);
}

RUN_TESTS(unreachable_daemon_is_explained, base_url_precedence, helpers, table_aligns_columns)
