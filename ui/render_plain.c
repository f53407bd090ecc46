/* render_plain.c */
#include "engine.h"
