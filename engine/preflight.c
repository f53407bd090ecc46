/* preflight.c — see preflight.h. */
#include "preflight.h"
