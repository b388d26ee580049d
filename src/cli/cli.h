/* cli: arasctl subcommands. One file per subcommand; each exports one
 * `struct cli_command` listed in commands.c. */
#ifndef ARAS_CLI_CLI_H
#define ARAS_CLI_CLI_H

struct cli_command {
    const char *name;
    const char *summary; /* one line for `arasctl --help` */
    /* argv[0] is the subcommand name. Returns the process exit status:
     * 0 success, 1 failure (message printed), 2 usage error. */
    int (*run)(int argc, char **argv);
};

extern const struct cli_command *const cli_commands[];

/* Print "arasctl: <err_msg()>" to stderr and return 1. */
int cli_fail(void);

#endif
