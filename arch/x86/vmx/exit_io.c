/* IN/OUT of 1, 2 and 4 bytes, and INS/OUTS with or without REP, to the VM's port space. String
 * forms move one element at a time through the guest's own page tables; a guest page fault
 * stops the instruction with RCX/RSI/RDI describing the completed part, and it restarts
 * after the guest's handler returns, as on hardware. A REP string moves at most
 * STRING_IO_BATCH elements per exit and is then re-entered where it stands (as hardware lets
 * an interrupt in between iterations), so a count of 2^32 cannot hold the CPU from the shell
 * and the other VMs. */
#include "exit.h"
#include "vmx.h"
#include "mmu.h"
#include "vm/vm.h"
#include "arch/x86/cpu.h"
#include "lib.h"

#define RFLAGS_DF       BIT(10)
#define ADDR_SIZE_16    0
#define ADDR_SIZE_32    1
#define ADDR_SIZE_64    2
#define SEG_ES          0
#define SEG_DS          3
#define GPR_RCX         1
#define GPR_RSI         6
#define GPR_RDI         7
#define STRING_IO_BATCH 1024

static uint64_t addr_mask(unsigned asz)
{
    return asz == ADDR_SIZE_16 ? 0xFFFFull : asz == ADDR_SIZE_32 ? 0xFFFFFFFFull : UINT64_MAX;
}

static uint64_t seg_base(struct vcpu *v, unsigned seg)
{
    if ((v->efer & EFER_LMA) && seg != 4 && seg != 5)   /* only FS/GS have bases in 64-bit mode */
        return 0;
    return vmread(VMCS_GUEST_ES_BASE + 2 * seg);
}

/* Updates a register modulo the address size, leaving the bits above it as they were. */
static void set_masked(struct vcpu *v, unsigned gpr, uint64_t val, uint64_t mask)
{
    uint64_t old = vcpu_gpr(v, gpr);
    vcpu_set_gpr(v, gpr, mask == UINT64_MAX ? val : (old & ~mask) | (val & mask));
}

static enum vcpu_action string_io(struct vcpu *v, uint16_t port, unsigned size, bool in, bool rep)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTR_INFO);
    unsigned asz = (info >> IOINFO_ADDR_SIZE_SHIFT) & IOINFO_ADDR_SIZE_MASK;
    uint64_t mask = addr_mask(asz);
    /* INS always writes ES:[rDI]; OUTS reads seg:[rSI] with DS unless overridden. */
    unsigned seg = in ? SEG_ES : (info >> IOINFO_SEG_SHIFT) & IOINFO_SEG_MASK;
    unsigned idx_reg = in ? GPR_RDI : GPR_RSI;
    int64_t step = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
    uint64_t count = rep ? vcpu_gpr(v, GPR_RCX) & mask : 1;
    uint64_t base = seg_base(v, seg);
    unsigned batch = STRING_IO_BATCH;

    while (count) {
        if (!batch--)
            return VCPU_RESUME;         /* the rest on re-entry: RIP still at the instruction */
        uint64_t idx = vcpu_gpr(v, idx_reg) & mask;
        uint64_t gva = base + idx;
        if (!(v->efer & EFER_LMA))
            gva &= 0xFFFFFFFFull;
        uint32_t val = 0;
        if (in) {
            val = ioport_in(&v->vm->plat.io, port, size);
            if (!mmu_write_gva(v, gva, &val, size))
                return v->vm->state == VM_RUNNING ? VCPU_RESUME : VCPU_STOP;
        } else {
            if (!mmu_read_gva(v, gva, &val, size))
                return v->vm->state == VM_RUNNING ? VCPU_RESUME : VCPU_STOP;
            ioport_out(&v->vm->plat.io, port, size, val);
        }
        set_masked(v, idx_reg, idx + (uint64_t)step, mask);
        count--;
        if (rep)
            set_masked(v, GPR_RCX, count, mask);
        if (v->vm->state != VM_RUNNING)
            return VCPU_STOP;
    }
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}

enum vcpu_action exit_io(struct vcpu *v)
{
    uint64_t q = v->exit_qual;
    unsigned size = (q & IOQ_SIZE_MASK) + 1;
    bool in = q & IOQ_IN;
    uint16_t port = (uint16_t)(q >> IOQ_PORT_SHIFT);
    if (size != 1 && size != 2 && size != 4)
        return vcpu_fail(v, "I/O exit with operand size %u", size);
    if (q & IOQ_STRING)
        return string_io(v, port, size, in, q & IOQ_REP);
    if (in) {
        uint32_t val = ioport_in(&v->vm->plat.io, port, size);
        if (size == 4)
            v->regs.rax = val;              /* a 32-bit destination zero-extends */
        else
            v->regs.rax = (v->regs.rax & ~(uint64_t)((1u << (size * 8)) - 1)) | val;
    } else {
        ioport_out(&v->vm->plat.io, port, size, (uint32_t)v->regs.rax);
    }
    if (v->vm->state != VM_RUNNING)
        return VCPU_STOP;
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}

enum vcpu_action exit_vmcall(struct vcpu *v)
{
    if (vcpu_cpl() != 0) {
        vcpu_inject_ud(v);
        return VCPU_RESUME;
    }
    uint64_t nr = v->regs.rax, a1 = v->regs.rbx, a2 = v->regs.rcx;
    switch (nr) {
    case HC_PRINT: {
        char buf[HC_PRINT_MAX];
        if (a2 > HC_PRINT_MAX) {
            v->regs.rax = HC_EINVAL;
            break;
        }
        if (!mmu_read_gva(v, a1, buf, a2))
            return v->vm->state == VM_RUNNING ? VCPU_RESUME : VCPU_STOP;
        for (uint64_t i = 0; i < a2; i++)
            vm_console_putc(v->vm, buf[i]);
        v->regs.rax = 0;
        break;
    }
    case HC_EXIT:
        v->vm->exit_code = (int)a1;
        vm_stop(v->vm, VM_STOPPED, "exited with code %d (hypercall)", (int)a1);
        return VCPU_STOP;
    default:
        v->regs.rax = HC_ENOSYS;
        break;
    }
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
}
