/* apt.c — see apt.h. */
#include "apt.h"
