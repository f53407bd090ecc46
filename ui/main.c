#include "phases.h"
int main(void) { return 0; }
