/* ide_phases.c — the phase table of vps-provision-idephases: the real
 * program (ui/main.c, every library) with only the three IDE phases, so the
 * end-to-end IDE test (tests/e2e/test-ide) provisions IDEs in a container
 * without installing a desktop first. Built for the tests, never installed. */
#include "ide.h"
#include "phases.h"

static const struct phase *const table[] = {
        &phase_ide_vscode,
        &phase_ide_cursor,
        &phase_ide_antigravity,
        NULL,
};

const struct phase *const *phases_all(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(table) - 1;
        return table;
}
