/* ops.c — see ops.h. */
#include "ops.h"
