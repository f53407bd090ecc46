/* render_json.c */
#include "engine.h"
