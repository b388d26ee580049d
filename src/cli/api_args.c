/* api_args: shared option parsing of arasctl's daemon commands (see api_args.h). */
#include "cli/api_args.h"

#include <getopt.h>
#include <stddef.h>

enum { OPT_API = 256, OPT_JSON, OPT_HELP, OPT_FLAG0 };

static size_t count_flags(const struct api_flag *flags)
{
    size_t n = 0;
    while (flags && flags[n].name)
        n++;
    return n;
}

/* Store option c (from getopt_long) into o or its flag; false if c is not ours. */
static bool take(const struct api_flag *flags, size_t n, int c, struct api_opts *o)
{
    if (c == OPT_API) {
        o->api = optarg;
    } else if (c == OPT_JSON) {
        o->json = true;
    } else if (c >= OPT_FLAG0 && (size_t)(c - OPT_FLAG0) < n) {
        const struct api_flag *f = &flags[c - OPT_FLAG0];
        if (f->has_arg)
            *f->value = optarg;
        else
            *f->set = true;
    } else {
        return false;
    }
    return true;
}

int api_args_parse(const struct api_args *spec, int argc, char **argv, struct api_opts *o,
                   int *first)
{
    size_t n = count_flags(spec->flags);
    if (n > API_FLAGS_MAX) {
        fprintf(stderr, "arasctl %s: internal error: too many options\n", spec->cmd);
        return 2;
    }
    struct option opts[API_FLAGS_MAX + 4] = {
        {"api", required_argument, NULL, OPT_API},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
    };
    for (size_t i = 0; i < n; i++)
        opts[3 + i] = (struct option){spec->flags[i].name,
                                      spec->flags[i].has_arg ? required_argument : no_argument,
                                      NULL, OPT_FLAG0 + (int)i};
    *o = (struct api_opts){0};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h' || c == OPT_HELP)
            return spec->usage(stdout, spec->cmd), 0;
        if (!take(spec->flags, n, c, o))
            return spec->usage(stderr, spec->cmd), 2;
    }
    int have = argc - optind;
    if (have > spec->n_operands && spec->n_operands == 0) {
        fprintf(stderr, "arasctl %s: unexpected argument '%s'\n", spec->cmd, argv[optind]);
        return 2;
    }
    if (have != spec->n_operands) {
        fprintf(stderr, "arasctl %s: expected %s\n", spec->cmd, spec->operands);
        return 2;
    }
    *first = optind;
    return -1;
}
