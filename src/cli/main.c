/* arasctl: command-line client for arasd and the offline tools (simulate, ...). */
#include "aras-config.h"
#include "cli/cli.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>

int cli_fail(void)
{
    fprintf(stderr, "arasctl: %s\n", err_msg());
    return 1;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: arasctl COMMAND [OPTIONS]\n"
                 "       arasctl COMMAND --help\n\n"
                 "Control the ARAS daemon (arasd) and run ARAS's offline tools.\n\n"
                 "Commands:\n");
    for (size_t i = 0; cli_commands[i]; i++)
        fprintf(out, "  %-12s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(out, "\nOptions:\n"
                 "  -h, --help     show this help\n"
                 "  -V, --version  show the version\n\n"
                 "Daemon commands talk to the API at $ARAS_API (default http://127.0.0.1:8470).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("arasctl %s\n", ARAS_VERSION);
        return 0;
    }
    for (size_t i = 0; cli_commands[i]; i++) {
        if (strcmp(argv[1], cli_commands[i]->name) == 0)
            return cli_commands[i]->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "arasctl: unknown command '%s' (see 'arasctl --help')\n", argv[1]);
    return 2;
}
