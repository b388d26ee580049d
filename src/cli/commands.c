/* commands: the table of arasctl subcommands, in the order --help lists them. */
#include "cli/cli.h"

#include <stddef.h>

extern const struct cli_command cli_cmd_status, cli_cmd_hosts, cli_cmd_vms, cli_cmd_events;
extern const struct cli_command cli_cmd_simulate;
extern const struct cli_command cli_cmd_disk_index, cli_cmd_disk_sync;
extern const struct cli_command cli_cmd_precopy_sim;
extern const struct cli_command cli_cmd_pending, cli_cmd_approve, cli_cmd_reject;
extern const struct cli_command cli_cmd_migrate, cli_cmd_migrations;

/* One entry per line so that helpers can append without reflowing others' lines. */
/* clang-format off */
const struct cli_command *const cli_commands[] = {
    &cli_cmd_status,
    &cli_cmd_hosts,
    &cli_cmd_vms,
    &cli_cmd_events,
    &cli_cmd_pending,
    &cli_cmd_approve,
    &cli_cmd_reject,
    &cli_cmd_migrate,
    &cli_cmd_migrations,
    &cli_cmd_simulate,
    &cli_cmd_precopy_sim,
    &cli_cmd_disk_index,
    &cli_cmd_disk_sync,
    NULL,
};
/* clang-format on */
