/* What the hostile guests share: a seeded xorshift generator, the emulated device ports they
 * aim at, and the rule that keeps random data from the writes that end the VM on purpose
 * (those are tested on their own): the exit port 0xf4, PIIX reset control 0xcf9 bit 2 (RST)
 * and bit 1 (SYS_RST), port 0x92 bit 0 (fast reset), the i8042 command port 0x64 and the ACPI
 * PM1a control block 0xb004-0xb005 (SLP_EN with SLP_TYP S5 powers off). */
#ifndef GUEST_HOSTILE_H
#define GUEST_HOSTILE_H
#include "types.h"

static inline u32 xorshift32(u32 *s)
{
	u32 x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* Ports of the devices every VM has (PIC, ELCR, PIT, port 0x61, RTC, COM2, the i8042 data
 * port, POST 0x80, PM timer, fw_cfg, PCI configuration) and some nobody owns. */
static const u16 hostile_device_ports[] = {
	0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71,
	0x2f8, 0x2f9, 0x2fa, 0x2fb, 0x2fc, 0x2fd, 0x2fe, 0x2ff, 0x60, 0x80,
	0xb008, 0xb009, 0xb00a, 0xb00b, 0x510, 0x511,
	0xcf8, 0xcf9, 0xcfa, 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff, 0x22e, 0xffff, 0,
};
#define HOSTILE_NPORTS (sizeof(hostile_device_ports) / sizeof(hostile_device_ports[0]))

#define HOSTILE_PM1_CNT 0xb004

/* A random port outside the VM-ending ones and the guest's own console, COM1 (0x3f8-0x3ff:
 * a random MCR write puts it in loopback and the guest's verdicts are never seen). A dword
 * write at 0xb001-0xb003 would reach PM1_CNT too. */
static inline u16 hostile_random_port(u32 *s)
{
	for (;;) {
		u16 p = (u16)xorshift32(s);
		if (p != 0xf4 && p != 0x64 && p != 0x92 && (p < 0xcf6 || p > 0xcf9) && (p < 0x3f8 || p > 0x3ff) &&
		    (p < HOSTILE_PM1_CNT - 3 || p > HOSTILE_PM1_CNT + 1))
			return p;
	}
}

/* Every byte stripped of the reset bits of 0xcf9 (bits 1, 2) and 0x92 (bit 0). */
#define HOSTILE_SAFE_BYTE(b) ((u8)((b) & ~0x07u))
static inline u32 hostile_safe_value(u32 v) { return v & ~0x07070707u; }
#endif
