/* phase_subset.c — the phase table of vps-provision-dpkgfaults: real
 * phases, only those VPSP_TEST_PHASES names (ids, comma-separated, in run
 * order; system-prep when unset), so a test can run dpkg for real without
 * a whole provisioning. Linked before vpsp-phases, it takes the place of
 * phases/phases.c; built for tests/e2e/test-killdpkg, never installed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phase.h"
#include "phases.h"
#include "util.h"

static const struct phase *const real[] = {
        &phase_system_prep, &phase_desktop,  &phase_rdp,          &phase_user,
        &phase_terminal,    &phase_hardening, &phase_verification, &phase_summary_phase,
};

int phases_load(const struct answers *a, struct phase_table *ret, char *err, size_t errlen)
{
        const char *want = getenv("VPSP_TEST_PHASES");
        const struct phase **v = xcalloc(ELEMENTSOF(real) + 1, sizeof(*v));
        char *list, *tok, *save = NULL;
        size_t n = 0;

        (void)a;
        list = xstrdup(want && *want ? want : "system-prep");
        for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                size_t i;

                for (i = 0; i < ELEMENTSOF(real) && strcmp(real[i]->id, tok) != 0; i++)
                        ;
                if (i == ELEMENTSOF(real) || n == ELEMENTSOF(real)) {
                        snprintf(err, errlen, "VPSP_TEST_PHASES: no phase \"%s\" (or named twice)", tok);
                        fprintf(stderr, "vps-provision-dpkgfaults: %s\n", err);
                        free(list);
                        free(v);
                        *ret = (struct phase_table){ 0 };
                        return -EINVAL;
                }
                v[n++] = real[i];
        }
        free(list);
        *ret = (struct phase_table){ .v = v, .n = n, .own = NULL };
        return 0;
}

void phases_release(struct phase_table *t)
{
        free(t->v);
        *t = (struct phase_table){ 0 };
}
