/* rollback.c — see rollback.h. */
#include "rollback.h"
