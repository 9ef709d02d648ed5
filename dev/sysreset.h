/* The PC's system control ports: POST code latch (0x80), PS/2 system control port A (0x92:
 * fast reset and A20 gate) and the PIIX/ICH reset control register (0xCF9). Pure model: the
 * reset and A20 lines go out through callbacks. */
#ifndef MV_SYSRESET_H
#define MV_SYSRESET_H
#include "compiler.h"
#include "dev/ioport.h"

#define PORT_POST           0x80
#define PORT_SYSCTL_A       0x92
#define PORT_RESET_CTL      0xCF9

#define SYSCTL_A_FAST_RESET BIT(0)  /* 0->1 pulses the CPU reset line */
#define SYSCTL_A_A20        BIT(1)  /* 1 = A20 gate open */
#define SYSCTL_A_DEFAULT    SYSCTL_A_A20    /* A20 enabled, as a BIOS leaves it */

#define RESET_CTL_SYS_RST   BIT(1)  /* 1: the reset is a hard (platform) reset, 0: CPU only */
#define RESET_CTL_RST_CPU   BIT(2)  /* 0->1 starts the reset; reads 0 afterwards */
#define RESET_CTL_FULL_RST  BIT(3)  /* 1: a hard reset also cycles power */
#define RESET_CTL_STICKY    (RESET_CTL_SYS_RST | RESET_CTL_FULL_RST)

struct sysreset {
    void (*reset)(void *ctx, const char *why);
    void (*set_a20)(void *ctx, bool on);
    void *ctx;
    uint8_t port92;             /* bits 0-1 as last written (bit 0 kept to detect its edge) */
    uint8_t cf9;                /* SYS_RST and FULL_RST */
    uint8_t post;               /* last POST code */
    uint64_t post_writes;       /* Linux writes 0x80 as an I/O delay: this counts them */
};

void sysreset_init(struct sysreset *s, void (*reset)(void *, const char *), void (*set_a20)(void *, bool), void *ctx);
/* Port 0x92 bit 0 reads 0: the reset it requests is over by the time anything can read. */
uint8_t sysreset_read(struct sysreset *s, uint16_t port);
void sysreset_write(struct sysreset *s, uint16_t port, uint8_t val);
/* Registers 0x80, 0x92 and 0xCF9 alone: 0xCF8 and 0xCFC belong to the PCI host bridge, which
 * receives a 4-byte access at 0xCF8 whole (only 1-byte 0xCF9 accesses land here). */
bool sysreset_attach(struct ioport_table *io, struct sysreset *s);
#endif
