/* cli.c */
#include "engine.h"
