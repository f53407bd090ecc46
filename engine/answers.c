/* answers.c — see answers.h. */
#include "answers.h"
