/* phases.h — the provisioning phases in the order they run. */
#pragma once

#include <stddef.h>

#include "phase.h"

/* The table of every phase, in run order (NULL-terminated); weights sum to 100. */
const struct phase *const *phases_all(size_t *ret_n);

/* One per phase file; add the declaration with the file. */
extern const struct phase phase_system_prep;
extern const struct phase phase_desktop;
extern const struct phase phase_rdp;
extern const struct phase phase_user;
extern const struct phase phase_ide_vscode;
extern const struct phase phase_ide_cursor;
extern const struct phase phase_ide_antigravity;
extern const struct phase phase_terminal;
extern const struct phase phase_hardening;
extern const struct phase phase_verification;
/* not phase_summary: phase.h has a function of that name */
extern const struct phase phase_summary_phase;
