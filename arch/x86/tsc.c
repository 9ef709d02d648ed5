/* TSC calibration against the 8254: channel 2, gated through port 0x61, in mode 0 counts
 * down once; the TSC delta over a known number of PIT ticks gives the TSC rate. */
#include "tsc.h"
#include "cpu.h"
#include "dev/i8254.h"                  /* ports, rate and port 0x61 bits: the same chip */

#define PIT_CH2_DATA    (I8254_PORT_CH0 + 2)
#define PIT_SEL_CH2     0x80
#define PIT_ACCESS_LOHI 0x30
#define PIT_MODE0       0x00
#define CALIB_MS        50
#define CALIB_TICKS     (PIT_HZ * CALIB_MS / 1000)
#define CALIB_TRIES     3

uint64_t tsc_hz;

static uint64_t measure_once(void)
{
    uint8_t b = inb(PORT_SYSCTL_B);
    outb(PORT_SYSCTL_B, (b & ~SYSCTL_SPEAKER) & ~SYSCTL_GATE2);
    outb(I8254_PORT_CMD, PIT_SEL_CH2 | PIT_ACCESS_LOHI | PIT_MODE0);
    outb(PIT_CH2_DATA, CALIB_TICKS & 0xFF);
    outb(PIT_CH2_DATA, CALIB_TICKS >> 8);
    outb(PORT_SYSCTL_B, (b & ~SYSCTL_SPEAKER) | SYSCTL_GATE2);   /* rising gate starts count */
    uint64_t t0 = rdtsc();
    /* OUT2 goes high at terminal count; bound the wait so a missing PIT cannot hang us. */
    uint64_t spins = 0;
    while (!(inb(PORT_SYSCTL_B) & SYSCTL_OUT2))
        if (++spins > 100000000ull)
            return 0;
    uint64_t t1 = rdtsc();
    outb(PORT_SYSCTL_B, b);
    return (t1 - t0) * (1000 / CALIB_MS);
}

uint64_t tsc_calibrate(void)
{
    uint64_t best = 0;
    /* Take the minimum: interference (SMIs, emulator hiccups) only lengthens a run. */
    for (int i = 0; i < CALIB_TRIES; i++) {
        uint64_t hz = measure_once();
        if (hz && (!best || hz < best))
            best = hz;
    }
    tsc_hz = best;
    return best;
}
