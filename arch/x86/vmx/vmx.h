/* VMX operation: entering VMX root mode and the VMCS access instructions. */
#ifndef MV_VMX_H
#define MV_VMX_H
#include "compiler.h"
#include "vmcs.h"

/* Enters VMX root operation on this CPU (once). Returns NULL on success, else why not. */
const char *vmx_enable(void);
bool vmx_enabled(void);

/* VMX instructions report failure in RFLAGS: CF (VMfailInvalid) or ZF (VMfailValid). */
static inline bool vmwrite(uint64_t field, uint64_t val)
{
    bool fail;
    __asm__ volatile("vmwrite %2, %1; setna %0" : "=qm"(fail) : "r"(field), "rm"(val) : "cc", "memory");
    return !fail;
}

static inline uint64_t vmread(uint64_t field)
{
    uint64_t v = 0;
    __asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
    return v;
}

static inline bool vmptrld(uint64_t pa)
{
    bool fail;
    __asm__ volatile("vmptrld %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
    return !fail;
}

static inline bool vmclear(uint64_t pa)
{
    bool fail;
    __asm__ volatile("vmclear %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
    return !fail;
}

/* Allocates a zeroed page carrying the VMCS revision id (for VMXON regions and VMCSs). */
uint64_t vmx_alloc_vmcs_page(void);
#endif
