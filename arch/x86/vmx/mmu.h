/* The vCPU's memory virtualisation: which CR bits the VMM owns, the real CR0/CR4/EFER/CR3 the
 * CPU runs the guest with, and shadow-page-table upkeep on #PF, CR3 writes and INVLPG. The
 * exit handlers only call this interface, so an EPT mode can sit beside it later. */
#ifndef MV_VMX_MMU_H
#define MV_VMX_MMU_H
#include "vcpu.h"
#include "arch/x86/cpu.h"

/* Bits of CR0/CR4 whose guest writes exit (guest/host masks). CR4 is owned whole: every bit
 * either changes the paging mode or must be checked against what monovisor exposes. */
#define CR0_HOST_OWNED  (CR0_PE | CR0_NE | CR0_WP | CR0_PG | CR0_CD | CR0_NW)
#define CR4_HOST_OWNED  UINT64_MAX
/* CR4 bits a guest may set, and those that pass through to the real CR4. */
#define CR4_GUEST_ALLOWED (CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | \
                           CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_PCIDE)
/* With CR4.PCIDE, CR3[11:0] is the PCID and bit 63 of a MOV to CR3 asks not to flush it. */
#define CR3_PCID_MASK   0xFFFull
#define CR3_NOFLUSH     BIT(63)
#define CR4_PASSTHROUGH   (CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_MCE | CR4_PCE | CR4_OSFXSR | \
                           CR4_OSXMMEXCPT)

bool mmu_init(struct vcpu *v, char *err, size_t errlen);
void mmu_destroy(struct vcpu *v);
/* After the guest changed CR0, CR4 or EFER: recompute the mode and the real registers. */
void mmu_update_mode(struct vcpu *v);
/* False when the write was refused (#GP queued) or the VM stopped. */
bool mmu_set_cr3(struct vcpu *v, uint64_t cr3);
void mmu_invlpg(struct vcpu *v, uint64_t gva);
/* Before an entry: if a device region was claimed or released since, every shadow translation
 * is dropped, so none reaches RAM that a region now covers or misses one it left. */
void mmu_sync_map(struct vcpu *v);
/* Shadow table pages held: the current shadow and the parked ones of other PCIDs. */
size_t mmu_table_pages(const struct vcpu *v);
enum vcpu_action mmu_page_fault(struct vcpu *v, uint64_t gva, uint32_t pfec);
/* Guest-virtual accesses on the guest's behalf (string I/O, hypercalls). On a guest page fault
 * the #PF is queued for injection and false returned; the handler must then not complete the
 * instruction. False also if the VM was stopped (page outside its memory). */
bool mmu_read_gva(struct vcpu *v, uint64_t gva, void *buf, size_t len);
bool mmu_write_gva(struct vcpu *v, uint64_t gva, const void *buf, size_t len);
unsigned vcpu_cpl(void);
/* The guest's physical-address width (CPUID 0x80000008 as it sees it). */
unsigned mmu_maxphyaddr(void);
const char *gpt_mode_name(enum gpt_mode m);
#endif
