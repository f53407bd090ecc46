/* secret.c — see secret.h. */
#include "secret.h"
