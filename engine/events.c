/* events.c — see events.h. */
#include "events.h"
