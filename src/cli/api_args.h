/* api_args: the command-line parsing every arasd-talking subcommand shares
 * (--api URL, --json, --help, its own flags, a fixed number of operands). */
#ifndef ARAS_CLI_API_ARGS_H
#define ARAS_CLI_API_ARGS_H

#include "cli/api_client.h"

#include <stdbool.h>
#include <stdio.h>

#define API_FLAGS_MAX 16

/* One command-specific option "--name" (no argument: *set = true) or
 * "--name ARG" (has_arg: *value = ARG, checked by the command afterwards). */
struct api_flag {
    const char *name;
    bool has_arg;
    const char **value; /* has_arg */
    bool *set;          /* !has_arg */
};

/* What a command accepts. */
struct api_args {
    const char *cmd;                           /* "hosts": for messages */
    void (*usage)(FILE *out, const char *cmd); /* the --help text */
    const struct api_flag *flags;              /* up to API_FLAGS_MAX, {NULL} ends; or NULL */
    int n_operands;                            /* exactly this many operands */
    const char *operands;                      /* what they are, for "expected ...": "one ID" */
};

/* Parse argv (argv[0] is the subcommand) into o and the flags. Returns -1 when
 * the command should go on (its operands are argv[*first .. argc-1]), else the
 * exit status to return: 0 after --help, 2 after a usage error (printed). */
int api_args_parse(const struct api_args *spec, int argc, char **argv, struct api_opts *o,
                   int *first);

#endif
