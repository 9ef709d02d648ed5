/* A driver for the machine's own Intel 8254x Gigabit Ethernet controller (the VMM's uplink),
 * not a guest model: the guest-visible e1000 is dev/e1000.c, and both take their register and
 * descriptor layouts from dev/e1000_regs.h. Section numbers are the SDM's (PCI/PCI-X Family of
 * Gigabit Ethernet Controllers Software Developer's Manual, 317453 rev 4.0).
 *
 * What it does: a full reset (14.3), link up through the internal copper PHY's
 * autonegotiation (CTRL.SLU, ASDE), the station address as the EEPROM loaded it into RAL0/RAH0
 * (EERD words 0-2 if RAH0 is not valid), promiscuous receive (a bridge port must take frames
 * for every station behind it, 14.4) into legacy descriptors with 2 KiB buffers and the FCS
 * stripped, transmit from legacy descriptors with the FCS and short-frame padding added by the
 * MAC (14.5), interrupts for received frames, overruns, link changes and transmit write-back.
 *
 * Pure: registers through an accessor, DMA memory as one block given by the caller (its CPU
 * and bus addresses), so the host unit test drives it against the device model over fake RAM. */
#ifndef MV_X86_E1000_HOST_H
#define MV_X86_E1000_HOST_H
#include "compiler.h"
#include "dev/e1000_regs.h"

#define E1000H_RX_DESCS     256u        /* a multiple of 8: RDLEN is in 128-byte units (13.4.28) */
#define E1000H_TX_DESCS     256u
#define E1000H_BUF_SIZE     2048u       /* RCTL.BSIZE 2048; holds a 1522-byte frame */
#define E1000H_RING_BYTES   ((E1000H_RX_DESCS + E1000H_TX_DESCS) * E1000_DESC_SIZE)
#define E1000H_MEM_SIZE     (E1000H_RING_BYTES + (E1000H_RX_DESCS + E1000H_TX_DESCS) * E1000H_BUF_SIZE)
#define E1000H_MEM_ALIGN    4096u       /* rings on 16 bytes at least (13.4.27); a page keeps it simple */
#define E1000H_MAX_FRAME    1518u       /* what is sent: no jumbo frames, no tag added (no FCS) */
#define E1000H_MIN_FRAME    14u
#define E1000H_MMIO_SIZE    0x20000u    /* BAR0: 128 KiB of registers (SDM 4.1) */

struct e1000h_io {
    uint32_t (*read32)(void *ctx, uint32_t off);
    void (*write32)(void *ctx, uint32_t off, uint32_t val);
    void (*delay_us)(void *ctx, unsigned us);
    void *ctx;
};

/* The DMA block: E1000H_MEM_SIZE bytes, physically contiguous, at `va` for the CPU and `pa`
 * for the device, aligned to E1000H_MEM_ALIGN. Rings first, then the buffers. */
struct e1000h_mem {
    uint8_t *va;
    uint64_t pa;
};

struct e1000h_stats {
    uint64_t rx_frames, rx_bytes, rx_errors;    /* errors: RXE/CE/SE/SEQ/CXE, or no EOP */
    uint64_t tx_frames, tx_bytes, tx_ring_full, tx_bad_len;
    uint64_t irqs, unclaimed_irqs, link_changes, rx_overruns;
};

struct e1000h {
    struct e1000h_io io;
    struct e1000h_mem mem;
    uint16_t device;
    uint8_t mac[6];
    bool link_up;
    unsigned rx_next;               /* the next receive descriptor to look at */
    unsigned tx_tail, tx_clean;     /* next free transmit descriptor; oldest not yet done */
    struct e1000h_stats st;
};

/* The 8254x parts this driver knows (copper, internal PHY, 82540-style registers); NULL if
 * not one of them, else the part's name. */
const char *e1000h_part_name(uint16_t vendor, uint16_t device);
/* Resets and starts the controller; NULL on success, else why it failed (the device is left
 * reset, interrupts masked, receive and transmit off). */
const char *e1000h_start(struct e1000h *h, uint16_t device, const struct e1000h_io *io,
                         const struct e1000h_mem *mem);
/* Reset, interrupts masked: the device no longer touches memory. */
void e1000h_stop(struct e1000h *h);
/* Queues one frame (no FCS, E1000H_MIN_FRAME..E1000H_MAX_FRAME bytes). False: the ring is
 * full (counted; try again after e1000h_reclaim frees descriptors) or a bad length. */
bool e1000h_send(struct e1000h *h, const uint8_t *frame, size_t len);
/* Transmit descriptors the device finished since last time (their buffers are free again). */
unsigned e1000h_reclaim(struct e1000h *h);
/* Hands up to `budget` received frames (no FCS) to fn, in order, and gives their buffers
 * back to the device. Returns how many descriptors were consumed. */
unsigned e1000h_receive(struct e1000h *h, void (*fn)(void *ctx, const uint8_t *frame, size_t len),
                        void *ctx, unsigned budget);
/* A received frame is waiting. */
bool e1000h_rx_ready(const struct e1000h *h);
/* Transmit descriptors in flight. */
unsigned e1000h_tx_busy(const struct e1000h *h);
/* The interrupt: reads (and so clears, 13.4.17) ICR, follows a link change; returns the
 * causes, 0 if the device did not interrupt (a shared line). */
uint32_t e1000h_interrupt(struct e1000h *h);
#endif
