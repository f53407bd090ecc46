/* ide_phases.c — the phase table of vps-provision-idephases: the real
 * program (ui/main.c, every library) with only the IDE phases (one per
 * entry of the IDE catalog the answers name), so the end-to-end IDE test
 * (tests/e2e/test-ide) provisions IDEs in a container without installing a
 * desktop first. Built for the tests, never installed. */
#include <errno.h>
#include <stdlib.h>

#include "ide.h"
#include "phases.h"

int phases_load(const struct answers *a, struct phase_table *ret, char *err, size_t errlen)
{
        struct ide_phases *ides = ide_phases_load(a, err, errlen);
        size_t n = ides ? ides->n : 0;
        const struct phase **v = xcalloc(n + 1, sizeof(*v));

        for (size_t i = 0; i < n; i++)
                v[i] = &ides->v[i];
        *ret = (struct phase_table){ .v = v, .n = n, .own = ides };
        return ides ? 0 : -EINVAL;
}

void phases_release(struct phase_table *t)
{
        ide_phases_free(t->own);
        free(t->v);
        *t = (struct phase_table){ 0 };
}
