/* PCI configuration mechanism #1, bus 0, with the i440FX host bridge and the PIIX3 ISA bridge.
 * Config space is a byte array per function; wmask says which bits software may change, so
 * read-only fields, hardwired zeros and BAR sizing all fall out of one masked write. */
#include "dev/pci.h"

#define ALL_ONES        0xFFFFFFFFu
#define NO_IRQ          (-1)
#define BYTE_BITS       8u
#define BYTE_MASK       0xFFu
#define DWORD           4u

static uint32_t size_mask(unsigned size)
{
    return size >= DWORD ? ALL_ONES : (1u << (size * BYTE_BITS)) - 1;
}

/* Sizes 1/2/4 inside one dword: the only accesses a CONFIG_DATA byte lane can produce. */
static bool access_ok(unsigned offset, unsigned size)
{
    return (size == 1 || size == 2 || size == DWORD) && offset < PCI_CONFIG_SIZE &&
           (offset & (DWORD - 1)) + size <= DWORD;
}

static uint32_t cfg_get(const uint8_t *a, unsigned offset, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)a[offset + i] << (BYTE_BITS * i);
    return v;
}

static void cfg_put(uint8_t *a, unsigned offset, unsigned size, uint32_t val)
{
    for (unsigned i = 0; i < size; i++)
        a[offset + i] = (uint8_t)(val >> (BYTE_BITS * i));
}

uint32_t pci_config_plain_read(const struct pci_function *f, unsigned offset, unsigned size)
{
    if (!access_ok(offset, size))
        return size_mask(size);
    return cfg_get(f->config, offset, size);
}

void pci_config_plain_write(struct pci_function *f, unsigned offset, unsigned size, uint32_t val)
{
    if (!access_ok(offset, size))
        return;
    for (unsigned i = 0; i < size; i++) {
        uint8_t m = f->wmask[offset + i], v = (uint8_t)(val >> (BYTE_BITS * i));
        f->config[offset + i] = (uint8_t)((f->config[offset + i] & ~m) | (v & m));
    }
}

void pci_function_init(struct pci_function *f, uint8_t devfn, uint16_t vendor, uint16_t device,
                       uint32_t class_rev, uint8_t int_pin, const struct pci_function_ops *ops, void *dev)
{
    for (unsigned i = 0; i < PCI_CONFIG_SIZE; i++)
        f->config[i] = f->wmask[i] = 0;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        f->bar_size[i] = 0;
    f->devfn = devfn;
    f->ops = ops;
    f->dev = dev;
    f->intx_level = false;
    cfg_put(f->config, PCI_VENDOR_ID, 2, vendor);
    cfg_put(f->config, PCI_DEVICE_ID, 2, device);
    cfg_put(f->config, PCI_CLASS_REVISION, DWORD, class_rev);
    f->config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
    f->config[PCI_INTERRUPT_PIN] = int_pin <= PIIX3_PIRQS ? int_pin : 0;
    /* IO/MEM enables become writable with the first BAR of their kind (unused enables are
     * hardwired 0); mastering and error reporting are the device's business. */
    cfg_put(f->wmask, PCI_COMMAND, 2, PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR);
    f->wmask[PCI_CACHE_LINE_SIZE] = BYTE_MASK;
    f->wmask[PCI_LATENCY_TIMER] = BYTE_MASK;
    f->wmask[PCI_INTERRUPT_LINE] = BYTE_MASK;   /* firmware records the IRQ it routed here */
}

static bool is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

void pci_function_set_bar(struct pci_function *f, unsigned bar, uint32_t size, bool io)
{
    if (bar >= PCI_NUM_BARS)
        return;
    uint32_t min = io ? PCI_BAR_IO_MIN_SIZE : PCI_BAR_MEM_MIN_SIZE;
    uint32_t limit = io ? PCI_IO_SPACE_SIZE : 0x80000000u;  /* a 32-bit BAR: at most 2 GiB */
    uint32_t s = size ? MAX(size, min) : 0;
    while (s && s <= limit && !is_pow2(s))
        s = (s | (s - 1)) + 1;                  /* next power of two: clear to the top bit, carry */
    if (s > limit)
        s = 0;
    f->bar_size[bar] = s;
    unsigned off = PCI_BAR0 + bar * DWORD;
    /* The address bits above the size are writable; the rest read as the type bits, so writing
     * all-ones reads back ~(size - 1) | type: the standard sizing probe. */
    uint32_t type = s && io ? PCI_BAR_SPACE_IO : 0;
    uint32_t wm = s ? ~(s - 1) & (io ? PCI_BAR_IO_ADDR_MASK : PCI_BAR_MEM_ADDR_MASK) : 0;
    cfg_put(f->config, off, DWORD, type);
    cfg_put(f->wmask, off, DWORD, wm);
    if (s)
        f->wmask[PCI_COMMAND] |= io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
}

bool pci_bar_is_io(const struct pci_function *f, unsigned bar)
{
    return bar < PCI_NUM_BARS && (f->config[PCI_BAR0 + bar * DWORD] & PCI_BAR_SPACE_IO);
}

uint32_t pci_bar_address(const struct pci_function *f, unsigned bar)
{
    if (bar >= PCI_NUM_BARS || !f->bar_size[bar])
        return 0;
    uint32_t size = f->bar_size[bar];
    bool io = pci_bar_is_io(f, bar);
    uint32_t mask = ~(size - 1) & (io ? PCI_BAR_IO_ADDR_MASK : PCI_BAR_MEM_ADDR_MASK);
    uint32_t base = cfg_get(f->config, PCI_BAR0 + bar * DWORD, DWORD) & mask;
    /* All address bits set is the sizing probe left in place, not a place to decode. */
    if (!base || base == mask)
        return 0;
    if (io && (uint64_t)base + size > PCI_IO_SPACE_SIZE)
        return 0;
    return base;
}

bool pci_bar_enabled(const struct pci_function *f, unsigned bar)
{
    uint16_t cmd = (uint16_t)cfg_get(f->config, PCI_COMMAND, 2);
    if (!pci_bar_address(f, bar))
        return false;
    return (cmd & (pci_bar_is_io(f, bar) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) != 0;
}

/* ---- Interrupt routing (PIIX3 PIRQRC) ---- */

int pci_pirq_route(const struct pci_bus *b, unsigned pirq)
{
    if (pirq >= PIIX3_PIRQS)
        return NO_IRQ;
    uint8_t rc = b->isa_bridge.config[PIIX3_PIRQRC + pirq];
    unsigned irq = rc & PIIX3_PIRQRC_IRQ_MASK;
    /* Reserved IRQ values route nowhere rather than onto a line the board owns. */
    if ((rc & PIIX3_PIRQRC_DISABLE) || !(PIIX3_PIRQ_VALID_IRQS & (1u << irq)))
        return NO_IRQ;
    return (int)irq;
}

/* An ISA IRQ is the OR of every asserted PIRQ routed to it; tell the PIC only on a change. */
static void update_isa_irq(struct pci_bus *b, int irq)
{
    if (irq == NO_IRQ)
        return;
    bool level = false;
    for (unsigned p = 0; p < PIIX3_PIRQS; p++)
        if (b->pirq_level[p] && pci_pirq_route(b, p) == irq)
            level = true;
    uint16_t bit = (uint16_t)(1u << irq);
    if (level == ((b->isa_irq_out & bit) != 0))
        return;
    b->isa_irq_out = (uint16_t)(level ? b->isa_irq_out | bit : b->isa_irq_out & ~bit);
    if (b->set_irq)
        b->set_irq(b->ctx, (unsigned)irq, level);
}

void pci_set_intx(struct pci_bus *b, struct pci_function *f, bool level)
{
    unsigned pin = f->config[PCI_INTERRUPT_PIN];
    if (b->fn[f->devfn] != f || !pin || pin > PIIX3_PIRQS || f->intx_level == level)
        return;
    f->intx_level = level;
    /* The board rotates INTA#-INTD# by slot so that single-function devices spread out. */
    unsigned pirq = (pin - 1 + PCI_DEV(f->devfn)) & (PIIX3_PIRQS - 1);
    bool was = b->pirq_level[pirq] != 0;
    if (level)
        b->pirq_level[pirq]++;
    else
        b->pirq_level[pirq]--;
    update_isa_irq(b, pci_pirq_route(b, pirq));
    if (b->pirq_changed && was != (b->pirq_level[pirq] != 0))
        b->pirq_changed(b->ctx, pirq, !was);
}

/* PIRQRC writes: a line that is already asserted leaves its old IRQ and appears on the new. */
static void piix3_config_write(struct pci_function *f, unsigned offset, unsigned size, uint32_t val)
{
    struct pci_bus *b = f->dev;
    int old[PIIX3_PIRQS];
    for (unsigned p = 0; p < PIIX3_PIRQS; p++)
        old[p] = pci_pirq_route(b, p);
    pci_config_plain_write(f, offset, size, val);
    for (unsigned p = 0; p < PIIX3_PIRQS; p++) {
        int now = pci_pirq_route(b, p);
        if (now != old[p]) {
            update_isa_irq(b, old[p]);
            update_isa_irq(b, now);
        }
    }
}

static const struct pci_function_ops piix3_ops = { .config_write = piix3_config_write };

/* ---- Config space accesses ---- */

uint32_t pci_config_read(struct pci_bus *b, uint8_t devfn, unsigned offset, unsigned size)
{
    struct pci_function *f = b->fn[devfn];
    if (!f || !access_ok(offset, size))
        return size_mask(size);     /* master abort: nobody claims the cycle */
    if (offset >= PCI_DEVICE_SPECIFIC && f->ops && f->ops->config_read)
        return f->ops->config_read(f, offset, size) & size_mask(size);
    return cfg_get(f->config, offset, size);
}

void pci_config_write(struct pci_bus *b, uint8_t devfn, unsigned offset, unsigned size, uint32_t val)
{
    struct pci_function *f = b->fn[devfn];
    if (!f || !access_ok(offset, size))
        return;
    val &= size_mask(size);
    if (offset >= PCI_DEVICE_SPECIFIC) {
        if (f->ops && f->ops->config_write)
            f->ops->config_write(f, offset, size, val);
        else
            pci_config_plain_write(f, offset, size, val);
        return;
    }
    /* Header: one masked write, then tell the device what that did to its dword. */
    unsigned dw = offset & ~(DWORD - 1);
    uint32_t old = cfg_get(f->config, dw, DWORD);
    pci_config_plain_write(f, offset, size, val);
    uint32_t now = cfg_get(f->config, dw, DWORD);
    if (old == now || !f->ops)
        return;
    if (dw >= PCI_BAR0 && dw <= PCI_BAR5 && f->ops->bar_changed)
        f->ops->bar_changed(f, (dw - PCI_BAR0) / DWORD, old, now);
    if (dw == PCI_COMMAND && (uint16_t)old != (uint16_t)now && f->ops->command_changed)
        f->ops->command_changed(f, (uint16_t)old, (uint16_t)now);
}

bool pci_register(struct pci_bus *b, struct pci_function *f)
{
    if (!f || b->fn[f->devfn])
        return false;
    b->fn[f->devfn] = f;
    /* Software scans functions 1-7 only when function 0 says it has siblings. */
    struct pci_function *f0 = b->fn[PCI_DEVFN(PCI_DEV(f->devfn), 0)];
    if (f0 && f0 != f)
        f0->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI;
    if (f0 == f)
        for (unsigned fn = 1; fn < PCI_MAX_FUNCTIONS; fn++)
            if (b->fn[f->devfn + fn])
                f->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI;
    return true;
}

/* ---- The chipset ---- */

static void host_bridge_init(struct pci_function *f)
{
    pci_function_init(f, PCI_HOST_BRIDGE_DEVFN, PCI_VENDOR_INTEL, PCI_DEVICE_I440FX,
                      PCI_CLASS_HOST_BRIDGE << BYTE_BITS | I440FX_REVISION, 0, NULL, NULL);
    /* 82441FX: memory access and bus mastering hardwired on; nothing else to switch. */
    cfg_put(f->config, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    cfg_put(f->config, PCI_STATUS, 2, PCI_STATUS_DEVSEL_MEDIUM | PCI_STATUS_FAST_BACK);
    cfg_put(f->wmask, PCI_COMMAND, 2, 0);
    f->wmask[PCI_INTERRUPT_LINE] = 0;           /* no interrupt: the register is reserved */
    /* PAM and SMRAM only hold what firmware writes; shadowing and SMM are not modelled. */
    f->wmask[I440FX_PAM0] = I440FX_PAM0_MASK;
    for (unsigned r = I440FX_PAM0 + 1; r <= I440FX_PAM6; r++)
        f->wmask[r] = I440FX_PAM_MASK;
    f->config[I440FX_SMRAM] = I440FX_SMRAM_DEFAULT;
    f->wmask[I440FX_SMRAM] = I440FX_SMRAM_MASK;
}

static void isa_bridge_init(struct pci_function *f, struct pci_bus *b)
{
    pci_function_init(f, PCI_ISA_BRIDGE_DEVFN, PCI_VENDOR_INTEL, PCI_DEVICE_PIIX3_ISA,
                      PCI_CLASS_ISA_BRIDGE << BYTE_BITS | PIIX3_REVISION, 0, &piix3_ops, b);
    /* PIIX3 function 0: I/O, memory and master enables hardwired on; its IDE and USB
     * functions share the device, hence multi-function. */
    cfg_put(f->config, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    cfg_put(f->config, PCI_STATUS, 2, PCI_STATUS_DEVSEL_MEDIUM);
    cfg_put(f->wmask, PCI_COMMAND, 2, 0);
    f->wmask[PCI_INTERRUPT_LINE] = 0;
    f->config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI;
    for (unsigned p = 0; p < PIIX3_PIRQS; p++) {
        f->config[PIIX3_PIRQRC + p] = PIIX3_PIRQRC_DEFAULT;
        f->wmask[PIIX3_PIRQRC + p] = PIIX3_PIRQRC_WMASK;
    }
}

void pci_init(struct pci_bus *b, void (*set_irq)(void *, unsigned, bool), void *ctx)
{
    b->config_address = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(b->fn); i++)
        b->fn[i] = NULL;
    for (unsigned p = 0; p < PIIX3_PIRQS; p++)
        b->pirq_level[p] = 0;
    b->isa_irq_out = 0;
    b->pirq_changed = NULL;
    b->set_irq = set_irq;
    b->ctx = ctx;
    host_bridge_init(&b->host_bridge);
    isa_bridge_init(&b->isa_bridge, b);
    pci_register(b, &b->host_bridge);
    pci_register(b, &b->isa_bridge);
}

void pci_on_pirq(struct pci_bus *b, void (*pirq_changed)(void *, unsigned, bool))
{
    b->pirq_changed = pirq_changed;
}

/* ---- What the firmware sets up ---- */

/* Assigns every BAR of one kind, largest first, from *next; false if past limit. */
static bool assign_bars(struct pci_bus *b, bool io, uint32_t *next, uint32_t limit)
{
    for (;;) {
        struct pci_function *best = NULL;
        unsigned best_bar = 0;
        for (unsigned i = 0; i < ARRAY_SIZE(b->fn); i++) {
            struct pci_function *f = b->fn[i];
            if (!f)
                continue;
            for (unsigned bar = 0; bar < PCI_NUM_BARS; bar++)
                if (f->bar_size[bar] && pci_bar_is_io(f, bar) == io && !pci_bar_address(f, bar) &&
                    (!best || f->bar_size[bar] > best->bar_size[best_bar])) {
                    best = f;
                    best_bar = bar;
                }
        }
        if (!best)
            return true;
        uint32_t size = best->bar_size[best_bar];
        uint64_t base = ((uint64_t)*next + size - 1) & ~(uint64_t)(size - 1);
        if (base + size > limit)
            return false;
        pci_config_write(b, best->devfn, PCI_BAR0 + best_bar * DWORD, DWORD, (uint32_t)base);
        if (!pci_bar_address(best, best_bar))
            return false;               /* the BAR did not take it: stop rather than loop */
        *next = (uint32_t)(base + size);
    }
}

bool pci_firmware_setup(struct pci_bus *b, const uint8_t pirq_irq[PIIX3_PIRQS], uint32_t io_base,
                        uint32_t mem_base, uint32_t mem_limit)
{
    for (unsigned p = 0; p < PIIX3_PIRQS; p++)
        pci_config_write(b, PCI_ISA_BRIDGE_DEVFN, PIIX3_PIRQRC + p, 1, pirq_irq[p]);
    uint32_t io = io_base, mem = mem_base;
    if (!assign_bars(b, true, &io, PCI_IO_SPACE_SIZE) || !assign_bars(b, false, &mem, mem_limit))
        return false;
    for (unsigned i = 0; i < ARRAY_SIZE(b->fn); i++) {
        struct pci_function *f = b->fn[i];
        if (!f || f == &b->host_bridge || f == &b->isa_bridge)
            continue;
        unsigned pin = f->config[PCI_INTERRUPT_PIN];
        if (pin) {
            int irq = pci_pirq_route(b, (pin - 1 + PCI_DEV(f->devfn)) & (PIIX3_PIRQS - 1));
            pci_config_write(b, f->devfn, PCI_INTERRUPT_LINE, 1, irq < 0 ? BYTE_MASK : (uint32_t)irq);
        }
        uint16_t cmd = (uint16_t)cfg_get(f->config, PCI_COMMAND, 2);
        pci_config_write(b, f->devfn, PCI_COMMAND, 2, cmd | PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    }
    return true;
}

/* ---- Mechanism #1 ports ---- */

/* Only a dword access at 0xCF8 is CONFIG_ADDRESS; narrower ones would go on to ISA on real
 * chipsets (0xCF9 is the reset control register), so here they read all-ones and do nothing.
 * That is also what makes Linux's mechanism #2 probe (byte accesses to 0xCF8) fail. */
static uint32_t addr_in(void *dev, uint16_t port, unsigned size)
{
    struct pci_bus *b = dev;
    return size == DWORD ? b->config_address : ALL_ONES;
}

static void addr_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct pci_bus *b = dev;
    if (size == DWORD)
        b->config_address = val & PCI_CONFIG_ADDRESS_MASK;
}

/* The config cycle CONFIG_DATA would run, or false if none (disabled, or bus != 0: there are
 * no PCI-to-PCI bridges, so nothing answers type-1 cycles). */
static bool data_target(const struct pci_bus *b, uint16_t port, unsigned size,
                        uint8_t *devfn, unsigned *offset)
{
    uint32_t a = b->config_address;
    unsigned lane = (unsigned)(port - PCI_CONFIG_DATA_PORT);
    /* A wide access starting at a high lane runs past 0xCFF: not a config cycle. */
    if (!(a & PCI_CONFIG_ENABLE) || ((a >> PCI_CONFIG_BUS_SHIFT) & PCI_CONFIG_BUS_MASK) ||
        lane + size > PCI_CONFIG_DATA_PORTS)
        return false;
    *devfn = (uint8_t)((a >> PCI_CONFIG_DEVFN_SHIFT) & PCI_CONFIG_DEVFN_MASK);
    *offset = (a & PCI_CONFIG_REG_MASK) + lane;
    return true;
}

static uint32_t data_in(void *dev, uint16_t port, unsigned size)
{
    struct pci_bus *b = dev;
    uint8_t devfn;
    unsigned offset;
    if (!data_target(b, port, size, &devfn, &offset))
        return ALL_ONES;
    return pci_config_read(b, devfn, offset, size);
}

static void data_out(void *dev, uint16_t port, unsigned size, uint32_t val)
{
    struct pci_bus *b = dev;
    uint8_t devfn;
    unsigned offset;
    if (data_target(b, port, size, &devfn, &offset))
        pci_config_write(b, devfn, offset, size, val);
}

static const struct ioport_ops addr_ops = { .name = "pci-addr", .in = addr_in, .out = addr_out, .bytewise = false };
static const struct ioport_ops data_ops = { .name = "pci-data", .in = data_in, .out = data_out, .bytewise = false };

bool pci_attach(struct ioport_table *io, struct pci_bus *b)
{
    return ioport_register(io, PCI_CONFIG_ADDRESS_PORT, 1, &addr_ops, b) &&
           ioport_register(io, PCI_CONFIG_DATA_PORT, PCI_CONFIG_DATA_PORTS, &data_ops, b);
}
