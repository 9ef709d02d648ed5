/* Shadow paging. The shadow tables are a virtual TLB: they only ever hold translations the
 * guest's own tables allow; INVLPG drops one, a CR3 write or paging-mode change drops all.
 * That is the architectural TLB contract, so guests that follow it see exact behaviour, and
 * no guest page-table page needs write protection. Any fault on a page the shadow does not
 * (yet) map re-walks the guest tables: a translation the guest added or upgraded since is
 * picked up, a real guest fault is reflected with the guest's error code and CR2. A clean page
 * is mapped read-only until the guest writes it, so that first write faults and sets the
 * guest's dirty bit exactly as hardware would. */
#include "mmu.h"
#include "vmx.h"
#include "vmx_caps.h"
#include "vm/vm.h"
#include "mm/memory.h"
#include "arch/x86/exception.h"
#include "layout.h"
#include "lib.h"
#include "exit.h"

#define CPUID_ADDR_SIZES 0x80000008u
#define SHADOW_WINDOW    (2ull << 20)       /* what one shadow page table maps */

static unsigned maxphyaddr;
static void walk_ctx(struct vcpu *v, struct gpt_ctx *c);

/* Table pages a flush gave back, kept for the refill that follows: a flush returns a handful
 * of pages and the next faults take as many again, and the page allocator's bitmap search (from
 * its hint, then from the start over every VM's RAM) costs more than the whole flush. shadow.c
 * zeroes every table page it takes, so a page is not zeroed here as well. */
#define SHADOW_PAGE_CACHE 256
static uint64_t page_cache[SHADOW_PAGE_CACHE];
static unsigned page_cache_n;

static uint64_t shadow_alloc(void *ctx)
{
    (void)ctx;
    return page_cache_n ? page_cache[--page_cache_n] : pmm_alloc(&host_pmm);
}

static void shadow_free(void *ctx, uint64_t hpa)
{
    (void)ctx;
    if (page_cache_n < SHADOW_PAGE_CACHE)
        page_cache[page_cache_n++] = hpa;
    else
        pmm_free(&host_pmm, hpa);
}
static void *shadow_ptr(void *ctx, uint64_t hpa) { return phys_to_virt(hpa); }
static const struct shadow_ops shadow_host_ops = { shadow_alloc, shadow_free, shadow_ptr, NULL };

static bool read_pte(void *ctx, uint64_t gpa, uint64_t *val)
{
    struct vcpu *v = ctx;
    return gmem_read(&v->vm->mem, gpa, val, sizeof(*val));
}

static bool write_pte(void *ctx, uint64_t gpa, uint64_t val)
{
    struct vcpu *v = ctx;
    return gmem_write(&v->vm->mem, gpa, &val, sizeof(val));
}

const char *gpt_mode_name(enum gpt_mode m)
{
    switch (m) {
    case GPT_MODE_NONE: return "paging off";
    case GPT_MODE_32: return "32-bit";
    case GPT_MODE_PAE: return "PAE";
    case GPT_MODE_LONG: return "4-level";
    }
    return "?";
}

unsigned mmu_maxphyaddr(void) { return maxphyaddr; }

unsigned vcpu_cpl(void)
{
    return (vmread(VMCS_GUEST_SS_AR) >> AR_DPL_SHIFT) & 3;
}

bool mmu_init(struct vcpu *v, char *err, size_t errlen)
{
    if (!maxphyaddr) {
        uint32_t a, b, c, d;
        cpuid(CPUID_ADDR_SIZES, 0, &a, &b, &c, &d);
        maxphyaddr = a & 0xFF;
        if (!maxphyaddr)
            maxphyaddr = 36;
    }
    int rc = shadow_init(&v->shadow, SHADOW_PAE, &shadow_host_ops);
    if (rc != 0) {
        ksnprintf(err, errlen, rc == SHADOW_EINVAL ? "no host page below 4 GiB for the PAE shadow root"
                                                   : "out of memory for shadow page tables");
        return false;
    }
    mmu_update_mode(v);
    return true;
}

/* Forgets every other PCID's shadow (mode changes, CR4 writes, memory pressure). */
static void drop_parked(struct vcpu *v)
{
    for (unsigned i = 0; i < MMU_PCID_SLOTS; i++)
        shadow_destroy(&v->parked[i].sh);
}

void mmu_sync_map(struct vcpu *v)
{
    uint64_t gen = v->vm->plat.mmio.generation;
    if (gen == v->mmio_generation)
        return;
    v->mmio_generation = gen;
    drop_parked(v);
    shadow_flush(&v->shadow);
    v->shadow_flushes++;
}

size_t mmu_table_pages(const struct vcpu *v)
{
    size_t n = v->shadow.pages_in_use;
    for (unsigned i = 0; i < MMU_PCID_SLOTS; i++)
        n += v->parked[i].sh.root_hpa ? v->parked[i].sh.pages_in_use : 0;
    return n;
}

void mmu_destroy(struct vcpu *v)
{
    drop_parked(v);
    shadow_destroy(&v->shadow);
}

/* Makes pcid's shadow the current one: the current is parked (evicting the least recently
 * parked when all slots are taken) and pcid's parked shadow, if any, comes back. False if no
 * memory is left for a fresh root even after dropping the parked ones. */
static bool switch_pcid(struct vcpu *v, uint16_t pcid)
{
    v->pcid_switches++;
    struct shadow_slot *slot = NULL;
    for (unsigned i = 0; i < MMU_PCID_SLOTS && !slot; i++)
        if (v->parked[i].sh.root_hpa && v->parked[i].pcid == pcid)
            slot = &v->parked[i];
    if (slot) {
        struct shadow back = slot->sh;
        *slot = (struct shadow_slot){ v->shadow, v->shadow_pcid, v->exits };
        v->shadow = back;
        v->shadow_pcid = pcid;
        return true;
    }
    slot = &v->parked[0];
    for (unsigned i = 0; i < MMU_PCID_SLOTS; i++) {
        if (!v->parked[i].sh.root_hpa) {
            slot = &v->parked[i];
            break;
        }
        if (v->parked[i].last_use < slot->last_use)
            slot = &v->parked[i];
    }
    shadow_destroy(&slot->sh);
    *slot = (struct shadow_slot){ v->shadow, v->shadow_pcid, v->exits };
    v->shadow_pcid = pcid;
    if (shadow_init(&v->shadow, SHADOW_LONG, &shadow_host_ops) == 0)
        return true;
    drop_parked(v);
    return shadow_init(&v->shadow, SHADOW_LONG, &shadow_host_ops) == 0;
}

void mmu_update_mode(struct vcpu *v)
{
    const struct vmx_caps *c = &host_vmx_caps;
    bool pg = v->cr0 & CR0_PG;
    if (pg && (v->efer & EFER_LME))
        v->efer |= EFER_LMA;
    else
        v->efer &= ~EFER_LMA;
    bool lma = v->efer & EFER_LMA;
    v->mode = !pg ? GPT_MODE_NONE : lma ? GPT_MODE_LONG : (v->cr4 & CR4_PAE) ? GPT_MODE_PAE : GPT_MODE_32;

    enum shadow_fmt fmt = lma ? SHADOW_LONG : SHADOW_PAE;
    drop_parked(v);
    v->shadow_pcid = (v->cr4 & CR4_PCIDE) ? v->cr3 & CR3_PCID_MASK : 0;
    if (fmt != v->shadow.fmt) {
        shadow_destroy(&v->shadow);
        if (shadow_init(&v->shadow, fmt, &shadow_host_ops) != 0)
            panic("out of memory for a shadow root");
    } else {
        shadow_flush(&v->shadow);
    }
    v->shadow_flushes++;

    /* The CPU really runs with paging (PAE or 4-level) on: the shadow is what it walks. */
    uint64_t cr0 = ((v->cr0 & ~(CR0_CD | CR0_NW)) | CR0_PE | CR0_PG | CR0_NE | CR0_WP | c->cr0_fixed0) & c->cr0_fixed1;
    uint64_t cr4 = ((v->cr4 & CR4_PASSTHROUGH) | CR4_PAE | CR4_VMXE | c->cr4_fixed0) & c->cr4_fixed1;
    /* The real CR0.PG is always 1, so the CPU requires real EFER.LME == LMA: a guest that set
     * LME with its paging still off keeps that only in its view until it turns paging on. */
    uint64_t efer = (v->efer & (EFER_SCE | EFER_NXE)) | (lma ? EFER_LME | EFER_LMA : 0);
    vmwrite(VMCS_GUEST_CR0, cr0);
    vmwrite(VMCS_CR0_READ_SHADOW, v->cr0);
    vmwrite(VMCS_GUEST_CR4, cr4);
    vmwrite(VMCS_CR4_READ_SHADOW, v->cr4);
    vmwrite(VMCS_GUEST_IA32_EFER, efer);
    vmwrite(VMCS_GUEST_CR3, v->shadow.root_hpa);
    uint64_t entry = vmread(VMCS_ENTRY_CTLS);
    vmwrite(VMCS_ENTRY_CTLS, lma ? entry | ENTRY_IA32E_MODE_GUEST : entry & ~(uint64_t)ENTRY_IA32E_MODE_GUEST);
}

bool mmu_set_cr3(struct vcpu *v, uint64_t cr3)
{
    if (v->mode == GPT_MODE_PAE) {
        /* MOV to CR3 in PAE paging loads the PDPTEs: reserved bits in one are a #GP. */
        struct gpt_ctx c;
        uint64_t pdpte[GPT_PAE_PDPTES], bad;
        walk_ctx(v, &c);
        c.cr3 = cr3;
        enum gpt_result r = gpt_load_pdptes(&c, pdpte, &bad);
        if (r == GPT_FAULT) {
            vcpu_inject_gp0(v);
            return false;
        }
        if (r == GPT_BAD_GPA) {
            vcpu_fail(v, "PAE PDPT at %#llx lies outside the VM's memory", (unsigned long long)bad);
            return false;
        }
    }
    bool flush = true;
    if (v->cr4 & CR4_PCIDE) {
        /* Bit 63 is an instruction to the TLB, not part of CR3. */
        flush = !(cr3 & CR3_NOFLUSH);
        cr3 &= ~CR3_NOFLUSH;
        uint16_t pcid = cr3 & CR3_PCID_MASK;
        if (pcid != v->shadow_pcid && !switch_pcid(v, pcid)) {
            vcpu_fail(v, "out of memory for shadow page tables");
            return false;
        }
        if (!flush)
            v->pcid_kept++;
    }
    v->cr3 = cr3;
    if (flush) {
        shadow_flush(&v->shadow);
        v->shadow_flushes++;
    }
    vmwrite(VMCS_GUEST_CR3, v->shadow.root_hpa);
    return true;
}

void mmu_invlpg(struct vcpu *v, uint64_t gva)
{
    /* INVLPG also drops global translations cached under other PCIDs: dropping gva from every
     * kept shadow covers that (dropping more than required is always allowed). */
    shadow_invlpg(&v->shadow, gva);
    for (unsigned i = 0; i < MMU_PCID_SLOTS; i++)
        shadow_invlpg(&v->parked[i].sh, gva);
}

static void walk_ctx(struct vcpu *v, struct gpt_ctx *c)
{
    *c = (struct gpt_ctx){
        .mode = v->mode, .cr3 = v->cr3, .cr0_wp = v->cr0 & CR0_WP, .cr4_pse = v->cr4 & CR4_PSE,
        .efer_nxe = v->efer & EFER_NXE, .cr4_smep = false, .maxphyaddr = maxphyaddr,
        .read_pte = read_pte, .write_pte = write_pte, .ctx = v,
    };
}

static void inject_pf(struct vcpu *v, uint64_t gva, uint32_t pfec)
{
    v->regs.cr2 = gva;
    v->guest_pf_injected++;
    vcpu_inject_exception(v, EXC_PF, true, pfec);
}

/* The span-aligned piece of a guest translation around gva, if it is plain RAM: inside the
 * VM's memory, within one host chunk (guest RAM comes in 2 MiB-aligned, contiguous chunks) and
 * clear of every device region. Gives its gva and hpa. */
static bool ram_window(struct vcpu *v, uint64_t gva, uint64_t gpa, uint64_t span, uint64_t *gva0, uint64_t *hpa0)
{
    uint64_t off = gva & (span - 1);            /* gva and gpa agree below the page size */
    uint64_t gpa0 = gpa - off;
    if (gpa0 + span > v->vm->mem.size || (gpa0 & (GMEM_CHUNK_SIZE - 1)) + span > GMEM_CHUNK_SIZE ||
        mmio_overlaps(&v->vm->plat.mmio, gpa0, span))
        return false;
    *gva0 = gva - off;
    *hpa0 = gmem_hpa(&v->vm->mem, gpa0);
    return true;
}

/* One guest translation covers more than the faulting 4 KiB (a large page, or paging off):
 * map all of it that shares the fault's shadow page table (its 2 MiB window) now, with the
 * same rights, instead of taking a fault per 4 KiB. Each piece is exactly what the guest's
 * translation allows, so this is only an earlier fill of the virtual TLB. A window is one host
 * chunk, so one run of entries maps it; a window that reaches past guest RAM is left to fault
 * page by page. Best effort. */
static void fill_window(struct vcpu *v, uint64_t gva, uint64_t gpa, uint64_t page_size, bool writable,
                        bool user, bool nx)
{
    uint64_t span = v->mode == GPT_MODE_NONE ? SHADOW_WINDOW : MIN(page_size, SHADOW_WINDOW);
    uint64_t gva0, hpa0;
    if (ram_window(v, gva, gpa, span, &gva0, &hpa0) &&
        shadow_map_run(&v->shadow, gva0, hpa0, (unsigned)(span / PAGE_SIZE), writable, user, nx, page_size) == 0)
        v->shadow_prefills++;
}

/* A guest translation that covers gva's whole 2 MiB window (a 2 MiB, 4 MiB or 1 GiB guest
 * page, or paging off) over RAM is one host chunk, contiguous and 2 MiB-aligned: one large
 * shadow leaf maps all of it, with no page table to zero and fill. False if the window reaches
 * past RAM or onto a device region, or no table page is left (the caller maps 4 KiB then). */
static bool map_window_large(struct vcpu *v, uint64_t gva, uint64_t gpa, uint64_t page_size, bool writable,
                             bool user, bool nx)
{
    STATIC_ASSERT(GMEM_CHUNK_SIZE == SHADOW_WINDOW, "a window is one host chunk");
    uint64_t gva0, hpa0;
    if ((v->mode != GPT_MODE_NONE && page_size < SHADOW_WINDOW) ||
        !ram_window(v, gva, gpa, SHADOW_WINDOW, &gva0, &hpa0) ||
        shadow_map_large(&v->shadow, gva0, hpa0, writable, user, nx, page_size) != 0)
        return false;
    v->shadow_large++;
    return true;
}

enum vcpu_action mmu_page_fault(struct vcpu *v, uint64_t gva, uint32_t pfec)
{
    unsigned access = pfec & (GPT_ACC_WRITE | GPT_ACC_USER | GPT_ACC_FETCH);
    struct gpt_ctx c;
    struct gpt_walk w;
    walk_ctx(v, &c);
    enum gpt_result r = gpt_walk(&c, gva, access, true, &w);
    if (r == GPT_FAULT) {
        inject_pf(v, gva, w.pfec);
        return VCPU_RESUME;
    }
    if (r == GPT_NONCANONICAL) {
        vcpu_inject_gp0(v);
        return VCPU_RESUME;
    }
    if (r == GPT_BAD_GPA)
        return vcpu_fail(v, "guest page table at guest-physical %#llx lies outside the VM's memory",
                         (unsigned long long)w.bad_gpa);
    const struct mmio_region *mr = mmio_find_const(&v->vm->plat.mmio, w.gpa);
    if (mr && !mr->ops->hpa) {
        if (access & GPT_ACC_FETCH)
            return vcpu_fail(v, "instruction fetch from %s MMIO at guest-physical %#llx",
                             mr->ops->name, (unsigned long long)w.gpa);
        return exit_mmio(v, gva, w.gpa);
    }
    uint64_t hpa = mr ? mr->ops->hpa(mr->dev, (w.gpa - mr->base) & ~(PAGE_SIZE - 1))
                      : gmem_hpa(&v->vm->mem, w.gpa & ~(PAGE_SIZE - 1));
    if (hpa == GPA_INVALID)
        return vcpu_fail(v, "access to guest-physical %#llx (linear %#llx), outside the VM's %llu MiB",
                         (unsigned long long)w.gpa, (unsigned long long)gva,
                         (unsigned long long)(v->vm->mem.size >> 20));
    bool write = access & GPT_ACC_WRITE;
    /* Read-only until the first write, so that write sets the guest's dirty bit. A supervisor
     * write the guest allows to a read-only page (CR0.WP=0) gets a supervisor-only mapping,
     * so user accesses through it still fault and are re-checked. */
    bool writable = w.writable ? write || w.dirty : write;
    bool user = w.user && !(write && !w.writable);
    v->shadow_faults++;
    if ((w.page_size > PAGE_SIZE || v->mode == GPT_MODE_NONE) && !mr &&
        map_window_large(v, gva, w.gpa, w.page_size, writable, user, w.nx))
        return VCPU_RESUME;
    /* The guest page size is recorded so INVLPG anywhere in a large page drops all of it. */
    uint64_t page = gva & ~(PAGE_SIZE - 1);
    if (shadow_map_sized(&v->shadow, page, hpa, writable, user, w.nx, w.page_size) != 0) {
        drop_parked(v);
        shadow_flush(&v->shadow);
        v->shadow_flushes++;
        if (shadow_map_sized(&v->shadow, page, hpa, writable, user, w.nx, w.page_size) != 0)
            return vcpu_fail(v, "out of memory for shadow page tables");
    }
    if (w.page_size > PAGE_SIZE || v->mode == GPT_MODE_NONE) {
        fill_window(v, gva, w.gpa, w.page_size, writable, user, w.nx);
    }
    return VCPU_RESUME;
}

/* Translates one page of a guest-virtual access for the VMM; false after queueing #PF. */
static bool translate(struct vcpu *v, uint64_t gva, bool write, uint64_t *gpa)
{
    struct gpt_ctx c;
    struct gpt_walk w;
    walk_ctx(v, &c);
    unsigned access = (write ? GPT_ACC_WRITE : 0) | (vcpu_cpl() == 3 ? GPT_ACC_USER : 0);
    enum gpt_result r = gpt_walk(&c, gva, access, true, &w);
    if (r == GPT_FAULT) {
        inject_pf(v, gva, w.pfec);
        return false;
    }
    if (r == GPT_NONCANONICAL) {
        vcpu_inject_gp0(v);
        return false;
    }
    if (r == GPT_BAD_GPA) {
        vcpu_fail(v, "guest page table at %#llx outside the VM's memory", (unsigned long long)w.bad_gpa);
        return false;
    }
    *gpa = w.gpa;
    return true;
}

/* A VMM access on the guest's behalf that lands on a claimed region: trapped registers see
 * the width the guest used when it is one the bus has (1/2/4/8 bytes), else byte by byte;
 * device memory is read or written in place. */
static bool access_mmio(struct vcpu *v, uint64_t gpa, uint8_t *b, size_t n, bool write)
{
    struct mmio_table *t = &v->vm->plat.mmio;
    const struct mmio_region *mr = mmio_find_const(t, gpa);
    if (mr->ops->hpa) {
        uint64_t off = gpa - mr->base;
        if (off + n > mr->len || (off & (PAGE_SIZE - 1)) + n > PAGE_SIZE)
            return false;
        uint8_t *p = (uint8_t *)phys_to_virt(mr->ops->hpa(mr->dev, off & ~(PAGE_SIZE - 1))) + (off & (PAGE_SIZE - 1));
        if (write)
            memcpy(p, b, n);
        else
            memcpy(b, p, n);
        return true;
    }
    if (n == 1 || n == 2 || n == 4 || n == 8) {
        uint64_t val = 0;
        if (write) {
            memcpy(&val, b, n);
            return mmio_write(t, gpa, (unsigned)n, val);
        }
        if (!mmio_read(t, gpa, (unsigned)n, &val))
            return false;
        memcpy(b, &val, n);
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (!access_mmio(v, gpa + i, b + i, 1, write))
            return false;
    return true;
}

static bool access_gva(struct vcpu *v, uint64_t gva, void *buf, size_t len, bool write)
{
    uint8_t *b = buf;
    while (len) {
        uint64_t gpa;
        size_t n = MIN(len, PAGE_SIZE - (gva & (PAGE_SIZE - 1)));
        if (!translate(v, gva, write, &gpa))
            return false;
        bool ok = mmio_find_const(&v->vm->plat.mmio, gpa) ? access_mmio(v, gpa, b, n, write)
                  : write ? gmem_write(&v->vm->mem, gpa, b, n) : gmem_read(&v->vm->mem, gpa, b, n);
        if (!ok) {
            vcpu_fail(v, "access to guest-physical %#llx, outside the VM's memory", (unsigned long long)gpa);
            return false;
        }
        gva += n;
        b += n;
        len -= n;
    }
    return true;
}

bool mmu_read_gva(struct vcpu *v, uint64_t gva, void *buf, size_t len)
{
    return access_gva(v, gva, buf, len, false);
}

bool mmu_write_gva(struct vcpu *v, uint64_t gva, const void *buf, size_t len)
{
    return access_gva(v, gva, (void *)buf, len, true);
}
