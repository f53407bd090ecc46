/* engine.c — see engine.h. */
#include "engine.h"
