/* phases.h — the provisioning phases in the order they run. */
#pragma once

#include <stddef.h>

#include "answers.h"
#include "phase.h"

/* The phase table of a run: the fixed phases, with one IDE phase per entry
 * of the IDE catalog the answers name after "user" (see ide.h). */
struct phase_table {
        const struct phase **v;   /* n phases, then NULL */
        size_t n;
        void *own;                /* what the table made (the IDE phases) */
};
/* Fills *ret. When the IDE catalog cannot be read, the table has no IDE
 * phase and the result is -EINVAL (-ENOENT, …) with err filled; the table
 * is usable all the same (a rollback needs none). */
int phases_load(const struct answers *a, struct phase_table *ret, char *err, size_t errlen);
void phases_release(struct phase_table *t);

/* One per phase file; add the declaration with the file. */
extern const struct phase phase_system_prep;
extern const struct phase phase_desktop;
extern const struct phase phase_rdp;
extern const struct phase phase_user;
extern const struct phase phase_terminal;
extern const struct phase phase_hardening;
extern const struct phase phase_verification;
/* not phase_summary: phase.h has a function of that name */
extern const struct phase phase_summary_phase;
