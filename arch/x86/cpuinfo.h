#ifndef MV_X86_CPUINFO_H
#define MV_X86_CPUINFO_H
#include "compiler.h"

struct cpuinfo {
    char vendor[13];
    char brand[49];
    uint32_t family, model, stepping;
    uint32_t max_leaf, max_ext_leaf;
    uint32_t leaf1_ecx, leaf1_edx, ext1_edx;
};
extern struct cpuinfo boot_cpu;
void cpuinfo_init(void);
#endif
