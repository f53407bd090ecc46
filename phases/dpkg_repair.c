/* dpkg_repair.c — finishing an interrupted dpkg (see dpkg_repair.h). */
#include "dpkg_repair.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "ops.h"

bool dpkg_interrupted(const char *dpkg_dir)
{
        char path[4096];
        struct dirent *de;
        bool pending = false;
        DIR *d;

        if (snprintf(path, sizeof(path), "%s/updates", dpkg_dir) >= (int)sizeof(path))
                return false;
        d = opendir(path);
        if (!d)
                return false;
        while (!pending && (de = readdir(d)))
                pending = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        return pending;
}

int dpkg_repair(struct phase_ctx *c)
{
        const char *const argv[] = { "dpkg", "--force-confdef", "--force-confold",
                                     "--configure", "-a", NULL };
        struct undo u = { .kind = UNDO_NOTHING };
        int r;

        if (!dpkg_interrupted("/var/lib/dpkg"))
                return 1;
        phase_log(c, LOG_WARNING,
                  "dpkg was interrupted (an earlier run was stopped mid-installation): finishing it with dpkg --configure -a");
        phase_action_begin(c, "COMMAND_EXEC", "dpkg --configure -a",
                           "Finishing the interrupted package installation");
        if (phase_journal(c, "COMMAND_EXEC", "dpkg --configure -a", &u) < 0)
                r = -EIO;
        else
                r = ops_run(c, argv, NULL);
        r = phase_action_end(c, r);
        return r < 0 ? r : 0;
}
