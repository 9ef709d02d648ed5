/* The PC a VM sees, as one object: its port table, its IRQ router, its device timer registry,
 * its platform time base and the chips, wired together. The vCPU and the exit path talk to
 * the platform only through the calls below, never to a chip. */
#ifndef MV_PC_PLATFORM_H
#define MV_PC_PLATFORM_H
#include "compiler.h"
#include "dev/ioport.h"
#include "dev/mmio.h"
#include "dev/irq_router.h"
#include "dev/timer_registry.h"
#include "dev/i8259.h"
#include "dev/i8254.h"
#include "dev/mc146818.h"
#include "dev/ns16550.h"
#include "dev/i8042.h"
#include "dev/sysreset.h"
#include "dev/acpi_pmtimer.h"
#include "dev/acpi_pm.h"
#include "dev/pci.h"
#include "dev/fw_cfg.h"
#include "dev/debug_exit.h"
#include "dev/lapic.h"
#include "dev/ioapic.h"
#include "dev/piix_ide.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_net.h"
#include "dev/e1000.h"
#include "mm/guest_mem.h"

#define PC_IRQ_PIT      0
#define PC_IRQ_COM2     3
#define PC_IRQ_COM1     4
#define PC_IRQ_RTC      8
#define PC_IRQ_SCI      9           /* the ACPI SCI, level (the MADT override says so) */
#define PC_COM1_BASE    0x3F8
#define PC_COM2_BASE    0x2F8
#define PC_BASE_MEM_KB  640
#define PC_IOAPIC_ID    1           /* after the one vCPU's LAPIC ID 0, as the MADT says */
#define PC_IDE_UNITS    (PIIX_IDE_CHANNELS * 2)     /* hda-hdd */
#define PC_VIRTIO_BLKS  4                           /* vda-vdd */
#define PC_VIRTIO_BLK_SLOT 4        /* vda at 00:04.0, vdb at 00:05.0, ... */
#define PC_NICS         4
/* NIC n's PCI device: 00:03.0 (where QEMU puts its first NIC), then 00:08.0-00:0a.0 past the
 * virtio-blk functions. */
#define PC_NIC_SLOTS    { 3, 8, 9, 10 }
/* What the firmware sets up before the guest runs (as SeaBIOS does): PIRQA-D on ISA IRQs
 * 10, 10, 11, 11, I/O BARs from 0xC000, memory BARs in the window above RAM. */
#define PC_PIRQ_IRQS    { 10, 10, 11, 11 }
#define PC_PCI_IO_BASE  0xC000u
#define PC_PCI_MEM_BASE 0xC0000000u
#define PC_PCI_MEM_LIMIT 0xFEBFFFFFu    /* below the I/O APIC */

/* What the platform needs from the VM that owns it (ctx is the VM). */
struct pc_platform_hooks {
    void (*reset)(void *ctx, const char *why);              /* i8042 pulse, 0x92, 0xCF9 */
    void (*console_tx)(void *ctx, uint8_t c);               /* COM1 output */
    void (*exit)(void *ctx, uint32_t code, uint16_t port);  /* the exit port */
    void (*power_off)(void *ctx);                           /* ACPI S5 */
    /* A disk device has a request ready (pc_disk_next finds it): serve it now or soon. */
    void (*disk_kick)(void *ctx);
    /* NIC n: the guest queued frames to send (pc_nic_tx_process sends them), or gave
     * receive buffers; and a frame it sent (from inside pc_nic_tx_process). */
    void (*nic_tx_kick)(void *ctx, unsigned n);
    void (*nic_rx_kick)(void *ctx, unsigned n);
    void (*nic_tx_frame)(void *ctx, unsigned n, const uint8_t *frame, size_t len);
};

enum pc_nic_model { PC_NIC_NONE, PC_NIC_E1000, PC_NIC_VIRTIO };

/* A NIC the VM has: its model and the address it was given. */
struct pc_nic_config {
    enum pc_nic_model model;
    uint8_t mac[ETH_ALEN];
};

/* One NIC function: the chip, its PCI function and where its BARs are decoded. */
struct pc_nic {
    enum pc_nic_model model;
    struct pc_platform *plat;
    unsigned index;
    struct pci_function fn;
    uint16_t io_base;               /* I/O BAR decoded here, 0: nowhere */
    uint64_t mmio_base;             /* e1000 BAR0 decoded here, 0: nowhere */
    uint64_t bar_conflicts;         /* the guest put a BAR over another device's range */
    struct dev_timer timer;         /* e1000 interrupt moderation */
    union {
        struct e1000 e1000;
        struct virtio_net vnet;
    } u;
};

/* A drive the VM has: its store, and what it tells the guest it is. */
struct pc_drive {
    struct blockdev *bd;            /* NULL: no drive here */
    bool cdrom;
    const char *model, *serial;
};

/* One disk request ready to be served, as pc_disk_next found it. */
enum pc_disk_dev { PC_DISK_IDE, PC_DISK_VIRTIO };
struct pc_disk_job {
    enum pc_disk_dev dev;
    unsigned index;                 /* IDE channel, or virtio-blk function */
    struct blockdev *bd;            /* the drive it goes to */
    uint64_t lba;
    uint32_t sectors;
    bool write;
};

struct pc_platform {
    uint64_t time_base;             /* host TSC at power-on: platform time 0 (vmtime.h) */
    const struct pc_platform_hooks *hooks;
    void *ctx;
    struct ioport_table io;
    struct mmio_table mmio;
    struct irq_router irq;
    struct timer_registry timers;
    struct dev_timer pit_timer, rtc_timer, lapic_timer, pm_timer;
    struct i8259 pic;
    struct i8254 pit;
    struct mc146818 rtc;
    struct ns16550 com1, com2;
    struct i8042 kbc;
    struct sysreset sysreset;
    struct acpi_pmtimer pmtimer;
    struct acpi_pm pm;              /* PM1 event and control blocks: SCI, S5 */
    struct pci_bus pci;
    struct fw_cfg fw_cfg;
    struct debug_exit debug_exit;
    struct lapic lapic;             /* the one vCPU's */
    struct ioapic ioapic;
    struct dma_ops dma;             /* device DMA: the VM's RAM through guest_mem only */
    struct piix_ide ide;            /* PCI 00:01.1 */
    struct virtio_blk vblk[PC_VIRTIO_BLKS];
    struct pci_function vblk_fn[PC_VIRTIO_BLKS];
    uint16_t vblk_base[PC_VIRTIO_BLKS];     /* where each BAR0 is decoded, 0: nowhere */
    struct pc_nic nic[PC_NICS];
    unsigned io_busy;               /* disk requests the VM is serving (pc_may_wake) */
    uint64_t lapic_page;            /* where the LAPIC page is decoded, LAPIC_MMIO_NONE: nowhere */
    uint64_t lapic_base_conflicts;  /* IA32_APIC_BASE moved onto another device's region */
    uint32_t fed_lines;             /* lines of devices fed from outside (pc_line_fed_from_outside) */
};

/* Powers the platform on: time 0 now, fresh devices in their power-on state, registered in
 * the port table, the IRQ router and the timer registry; device DMA goes to mem (the VM's
 * RAM, through guest_mem only). */
bool pc_platform_attach(struct pc_platform *p, struct guest_mem *mem, const struct pc_platform_hooks *hooks,
                        void *ctx, char *err, size_t errlen);
/* The disks (vm/pc_disks.c): the PIIX3 IDE function with drives[0..3] as hda-hdd and a
 * virtio-blk function for each of drives[4..7] (vda-vdd). */
bool pc_disks_attach(struct pc_platform *p, const struct pc_drive drives[PC_IDE_UNITS + PC_VIRTIO_BLKS], char *err, size_t errlen);
/* The NICs (vm/pc_net.c): nics[n] at PC_NIC_SLOTS[n] (PC_NIC_NONE: none). */
bool pc_nics_attach(struct pc_platform *p, const struct pc_nic_config nics[PC_NICS],
                    char *err, size_t errlen);
/* The firmware's PCI setup (BARs, IRQ routing, as SeaBIOS does): after every PCI function
 * exists. */
bool pc_pci_firmware_setup(struct pc_platform *p, char *err, size_t errlen);
/* NIC n's frames: send up to budget queued descriptors/chains (through hooks->nic_tx_frame),
 * whether more are queued, hand it a received frame, whether it has a free buffer. */
unsigned pc_nic_tx_process(struct pc_platform *p, unsigned n, unsigned budget);
bool pc_nic_tx_pending(struct pc_platform *p, unsigned n);
enum nic_rx_result pc_nic_receive(struct pc_platform *p, unsigned n, const uint8_t *frame, size_t len);
/* A frame for NIC n was lost before it (no room while it had no buffer): MPC and RXO. */
void pc_nic_missed(struct pc_platform *p, unsigned n);
/* A NIC (frames arrive whenever another VM sends) could interrupt a halted vCPU. */
bool pc_nics_may_interrupt(const struct pc_platform *p);
/* The next disk request a device has ready, false if none; pc_disk_do serves it (moves its
 * data, completes it, raises the interrupt). What a device does not have ready any more by
 * then (the guest stopped it) is skipped. */
bool pc_disk_next(struct pc_platform *p, struct pc_disk_job *j);
void pc_disk_do(struct pc_platform *p, const struct pc_disk_job *j);

/* The APICs (vm/pc_apic.c). The vCPU's IA32_APIC_BASE, x2APIC MSRs, IA32_TSC_DEADLINE and
 * CR8 go to its LAPIC through these; false means #GP. */
bool pc_apic_attach(struct pc_platform *p);
uint64_t pc_apic_base(const struct pc_platform *p);
bool pc_set_apic_base(struct pc_platform *p, uint64_t val, unsigned maxphyaddr);
bool pc_x2apic_read(struct pc_platform *p, uint32_t msr, uint64_t *val);
bool pc_x2apic_write(struct pc_platform *p, uint32_t msr, uint64_t val);
void pc_tsc_deadline_write(struct pc_platform *p, uint64_t deadline, uint64_t guest_tsc);
uint64_t pc_tsc_deadline_read(struct pc_platform *p);
uint8_t pc_cr8(const struct pc_platform *p);
void pc_set_cr8(struct pc_platform *p, uint8_t cr8);
/* An NMI waits (LINT1, an NMI IPI or I/O APIC message): true once. */
bool pc_nmi_pending(const struct pc_platform *p);
bool pc_take_nmi(struct pc_platform *p);

/* Raises what device timers owe the guest up to now; returns the next timer deadline
 * (platform time, UINT64_MAX if none). Cheap unless a deadline passed or moved. */
uint64_t pc_timers_update(struct pc_platform *p);
/* The host TSC at which the next timer deadline falls (UINT64_MAX: none), as of the last
 * update: what a halted vCPU waits for and the preemption timer is armed for. */
uint64_t pc_timer_deadline_host(const struct pc_platform *p);
/* An interrupt waits for the vCPU, and the vCPU takes it (the acknowledge cycle). */
bool pc_intr_pending(struct pc_platform *p);
uint8_t pc_intr_ack(struct pc_platform *p);
/* A device on this line is fed from outside the VM (console input; later a NIC's frames, a
 * disk's completions): its interrupt can come whenever, so a halted vCPU waits for it. */
void pc_line_fed_from_outside(struct pc_platform *p, unsigned line);
/* Could anything still interrupt a halted vCPU: a timer due on an enabled line, or an
 * enabled line of a device fed from outside? False means halted forever. */
bool pc_may_wake(const struct pc_platform *p);
#endif
