/* review.h — what the wizard's review page says: every choice, and what it
 * will do to this server (an account adopted and its password replaced, a
 * port some program already holds, an SSH port that moves, sudo without a
 * password, the download), then the phases that will run.
 *
 * The text is built from the answers and a few facts gathered before the
 * wizard (review_facts), with no terminal involved, so the unit tests read
 * it directly and the small-terminal prompt of main() prints the same
 * lines. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answers.h"
#include "phase.h"
#include "ports.h"
#include "preflight.h"

struct review_facts {
        const struct vps_info *vps;             /* the address for RDP; may be NULL */
        const struct port_listeners *listeners; /* who listens where now; may be NULL */
        /* When set, called before listeners is read: finding each socket's
         * process takes a scan of /proc that main() runs in a thread while
         * the wizard starts; ready() waits for it. */
        void (*ready)(void *data);
        void *ready_data;
        uint16_t ssh_session_port;              /* the port this SSH session came in on, 0 = not known */
        const char *passwd_path;                /* NULL = /etc/passwd */
};

enum review_style {
        RS_NORMAL,
        RS_HEAD,        /* a heading ("Phases that will run:") */
        RS_WARN,        /* a consequence to act on ("! SSH moves …") */
        RS_NOTE,        /* a consequence to know about */
};

struct review_line {
        char *text;
        int indent;     /* columns before the text */
        int hang;       /* where wrapped continuation lines start, from indent */
        enum review_style style;
};

/* The display names of the IDEs [ides] install names, from the IDE
 * catalog ("Visual Studio Code, Cursor"; an id the catalog lacks as it
 * is), or "none". Caller frees. */
char *review_ide_names(const struct answers *a);

/* The review's lines; *ret is an array of the returned count, freed with
 * review_lines_free(). facts may be NULL (nothing known about the server). */
size_t review_build(const struct answers *a, const struct review_facts *facts,
                    const struct phase *const *phases, size_t n_phases, struct review_line **ret);
void review_lines_free(struct review_line *v, size_t n);

/* Whether the port of key ("rdp_port" or "ssh_port") is held by another
 * program than the one that will serve it (xrdp, sshd); err then names it
 * and says what to do. */
bool review_port_conflict(const struct review_facts *facts, const struct answers *a, const char *key,
                          char *err, size_t errlen);

/* Typical download of the phases the answers enable, in MB (the phases'
 * download_mb). */
unsigned review_download_mb(const struct answers *a, const struct phase *const *phases, size_t n_phases);
