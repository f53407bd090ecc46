/* cli.h — the command line: one table of options that serves the parser,
 * --help and the man page, so they cannot disagree. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "events.h"

struct cli_option {
        const char *long_name;    /* "unattended" */
        char short_name;          /* 'u', or 0 */
        const char *arg;          /* "FILE", or NULL */
        const char *help;         /* one line for --help */
        const char *doc;          /* a paragraph for the man page */
};

const struct cli_option *cli_options(size_t *ret_n);

struct cli {
        enum session_mode mode;
        const char *answers_path;  /* --unattended or --answers */
        bool unattended;
        const char *password_file; /* --password-file, or NULL */
        int password_fd;           /* --password-fd, or -1 */
        bool plain;
        bool json;
        bool yes;
        bool all;                  /* --rollback --all */
        bool force;
        bool attach;
        bool help;
        bool version;
};

/* Parses argv. On a bad command line returns -EINVAL with a message that
 * names the option and the fix in err. */
int cli_parse(int argc, char **argv, struct cli *ret, char *err, size_t errlen);
void cli_usage(FILE *f);
void cli_version(FILE *f);
