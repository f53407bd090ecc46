/* mangen.c — writes the man pages and the bash completion from the tables
 * the program itself uses, so that --help, the man pages, the completion
 * and assets/answers.ini.example cannot disagree.
 *
 * Usage (OUTPUT is written whole or not at all: a temp file, then rename):
 *   vpsp-mangen page TEMPLATE OUTPUT     the template with its @NAME@ lines filled in
 *   vpsp-mangen bash-completion OUTPUT   a completion script for bash
 *   vpsp-mangen list-options       every long option, one a line ("--unattended")
 *   vpsp-mangen list-keys          every answers key, one a line ("user.username")
 *
 * A template is roff written by hand (description, files, examples …). A
 * line that is exactly one of these is replaced by generated roff:
 *   @OPTIONS@     the command-line options (ui/cli.c: help and doc strings)
 *   @EXIT_CODES@  the exit codes (engine/engine.h: exit_code_meaning())
 *   @PHASES@      the phases in run order (phases/phases.c: the phase table)
 *   @KEYS@        every answers key by section (engine/answers.c: the key table)
 * and @VERSION@ anywhere in a line becomes the program's version. A build
 * tool: it runs at build time only and is never installed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers.h"
#include "cli.h"
#include "engine.h"
#include "ide_catalog.h"
#include "phases.h"
#include "util.h"

/* Writes text for roff: a backslash as \e, a line start that roff would
 * take for a request (".", "'") guarded with \&; with minus, "-" as \-
 * (options and commands, so they can be searched and copied). */
static void roff_text(FILE *f, const char *s, bool minus)
{
        bool line_start = true;

        for (; *s; s++) {
                if (line_start && (*s == '.' || *s == '\''))
                        fputs("\\&", f);
                line_start = false;
                if (*s == '\\')
                        fputs("\\e", f);
                else if (*s == '-' && minus)
                        fputs("\\-", f);
                else {
                        fputc(*s, f);
                        if (*s == '\n')
                                line_start = true;
                }
        }
}

/* "-u, --unattended FILE" in roff, options in bold and the argument in italics. */
static void roff_option_head(FILE *f, const struct cli_option *o)
{
        if (o->short_name)
                fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
        fputs("\\fB\\-\\-", f);
        roff_text(f, o->long_name, true);
        fputs("\\fR", f);
        if (o->arg) {
                fputs(" \\fI", f);
                roff_text(f, o->arg, false);
                fputs("\\fR", f);
        }
        fputc('\n', f);
}

static void gen_options(FILE *f)
{
        size_t n;
        const struct cli_option *o = cli_options(&n);

        for (size_t i = 0; i < n; i++) {
                fputs(".TP\n", f);
                roff_option_head(f, &o[i]);
                roff_text(f, o[i].doc, false);
                fputc('\n', f);
        }
}

static void gen_exit_codes(FILE *f)
{
        for (int c = 0; c <= EXIT_CODE_LAST; c++) {
                fprintf(f, ".TP\n.B %d\n", c);
                roff_text(f, exit_code_meaning(c), false);
                fputs(".\n", f);
        }
}

static int gen_phases(FILE *f)
{
        struct answers a;
        struct phase_table t;
        char err[512];
        const struct phase *const *p;
        size_t n;

        /* the IDE phases of the catalog VPS_PROVISION_IDE_CATALOG names
         * (the build passes the source tree's) */
        answers_init(&a);
        if (phases_load(&a, &t, err, sizeof(err)) < 0) {
                fprintf(stderr, "vpsp-mangen: %s\n", err);
                phases_release(&t);
                return -EINVAL;
        }
        p = t.v;
        n = t.n;
        for (size_t i = 0; i < n; i++) {
                fputs(".TP\n.B ", f);
                roff_text(f, p[i]->id, true);
                fputc('\n', f);
                roff_text(f, p[i]->title, false);
                if (p[i]->summary && *p[i]->summary) {
                        fputs(": ", f);
                        roff_text(f, p[i]->summary, false);
                }
                fputc('\n', f);
        }
        phases_release(&t);
        return 0;
}

static void gen_keys(FILE *f)
{
        size_t n;
        const struct answers_key *k = answers_keys(&n);
        const char *section = NULL;

        for (size_t i = 0; i < n; i++) {
                if (!section || strcmp(section, k[i].section) != 0) {
                        section = k[i].section;
                        fprintf(f, ".SS [%s]\n", section);
                }
                fputs(".TP\n\\fB", f);
                roff_text(f, k[i].name, false);
                fprintf(f, "\\fR (%s", answers_type_name(k[i].type));
                if (k[i].values && *k[i].values) {
                        fputs(": ", f);
                        roff_text(f, k[i].values, false);
                }
                fputs("; default: ", f);
                if (*k[i].default_value) {
                        fputs("\\fB", f);
                        roff_text(f, k[i].default_value, false);
                        fputs("\\fR", f);
                } else
                        fputs("empty", f);
                fputs(")\n", f);
                roff_text(f, k[i].summary, false);
                fputs("\n.br\n", f);
                roff_text(f, k[i].doc, false);
                fputc('\n', f);
        }
}

static void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

/* Copies the template to f, filling in the generated parts. */
static int gen_page(FILE *f, const char *template)
{
        _cleanup_(fclosep) FILE *in = fopen(template, "re");
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int r = 0;

        if (!in) {
                r = -errno;
                fprintf(stderr, "vpsp-mangen: cannot read template %s: %s\n", template, strerror(-r));
                return r;
        }
        while ((len = getline(&line, &cap, in)) >= 0) {
                char *at;

                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = '\0';
                if (strcmp(line, "@OPTIONS@") == 0)
                        gen_options(f);
                else if (strcmp(line, "@EXIT_CODES@") == 0)
                        gen_exit_codes(f);
                else if (strcmp(line, "@PHASES@") == 0) {
                        r = gen_phases(f);
                        if (r < 0)
                                break;
                }
                else if (strcmp(line, "@KEYS@") == 0)
                        gen_keys(f);
                else if ((at = strstr(line, "@VERSION@"))) {
                        *at = '\0';
                        fprintf(f, "%s%s%s\n", line, VPSP_VERSION, at + strlen("@VERSION@"));
                } else if (line[0] == '@' && len > 1 && line[len - 1] == '@') {
                        fprintf(stderr, "vpsp-mangen: %s: unknown placeholder %s\n", template, line);
                        r = -EINVAL;
                        break;
                } else
                        fprintf(f, "%s\n", line);
        }
        free(line);
        return r;
}

/* A bash completion: options after "vps-provision", file names after the
 * options that take a FILE. */
static void gen_bash_completion(FILE *f)
{
        size_t n;
        const struct cli_option *o = cli_options(&n);
        bool first = true;

        fputs("# bash completion for vps-provision (generated from its option table)\n"
              "_vps_provision()\n{\n"
              "        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
              "        case $prev in\n"
              "        ", f);
        for (size_t i = 0; i < n; i++) {
                if (!o[i].arg)
                        continue;
                fprintf(f, "%s--%s", first ? "" : "|", o[i].long_name);
                if (o[i].short_name)
                        fprintf(f, "|-%c", o[i].short_name);
                first = false;
        }
        fputs(")\n"
              "                compopt -o filenames 2>/dev/null\n"
              "                mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
              "                return 0 ;;\n"
              "        esac\n"
              "        mapfile -t COMPREPLY < <(compgen -W '", f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s--%s", i ? " " : "", o[i].long_name);
        fputs("' -- \"$cur\")\n"
              "}\n"
              "complete -F _vps_provision vps-provision\n", f);
}

/* Writes output through a temp file next to it, renamed into place only
 * when everything was written. */
static int write_output(const char *output, const char *template)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", output);
        FILE *f = fopen(tmp, "we");
        int r;

        if (!f) {
                r = -errno;
                fprintf(stderr, "vpsp-mangen: cannot create %s: %s\n", tmp, strerror(-r));
                return r;
        }
        if (template)
                r = gen_page(f, template);
        else {
                gen_bash_completion(f);
                r = 0;
        }
        if (ferror(f))
                r = -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, output) < 0)
                r = -errno;
        if (r < 0) {
                fprintf(stderr, "vpsp-mangen: cannot write %s: %s\n", output, strerror(-r));
                unlink(tmp);
        }
        return r;
}

int main(int argc, char **argv)
{
        /* page TEMPLATE OUTPUT [CATALOG]: the IDE phases listed are the
         * catalog's (the build names the source tree's; an argument, so
         * that a cross build runs this tool under its emulator as usual) */
        if ((argc == 4 || argc == 5) && strcmp(argv[1], "page") == 0) {
                if (argc == 5 && setenv(IDE_CATALOG_ENV, argv[4], 1) < 0)
                        return 1;
                return write_output(argv[3], argv[2]) < 0 ? 1 : 0;
        }
        if (argc == 3 && strcmp(argv[1], "bash-completion") == 0)
                return write_output(argv[2], NULL) < 0 ? 1 : 0;
        if (argc == 2 && strcmp(argv[1], "list-options") == 0) {
                size_t n;
                const struct cli_option *o = cli_options(&n);
                for (size_t i = 0; i < n; i++)
                        printf("--%s\n", o[i].long_name);
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "list-keys") == 0) {
                size_t n;
                const struct answers_key *k = answers_keys(&n);
                for (size_t i = 0; i < n; i++)
                        printf("%s.%s\n", k[i].section, k[i].name);
                return 0;
        }
        fprintf(stderr, "usage: vpsp-mangen page TEMPLATE OUTPUT [CATALOG] | bash-completion OUTPUT | list-options | list-keys\n");
        return 2;
}
