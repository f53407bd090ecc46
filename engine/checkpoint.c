/* checkpoint.c — see checkpoint.h. */
#include "checkpoint.h"
