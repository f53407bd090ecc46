/* journal.c — see journal.h. */
#include "journal.h"
