/* Intel 8042 PC keyboard controller with a PS/2 keyboard and a minimal PS/2 mouse behind it:
 * what Linux's i8042/atkbd/psmouse drivers and BIOS-less boot code exercise. Pure model: the
 * host feeds scancodes with i8042_key; the guest sees ports 0x60 (data) and 0x64 (status and
 * command); IRQ1/IRQ12 and the CPU reset line go out through callbacks. */
#ifndef MV_I8042_H
#define MV_I8042_H
#include "compiler.h"
#include "dev/ioport.h"

#define I8042_DATA_PORT     0x60
#define I8042_CMD_PORT      0x64    /* read: status register; write: controller command */
#define I8042_KBD_IRQ       1
#define I8042_AUX_IRQ       12

/* Status register (port 0x64 read). */
#define I8042_STR_OBF       BIT(0)  /* output buffer full: port 0x60 has a byte */
#define I8042_STR_IBF       BIT(1)  /* input buffer full: always 0, writes are taken at once */
#define I8042_STR_SYS       BIT(2)  /* system flag: mirrors command byte bit 2 */
#define I8042_STR_CMD       BIT(3)  /* the last write went to 0x64 (a command), not 0x60 */
#define I8042_STR_KEYLOCK   BIT(4)  /* 1 = keyboard not inhibited by the key lock */
#define I8042_STR_AUXDATA   BIT(5)  /* the byte in the output buffer is from the aux device */
#define I8042_STR_TIMEOUT   BIT(6)
#define I8042_STR_PARITY    BIT(7)

/* Command byte (controller RAM byte 0). */
#define I8042_CTR_KBDINT    BIT(0)  /* IRQ1 on keyboard data */
#define I8042_CTR_AUXINT    BIT(1)  /* IRQ12 on aux data */
#define I8042_CTR_SYS       BIT(2)
#define I8042_CTR_KBDDIS    BIT(4)  /* keyboard clock held low: no key data */
#define I8042_CTR_AUXDIS    BIT(5)
#define I8042_CTR_XLATE     BIT(6)  /* translate keyboard set 2 to set 1 */
/* After reset, as a BIOS leaves it: IRQ1 on, system flag, translation; aux IRQ off. */
#define I8042_CTR_DEFAULT   (I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE)

/* Output port (commands 0xD0/0xD1). */
#define I8042_OUT_RESET     BIT(0)  /* active low: 0 holds the CPU in reset */
#define I8042_OUT_A20       BIT(1)
#define I8042_OUT_KBD_OBF   BIT(4)  /* read-only views of the output buffer state */
#define I8042_OUT_AUX_OBF   BIT(5)
#define I8042_OUT_IDLE      0xCC    /* aux and keyboard clock/data lines idle high */

#define I8042_QUEUE_SIZE    16      /* a power of two; covers the longest reply (4 bytes) */
#define I8042_RAM_SIZE      32

enum i8042_src { I8042_SRC_CTRL, I8042_SRC_KBD, I8042_SRC_AUX };

struct i8042 {
    void (*reset)(void *ctx);               /* the CPU reset line pulsed (command 0xFE) */
    void (*set_irq)(void *ctx, unsigned irq, bool level); /* IRQ1 (keyboard) and IRQ12 (aux) */
    void (*set_a20)(void *ctx, bool on);    /* optional (NULL after init): output port bit 1 */
    void *ctx;

    uint8_t ram[I8042_RAM_SIZE];            /* byte 0 is the command byte */
    uint8_t outport;
    bool last_was_cmd;                      /* status bit 3 */
    uint8_t pending;                        /* controller command awaiting a data byte, or 0 */

    /* Output buffer: a FIFO of bytes with their source, so multi-byte replies queue up. */
    uint8_t q_data[I8042_QUEUE_SIZE], q_src[I8042_QUEUE_SIZE];
    uint8_t q_head, q_count;
    uint8_t last_read;                      /* what 0x60 returns when the buffer is empty */
    bool irq1, irq12;                       /* line levels last reported through set_irq */

    /* Keyboard. */
    uint8_t kbd_pending;                    /* device command awaiting its parameter, or 0 */
    uint8_t kbd_set, kbd_leds, kbd_typematic, kbd_last;
    bool kbd_scanning, xlate_break;         /* xlate_break: set 2 0xF0 seen, next is a break */

    /* Mouse. */
    uint8_t aux_pending, aux_rate, aux_res;
    bool aux_enabled;

    uint64_t resets, dropped, unknown;      /* reset pulses, bytes lost to a full FIFO, bad cmds */
};

void i8042_init(struct i8042 *k, void (*reset)(void *), void (*set_irq)(void *, unsigned, bool), void *ctx);
uint8_t i8042_read(struct i8042 *k, uint16_t port);
void i8042_write(struct i8042 *k, uint16_t port, uint8_t val);
/* A byte from the keyboard in its current scancode set (set 2 unless the guest changed it);
 * with command byte bit 6 the controller translates it to set 1 (0xF0 xx -> xx|0x80). Queued
 * as keyboard output, IRQ1 if enabled. False if the FIFO is full or the keyboard is disabled
 * (command 0xAD or device command 0xF5): the caller may retry later. */
bool i8042_key(struct i8042 *k, uint8_t scancode);
bool i8042_attach(struct ioport_table *io, struct i8042 *k);
#endif
