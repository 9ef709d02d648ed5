#ifndef MV_X86_TSC_H
#define MV_X86_TSC_H
#include "compiler.h"
extern uint64_t tsc_hz;
/* Measures the TSC against PIT channel 2; returns Hz (0 if the PIT did not count). */
uint64_t tsc_calibrate(void);
#endif
