/* test_conf_policy: the [rule NAME], [vm GLOB], [allocator], [email], [snmp]
 * and [script] sections — values, defaults, and that every error names
 * file:line and the section. */
#include "conf/conf.h"
#include "test.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void expect_error(const char *text, const char *want)
{
    struct conf *c = conf_parse_string(text, "t.conf");
    CHECK(c == NULL);
    conf_free(c);
    if (!strstr(err_msg(), want))
        fprintf(stderr, "  want '%s' in: %s\n", want, err_msg());
    CHECK_ERR_HAS(want);
}

TEST(allocator_defaults)
{
    struct conf *c = conf_defaults();
    CHECK(c != NULL);
    CHECK_INT_EQ(c->alloc_mode, RAC_MODE_MANUAL);
    CHECK_NEAR(c->marks.cpu_high_pct, 80, 1e-9);
    CHECK_NEAR(c->marks.mem_free_medium_pct, 25, 1e-9);
    CHECK_NEAR(c->marks.disk_low_pct, 30, 1e-9);
    CHECK_NEAR(c->marks.mem_step_pct, 25, 1e-9);
    CHECK_INT_EQ(c->marks.disk_size_bytes, 10ULL << 30);
    CHECK_INT_EQ(c->approval_ttl_ms, 15 * 60 * 1000);
    CHECK_INT_EQ(c->max_actions_per_tick, 4);
    CHECK_STR_EQ(c->pool_dir, "var/aras/disks");
    CHECK_INT_EQ(c->n_rules, 0);
    CHECK_INT_EQ(c->n_vms, 0);
    CHECK(c->email_url == NULL);
    CHECK(c->snmp_target == NULL);
    CHECK_INT_EQ(c->script_timeout_ms, 10000);
    conf_free(c);
}

TEST(rules_and_vms)
{
    const char *text = "[rule cpu-hot]\n"
                       "scope = vm:web-*\n"
                       "metric = cpu\n"
                       "op = >\n"
                       "threshold = 90\n"
                       "clear = 70\n"
                       "for = 2m\n"
                       "cooldown = 10m\n"
                       "severity = critical\n"
                       "actions = allocate, script:/bin/true\n"
                       "[rule host-full]\n"
                       "scope = host:*\n"
                       "metric = cpu\n"
                       "op = >=\n"
                       "threshold = 95\n"
                       "[vm web-*]\n"
                       "priority = 10\n"
                       "max_vcpus = 8\n"
                       "max_memory = 16G\n"
                       "mode = auto\n"
                       "tags = web, prod\n"
                       "never_move = yes\n"
                       "[vm *]\n"
                       "priority = -1\n"
                       "[allocator]\n"
                       "mode = semi\n"
                       "cpu_high = 70%\n"
                       "disk_size = 2G\n"
                       "approval_ttl = 1h\n"
                       "max_actions_per_tick = 2\n"
                       "[script]\n"
                       "timeout = 3s\n";
    struct conf *c = conf_parse_string(text, "t.conf");
    if (!c)
        fprintf(stderr, "  %s\n", err_msg());
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_INT_EQ(c->n_rules, 2);
    CHECK_STR_EQ(c->rules[0].name, "cpu-hot");
    CHECK_INT_EQ(c->rules[0].scope, SLA_SCOPE_VM);
    CHECK_STR_EQ(c->rules[0].pattern, "web-*");
    CHECK_INT_EQ(c->rules[0].metric, SLA_METRIC_VM_CPU_PCT);
    CHECK_NEAR(c->rules[0].threshold, 90, 1e-9);
    CHECK_NEAR(c->rules[0].clear, 70, 1e-9);
    CHECK_INT_EQ(c->rules[0].for_ms, 120000);
    CHECK_INT_EQ(c->rules[0].cooldown_ms, 600000);
    CHECK_INT_EQ(c->rules[0].severity, SLA_SEVERITY_CRITICAL);
    CHECK_INT_EQ(c->rules[0].n_actions, 2);
    CHECK_STR_EQ(c->rules[0].actions[1], "script:/bin/true");
    CHECK_INT_EQ(c->rule_lines[0], 1);
    CHECK_INT_EQ(c->rule_lines[1], 11);
    CHECK_INT_EQ(c->rules[1].metric, SLA_METRIC_HOST_CPU_PCT);
    CHECK_INT_EQ(c->n_vms, 2);
    CHECK_INT_EQ(c->vms[0].limits.priority, 10);
    CHECK_INT_EQ(c->vms[0].limits.max_vcpus, 8);
    CHECK_INT_EQ(c->vms[0].limits.max_mem_kib, 16ULL << 20);
    CHECK(c->vms[0].limits.has_mode);
    CHECK_INT_EQ(c->vms[0].limits.mode, RAC_MODE_AUTO);
    CHECK(c->vms[0].limits.never_move);
    CHECK_STR_EQ(c->vms[0].tags, "web,prod");
    /* first match wins */
    CHECK(conf_vm_find(c, "web-1") == &c->vms[0]);
    CHECK(conf_vm_find(c, "db-1") == &c->vms[1]);
    CHECK_INT_EQ(conf_vm_find(c, "db-1")->limits.priority, -1);
    CHECK(!c->vms[1].limits.has_mode);
    CHECK_INT_EQ(c->alloc_mode, RAC_MODE_SEMI);
    CHECK_NEAR(c->marks.cpu_high_pct, 70, 1e-9);
    CHECK_INT_EQ(c->marks.disk_size_bytes, 2ULL << 30);
    CHECK_INT_EQ(c->approval_ttl_ms, 3600 * 1000);
    CHECK_INT_EQ(c->max_actions_per_tick, 2);
    CHECK_INT_EQ(c->script_timeout_ms, 3000);
    conf_free(c);
}

TEST(rule_errors_name_file_line)
{
    expect_error("[rule r1]\nscope = vm:*\nmetric = cpu\nop = >\nthreshold = lots\n",
                 "t.conf:5: [rule r1] threshold:");
    expect_error("[rule r1]\nscope = vm:*\ncolour = red\n",
                 "t.conf:3: [rule r1] colour: unknown key (known: scope,");
    /* validation at the end of the section names the header's line */
    expect_error("[daemon]\ntick = 1s\n[rule r1]\nscope = vm:*\nmetric = cpu\n[cluster]\n",
                 "t.conf:3: [rule r1]: rule 'r1' has no 'op'");
    /* ... also at the end of the file */
    expect_error("[rule r1]\nscope = vm:*\nmetric = cpu\nop = >\n", "t.conf:1: [rule r1]:");
    expect_error("[rule a]\nscope=vm:*\nmetric=cpu\nop=>\nthreshold=1\n[rule a]\n",
                 "t.conf:6: [rule a]: defined twice (first on line 1)");
    expect_error("[rule a b]\n", "t.conf:1: [rule a b]: a rule name may only hold");
    expect_error("[rule]\n", "t.conf:1: [rule]: needs a name");
    expect_error("[rule r]\nscope=vm:*\nmetric=cpu\nop=>\nthreshold=1\nactions = email\n",
                 "t.conf:1: [rule r] actions: 'email' needs an [email] section");
    expect_error("[rule r]\nscope=vm:*\nmetric=cpu\nop=>\nthreshold=1\nactions = snmp\n",
                 "t.conf:1: [rule r] actions: 'snmp' needs an [snmp] section");
    expect_error("[rule r]\nscope=host:*\nmetric=cpu\nop=>\nthreshold=1\nactions = allocate\n",
                 "t.conf:1: [rule r] actions: 'allocate' needs a VM rule");
    expect_error("[rule r]\nscope=vm:*\nmetric=cpu\nop=>\nthreshold=1\nactions = reboot\n",
                 "t.conf:6: [rule r] actions: unknown action 'reboot'");
}

TEST(vm_and_allocator_errors)
{
    expect_error("[vm web-*]\npriority = 5000\n", "t.conf:2: [vm web-*] priority:");
    expect_error("[vm web-*]\nmax_vcpus = 0\n", "t.conf:2: [vm web-*] max_vcpus:");
    expect_error("[vm web-*]\nmax_memory = 12k\n", "t.conf:2: [vm web-*] max_memory:");
    expect_error("[vm web-*]\nmode = sometimes\n", "t.conf:2: [vm web-*] mode:");
    expect_error("[vm web-*]\ntags = a b!\n", "t.conf:2: [vm web-*] tags:");
    expect_error("[vm web-*]\nnever_move = perhaps\n", "t.conf:2: [vm web-*] never_move:");
    expect_error("[vm web-*]\nspeed = 3\n", "t.conf:2: [vm web-*] speed: unknown key");
    expect_error("[vm x]\n[vm x]\n", "t.conf:2: [vm x]: defined twice (first on line 1)");
    expect_error("[allocator]\nmode = yolo\n", "t.conf:2: [allocator] mode:");
    expect_error("[allocator]\ncpu_high = 120\n", "t.conf:2: [allocator] cpu_high:");
    expect_error("[allocator]\ndisk_size = 1k\n", "t.conf:2: [allocator] disk_size:");
    expect_error("[allocator]\napproval_ttl = 0s\n", "t.conf:2: [allocator] approval_ttl:");
    expect_error("[allocator]\nmax_actions_per_tick = 0\n",
                 "t.conf:2: [allocator] max_actions_per_tick:");
    expect_error("[allocator]\nmode = auto\nmode = semi\n",
                 "t.conf:3: [allocator] mode: set twice (first on line 2)");
    expect_error("[script]\ntimeout = 2 fortnights\n", "t.conf:2: [script] timeout:");
}

TEST(email_and_snmp)
{
    char pw[] = "/tmp/aras-test-pw-XXXXXX";
    int fd = mkstemp(pw);
    CHECK(fd >= 0);
    CHECK(write(fd, "s3cret\nignored\n", 15) == 15);
    close(fd);
    char text[2048];
    snprintf(text, sizeof(text),
             "[email]\nurl = smtp://127.0.0.1:2525\nfrom = aras@example.org\n"
             "to = ops@example.org\nto = oncall@example.org\nuser = aras\n"
             "password_file = %s\ntls = none\nspool_dir = /tmp/spool\nretry_base = 1s\n"
             "retry_max = 1m\n"
             "[snmp]\ntarget = udp:127.0.0.1:1162\nversion = 3\nuser = aras\n"
             "auth_pass_file = %s\npriv_pass_file = %s\nengine_id = 0x80001f8880aabbcc\n",
             pw, pw, pw);
    struct conf *c = conf_parse_string(text, "t.conf");
    if (!c)
        fprintf(stderr, "  %s\n", err_msg());
    CHECK(c != NULL);
    if (c) {
        CHECK_STR_EQ(c->email_url, "smtp://127.0.0.1:2525");
        CHECK_INT_EQ(c->n_email_to, 2);
        CHECK_STR_EQ(c->email_to[1], "oncall@example.org");
        CHECK_STR_EQ(c->email_password, "s3cret");
        CHECK_STR_EQ(c->email_tls, "none");
        CHECK_INT_EQ(c->email_retry_base_ms, 1000);
        CHECK(c->snmp_v3);
        CHECK_STR_EQ(c->snmp_auth_pass, "s3cret");
        CHECK_STR_EQ(c->snmp_engine_id, "0x80001f8880aabbcc");
    }
    conf_free(c);
    unlink(pw);
    expect_error("[email]\nurl = http://x\n", "t.conf:2: [email] url:");
    expect_error("[email]\nurl = smtp://x\n",
                 "t.conf:2: [email] url: needs 'from' and at least one 'to'");
    expect_error("[email]\nto = not-an-address\n", "t.conf:2: [email] to:");
    expect_error("[email]\ntls = maybe\n", "t.conf:2: [email] tls:");
    expect_error("[email]\npassword_file = /nonexistent/pw\n",
                 "t.conf:2: [email] password_file: cannot read /nonexistent/pw");
    expect_error("[snmp]\nversion = 1\n", "t.conf:2: [snmp] version:");
    expect_error("[snmp]\n\ntarget = localhost\nversion = 3\n",
                 "t.conf:3: [snmp] version 3 needs user");
}

RUN_TESTS(allocator_defaults, rules_and_vms, rule_errors_name_file_line, vm_and_allocator_errors,
          email_and_snmp)
