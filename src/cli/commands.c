/* commands: the table of arasctl subcommands, in the order --help lists them. */
#include "cli/cli.h"

#include <stddef.h>

const struct cli_command *const cli_commands[] = {
    NULL,
};
