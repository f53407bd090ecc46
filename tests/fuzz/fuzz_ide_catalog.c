/* fuzz_ide_catalog — ide_catalog_parse(), the IDE catalog (the installed
 * one, or any file [ides] catalog or VPS_PROVISION_IDE_CATALOG names).
 *
 * Promises checked: 0, or -EINVAL with a message; a catalog that parses
 * holds only what ide_catalog.h promises (ids unique and found, absolute
 * paths, 40-hex-digit upper-case fingerprints, 64-hex-digit sha256s, the
 * defaults filled in). */
#include <ctype.h>
#include <errno.h>

#include "fuzz.h"
#include "ide_catalog.h"

static void check_hex(const char *s, size_t n, bool upper)
{
        FUZZ_CHECK(strlen(s) == n);
        for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(isxdigit((unsigned char)s[i]) && (!upper || !islower((unsigned char)s[i])));
}

static void check_entry(const struct ide_catalog *c, const struct ide_entry *e)
{
        FUZZ_CHECK(e->id && e->id[0] && ide_catalog_find(c, e->id) == e);
        FUZZ_CHECK(e->ide_name && e->display_name && e->packages && e->packages[0] && e->command);
        FUZZ_CHECK(e->version_args && e->version_args[0]);
        FUZZ_CHECK(!e->binary || e->binary[0] == '/');
        FUZZ_CHECK(e->desktop_file && e->desktop_file[0] == '/');
        FUZZ_CHECK(e->architectures && e->architectures[0]);
        FUZZ_CHECK(ide_entry_supports(e, e->architectures[0]));
        switch (e->method) {
        case IDE_CAT_APT_REPOSITORY:
                FUZZ_CHECK(e->uri && e->suite && e->key_url && e->components && e->components[0]);
                FUZZ_CHECK(e->keyring_dir && e->keyring_dir[0] == '/');
                FUZZ_CHECK(e->sources_dir && e->sources_dir[0] == '/');
                for (size_t i = 0; e->fingerprints && e->fingerprints[i]; i++)
                        check_hex(e->fingerprints[i], 40, true);
                break;
        case IDE_CAT_DEB_PACKAGE:
                FUZZ_CHECK(e->n_debs >= 1 && e->max_bytes > 0);
                for (size_t i = 0; i < e->n_debs; i++) {
                        FUZZ_CHECK(e->debs[i].arch && e->debs[i].url);
                        check_hex(e->debs[i].sha256, 64, false);
                        FUZZ_CHECK(ide_entry_deb(e, e->debs[i].arch) != NULL);
                }
                break;
        case IDE_CAT_APPIMAGE:
                break;
        default:
                FUZZ_CHECK(!"a known method");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ide_catalog c = { 0 };
        char err[1024] = "", *text = fuzz_cstr(data, size);
        int r;

        r = ide_catalog_parse(text, "ide-catalog.json", &c, err, sizeof(err));
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r < 0) {
                FUZZ_CHECK(err[0] != '\0');
                FUZZ_CHECK(c.entries == NULL && c.n_entries == 0);
        } else {
                FUZZ_CHECK(c.path && strcmp(c.path, "ide-catalog.json") == 0);
                for (size_t i = 0; i < c.n_entries; i++)
                        check_entry(&c, &c.entries[i]);
                FUZZ_CHECK(ide_catalog_find(&c, "") == NULL);
        }
        ide_catalog_release(&c);
        free(text);
        return 0;
}
