/* check.c — see check.h. */
#include "check.h"
