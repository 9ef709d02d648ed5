#include "cpuinfo.h"
#include "cpu.h"
#include "lib.h"

#define CPUID_EXT_BASE   0x80000000u
#define CPUID_EXT_FEAT   0x80000001u
#define CPUID_BRAND_0    0x80000002u
#define CPUID_BRAND_2    0x80000004u

struct cpuinfo boot_cpu;

void cpuinfo_init(void)
{
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    boot_cpu.max_leaf = a;
    memcpy(boot_cpu.vendor + 0, &b, 4);
    memcpy(boot_cpu.vendor + 4, &d, 4);
    memcpy(boot_cpu.vendor + 8, &c, 4);
    boot_cpu.vendor[12] = '\0';

    cpuid(1, 0, &a, &b, &c, &d);
    boot_cpu.leaf1_ecx = c;
    boot_cpu.leaf1_edx = d;
    uint32_t fam = (a >> 8) & 0xF, model = (a >> 4) & 0xF;
    /* Extended family/model apply per the SDM's CPUID.1 EAX description. */
    if (fam == 0xF)
        fam += (a >> 20) & 0xFF;
    if (fam == 0x6 || fam >= 0xF)
        model |= ((a >> 16) & 0xF) << 4;
    boot_cpu.family = fam;
    boot_cpu.model = model;
    boot_cpu.stepping = a & 0xF;

    cpuid(CPUID_EXT_BASE, 0, &a, &b, &c, &d);
    boot_cpu.max_ext_leaf = a;
    if (a >= CPUID_EXT_FEAT) {
        cpuid(CPUID_EXT_FEAT, 0, &a, &b, &c, &d);
        boot_cpu.ext1_edx = d;
    }
    boot_cpu.brand[0] = '\0';
    if (boot_cpu.max_ext_leaf >= CPUID_BRAND_2) {
        uint32_t r[12];
        for (unsigned i = 0; i < 3; i++)
            cpuid(CPUID_BRAND_0 + i, 0, &r[i * 4], &r[i * 4 + 1], &r[i * 4 + 2], &r[i * 4 + 3]);
        memcpy(boot_cpu.brand, r, 48);
        boot_cpu.brand[48] = '\0';
        /* Brand strings are often right-justified with leading spaces. */
        char *s = boot_cpu.brand;
        while (*s == ' ')
            s++;
        memmove(boot_cpu.brand, s, strlen(s) + 1);
    }
}
