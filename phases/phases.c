/* phases.c — the phase table, in run order. Weights are shares of a typical
 * full run's time (measured on a Debian 13 VPS with a warm mirror) and sum
 * to 100 over the full table.
 *
 * Order and weights (each phase file defines `const struct phase phase_X`):
 *   system-prep 14, desktop 25, rdp 9, user 4, ide-vscode 12, ide-cursor 12,
 *   ide-antigravity 12, terminal 3, hardening 4, verification 3, summary 2 */
#include "phases.h"

static const struct phase *const table[] = {
        &phase_system_prep,
        &phase_desktop,
        &phase_rdp,
        &phase_user,
        &phase_ide_vscode,
        &phase_ide_cursor,
        &phase_ide_antigravity,
        &phase_terminal,
        &phase_hardening,
        &phase_verification,
        &phase_summary_phase,
        NULL,
};

const struct phase *const *phases_all(size_t *ret_n)
{
        *ret_n = sizeof(table) / sizeof(table[0]) - 1;
        return table;
}
