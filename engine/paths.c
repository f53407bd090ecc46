/* paths.c — see paths.h. */
#include "paths.h"
