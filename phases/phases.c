/* phases.c — the phase table, in run order. Weights are shares of a typical
 * full run's time (measured on a Debian 13 VPS with a warm mirror); the
 * engine counts only the enabled ones, so they need not sum to anything.
 *
 * Order and weights (each phase file defines `const struct phase phase_X`):
 *   system-prep 14, desktop 25, rdp 9, user 4, then one phase per IDE of
 *   the catalog (ide-ID, 12 each: the shipped catalog's three make the
 *   table sum to 100), terminal 3, hardening 4, verification 3, summary 2 */
#include "phases.h"

#include <errno.h>

#include "ide.h"

static const struct phase *const before_ides[] = {
        &phase_system_prep,
        &phase_desktop,
        &phase_rdp,
        &phase_user,
};

static const struct phase *const after_ides[] = {
        &phase_terminal,
        &phase_hardening,
        &phase_verification,
        &phase_summary_phase,
};

int phases_load(const struct answers *a, struct phase_table *ret, char *err, size_t errlen)
{
        struct ide_phases *ides = ide_phases_load(a, err, errlen);
        size_t n_ides = ides ? ides->n : 0, n = 0;
        const struct phase **v;

        v = xcalloc(ELEMENTSOF(before_ides) + n_ides + ELEMENTSOF(after_ides) + 1, sizeof(*v));
        for (size_t i = 0; i < ELEMENTSOF(before_ides); i++)
                v[n++] = before_ides[i];
        for (size_t i = 0; i < n_ides; i++)
                v[n++] = &ides->v[i];
        for (size_t i = 0; i < ELEMENTSOF(after_ides); i++)
                v[n++] = after_ides[i];
        *ret = (struct phase_table){ .v = v, .n = n, .own = ides };
        return ides ? 0 : -EINVAL;
}

void phases_release(struct phase_table *t)
{
        ide_phases_free(t->own);
        free(t->v);
        *t = (struct phase_table){ 0 };
}
