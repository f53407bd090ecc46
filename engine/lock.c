/* lock.c — see lock.h. */
#include "lock.h"
