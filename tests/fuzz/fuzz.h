/* fuzz.h — shared bits of the libFuzzer targets in tests/fuzz.
 *
 * Each target feeds its input to one parser of outside input and then
 * checks what the parser promises (round trips, untouched results on
 * failure, bounds); a broken promise aborts, which libFuzzer reports as a
 * crash and saves the input. ASan and UBSan catch the rest. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                  \
        do {                                                                              \
                if (!(cond)) {                                                            \
                        fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, \
                                #cond);                                                   \
                        abort();                                                          \
                }                                                                         \
        } while (0)

/* The input as a NUL-terminated string (an embedded NUL ends it early, as
 * it would for the C string the program reads). Caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (!s)
                abort();
        if (size)
                memcpy(s, data, size);
        s[size] = '\0';
        return s;
}
