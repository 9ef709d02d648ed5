/* 8042 keyboard controller, from the IBM PC AT / PS/2 technical references and the PS/2
 * keyboard and mouse protocol. Writes are handled at once, so IBF never reads 1. The output
 * buffer is a small FIFO: a device's multi-byte reply queues up instead of overrunning the
 * single real buffer. Keyboard bytes are translated to set 1 at the point they enter the FIFO,
 * as the controller does on receipt. */
#include "dev/i8042.h"

/* Controller commands (port 0x64). */
#define CMD_RAM_SEL         0xE0    /* the top bits select a RAM access... */
#define CMD_RAM_INDEX       0x1F    /* ...the low bits the RAM byte */
#define CMD_READ_RAM        0x20    /* 0x20-0x3F; 0x20 reads the command byte */
#define CMD_WRITE_RAM       0x60    /* 0x60-0x7F; data follows on port 0x60 */
#define CMD_AUX_DISABLE     0xA7
#define CMD_AUX_ENABLE      0xA8
#define CMD_AUX_TEST        0xA9
#define CMD_SELF_TEST       0xAA
#define CMD_KBD_TEST        0xAB
#define CMD_KBD_DISABLE     0xAD
#define CMD_KBD_ENABLE      0xAE
#define CMD_READ_INPUT      0xC0
#define CMD_READ_OUTPUT     0xD0
#define CMD_WRITE_OUTPUT    0xD1
#define CMD_WRITE_KBD_OBUF  0xD2    /* data appears as if the keyboard sent it */
#define CMD_WRITE_AUX_OBUF  0xD3    /* as if the mouse sent it: Linux's AUX loopback test */
#define CMD_WRITE_AUX       0xD4
#define CMD_A20_OFF         0xDD    /* HP Vectra style, used by some old boot code */
#define CMD_A20_ON          0xDF
#define CMD_PULSE_SEL       0xF0    /* 0xF0-0xFF: pulse low the output port bits 0-3 that... */
#define CMD_PULSE           0xF0    /* ...are 0 in the command; 0xFE pulses the reset line */

#define SELF_TEST_OK        0x55
#define PORT_TEST_OK        0x00
#define INPUT_PORT          0x80    /* bit 7: keyboard not inhibited; no jumpers set */

/* PS/2 device protocol. */
#define DEV_ACK             0xFA
#define DEV_RESEND          0xFE
#define DEV_BAT_OK          0xAA    /* basic assurance test passed, sent after a reset */
#define DEV_GET_ID          0xF2
#define DEV_ENABLE          0xF4
#define DEV_DISABLE         0xF5
#define DEV_DEFAULTS        0xF6
#define DEV_RESET           0xFF
#define KBD_SET_LEDS        0xED
#define KBD_ECHO            0xEE
#define KBD_SCANSET         0xF0
#define KBD_TYPEMATIC       0xF3
#define KBD_SET3_FIRST      0xF7    /* 0xF7-0xFD: set 3 key attributes, acknowledged only */
#define KBD_SET3_LAST       0xFD
#define KBD_ID0             0xAB    /* MF2 keyboard */
#define KBD_ID1             0x83
#define KBD_LEDS_MASK       0x07
#define KBD_TYPEMATIC_MASK  0x7F
#define KBD_DEFAULT_SET     2
#define KBD_MAX_SET         3
#define KBD_DEFAULT_RATE    0x2B    /* 10.9 characters/s after 500 ms */
#define AUX_SET_SCALE11     0xE6
#define AUX_SET_RES         0xE8
#define AUX_STATUS          0xE9
#define AUX_SET_RATE        0xF3
#define AUX_ID              0x00    /* plain PS/2 mouse: no wheel, Linux uses the base protocol */
#define AUX_STATUS_ENABLED  BIT(5)
#define AUX_RES_MASK        0x03
#define AUX_DEFAULT_RATE    100     /* samples/s */
#define AUX_DEFAULT_RES     2       /* 4 counts/mm */

/* Set 2 to set 1 translation. */
#define SET2_BREAK          0xF0    /* prefix: the next code is a key release */
#define SET1_BREAK          0x80    /* set 1 marks a release in bit 7 instead */
#define SET2_F7             0x83    /* the one set 2 code above 0x7F; also the ID's 2nd byte */
#define SET1_F7             0x41

#define QMASK               (I8042_QUEUE_SIZE - 1)
#define REPLY_ROOM          4       /* keys leave room for the longest device reply */

STATIC_ASSERT((I8042_QUEUE_SIZE & QMASK) == 0 && I8042_QUEUE_SIZE <= 128, "FIFO size");

/* The controller's fixed translation table (set 2 code -> set 1 code) for codes 0x00-0x7F. */
static const uint8_t set2_to_set1[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

static bool head_is_aux(const struct i8042 *k)
{
    return k->q_count && k->q_src[k->q_head] == I8042_SRC_AUX;
}

static void set_line(struct i8042 *k, unsigned irq, bool level, bool *cur)
{
    if (*cur == level)
        return;
    *cur = level;
    if (k->set_irq)
        k->set_irq(k->ctx, irq, level);
}

/* IRQ1/IRQ12 follow OBF for the byte at the head, gated by the command byte's enables. */
static void update_irq(struct i8042 *k)
{
    bool aux = head_is_aux(k);
    set_line(k, I8042_KBD_IRQ, k->q_count && !aux && (k->ram[0] & I8042_CTR_KBDINT), &k->irq1);
    set_line(k, I8042_AUX_IRQ, aux && (k->ram[0] & I8042_CTR_AUXINT), &k->irq12);
}

/* Device data joins the back of the FIFO; lost (and counted) if full. */
static void push(struct i8042 *k, uint8_t v, uint8_t src)
{
    if (k->q_count == I8042_QUEUE_SIZE) {
        k->dropped++;
        return;
    }
    unsigned i = (k->q_head + k->q_count) & QMASK;
    k->q_data[i] = v;
    k->q_src[i] = src;
    k->q_count++;
    update_irq(k);
}

/* The controller writes its own output straight into the output buffer, so it is the next
 * byte read even with device data queued; if full, the newest device byte gives way. */
static void push_front(struct i8042 *k, uint8_t v, uint8_t src)
{
    if (k->q_count == I8042_QUEUE_SIZE) {
        k->q_count--;
        k->dropped++;
    }
    k->q_head = (k->q_head - 1) & QMASK;
    k->q_data[k->q_head] = v;
    k->q_src[k->q_head] = src;
    k->q_count++;
    update_irq(k);
}

static uint8_t pop(struct i8042 *k)
{
    if (!k->q_count)
        return k->last_read;
    k->last_read = k->q_data[k->q_head];
    k->q_head = (k->q_head + 1) & QMASK;
    k->q_count--;
    /* OBF drops before the next byte loads: one edge per byte for an edge-triggered PIC. */
    set_line(k, I8042_KBD_IRQ, false, &k->irq1);
    set_line(k, I8042_AUX_IRQ, false, &k->irq12);
    update_irq(k);
    return k->last_read;
}

static void pulse_reset(struct i8042 *k)
{
    k->resets++;
    if (k->reset)       /* last: the callback may reinitialise the whole machine */
        k->reset(k->ctx);
}

static uint8_t output_port(const struct i8042 *k)
{
    uint8_t v = k->outport & (uint8_t)~(I8042_OUT_KBD_OBF | I8042_OUT_AUX_OBF);
    if (k->q_count)
        v |= head_is_aux(k) ? I8042_OUT_AUX_OBF : I8042_OUT_KBD_OBF;
    return v;
}

static void write_outport(struct i8042 *k, uint8_t v)
{
    bool a20_changed = (k->outport ^ v) & I8042_OUT_A20;
    k->outport = v | I8042_OUT_RESET;   /* the reset line is pulsed, never held */
    if (a20_changed && k->set_a20)
        k->set_a20(k->ctx, v & I8042_OUT_A20);
    if (!(v & I8042_OUT_RESET))
        pulse_reset(k);
}

static void kbd_send(struct i8042 *k, uint8_t v)
{
    k->kbd_last = v;
    if (k->ram[0] & I8042_CTR_XLATE) {
        if (v == SET2_BREAK) {
            k->xlate_break = true;
            return;
        }
        if (v < ARRAY_SIZE(set2_to_set1))
            v = set2_to_set1[v];
        else if (v == SET2_F7)
            v = SET1_F7;
        if (k->xlate_break)
            v |= SET1_BREAK;
        k->xlate_break = false;
    }
    push(k, v, I8042_SRC_KBD);
}

static void kbd_defaults(struct i8042 *k)
{
    k->kbd_set = KBD_DEFAULT_SET;
    k->kbd_typematic = KBD_DEFAULT_RATE;
}

static void kbd_param(struct i8042 *k, uint8_t cmd, uint8_t v)
{
    if (cmd == KBD_SET_LEDS)
        k->kbd_leds = v & KBD_LEDS_MASK;
    else if (cmd == KBD_TYPEMATIC)
        k->kbd_typematic = v & KBD_TYPEMATIC_MASK;
    else if (v > KBD_MAX_SET) {         /* KBD_SCANSET: only sets 1-3 exist; 0 queries */
        kbd_send(k, DEV_RESEND);
        return;
    } else if (v)
        k->kbd_set = v;
    kbd_send(k, DEV_ACK);
    if (cmd == KBD_SCANSET && !v)
        kbd_send(k, k->kbd_set);
}

static void kbd_write(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->kbd_pending;
    k->kbd_pending = 0;
    if (cmd) {
        kbd_param(k, cmd, v);
        return;
    }
    switch (v) {
    case DEV_RESET:
        kbd_defaults(k);
        k->kbd_leds = 0;
        k->kbd_scanning = true;
        kbd_send(k, DEV_ACK);
        kbd_send(k, DEV_BAT_OK);
        break;
    case DEV_RESEND:
        kbd_send(k, k->kbd_last);
        break;
    case DEV_GET_ID:                    /* with translation the 0x83 arrives as 0x41 */
        kbd_send(k, DEV_ACK);
        kbd_send(k, KBD_ID0);
        kbd_send(k, KBD_ID1);
        break;
    case KBD_SET_LEDS:
    case KBD_SCANSET:
    case KBD_TYPEMATIC:
        k->kbd_pending = v;
        kbd_send(k, DEV_ACK);
        break;
    case KBD_ECHO:
        kbd_send(k, KBD_ECHO);
        break;
    case DEV_ENABLE:
    case DEV_DISABLE:                   /* F5: defaults, and stop scanning */
    case DEV_DEFAULTS:
        if (v != DEV_ENABLE)
            kbd_defaults(k);
        k->kbd_scanning = v != DEV_DISABLE;
        kbd_send(k, DEV_ACK);
        break;
    default:
        if (v >= KBD_SET3_FIRST && v <= KBD_SET3_LAST) {
            kbd_send(k, DEV_ACK);
        } else {
            k->unknown++;
            kbd_send(k, DEV_RESEND);
        }
    }
}

static void aux_defaults(struct i8042 *k)
{
    k->aux_rate = AUX_DEFAULT_RATE;
    k->aux_res = AUX_DEFAULT_RES;
    k->aux_enabled = false;
}

/* A mouse that never moves: enough for Linux's psmouse probe to find a standard PS/2 mouse. */
static void aux_write(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->aux_pending;
    k->aux_pending = 0;
    if (cmd == AUX_SET_RATE)
        k->aux_rate = v;
    else if (cmd == AUX_SET_RES)
        k->aux_res = v & AUX_RES_MASK;
    else if (v == AUX_SET_RATE || v == AUX_SET_RES)
        k->aux_pending = v;
    else if (v == DEV_RESET || v == DEV_DEFAULTS)
        aux_defaults(k);
    else if (v == DEV_ENABLE || v == DEV_DISABLE)
        k->aux_enabled = v == DEV_ENABLE;
    push(k, DEV_ACK, I8042_SRC_AUX);    /* everything else (scaling, modes) is only acked */
    if (cmd)
        return;
    if (v == DEV_RESET) {
        push(k, DEV_BAT_OK, I8042_SRC_AUX);
        push(k, AUX_ID, I8042_SRC_AUX);
    } else if (v == DEV_GET_ID) {
        push(k, AUX_ID, I8042_SRC_AUX);
    } else if (v == AUX_STATUS) {
        push(k, k->aux_enabled ? AUX_STATUS_ENABLED : 0, I8042_SRC_AUX);
        push(k, k->aux_res, I8042_SRC_AUX);
        push(k, k->aux_rate, I8042_SRC_AUX);
    }
}

static void ctrl_command(struct i8042 *k, uint8_t cmd)
{
    k->pending = 0;                     /* a new command abandons one awaiting data */
    if ((cmd & CMD_RAM_SEL) == CMD_READ_RAM) {
        push_front(k, k->ram[cmd & CMD_RAM_INDEX], I8042_SRC_CTRL);
        return;
    }
    if ((cmd & CMD_RAM_SEL) == CMD_WRITE_RAM) {
        k->pending = cmd;
        return;
    }
    if ((cmd & CMD_PULSE_SEL) == CMD_PULSE) {
        if (!(cmd & I8042_OUT_RESET))
            pulse_reset(k);
        return;
    }
    switch (cmd) {
    case CMD_AUX_DISABLE: k->ram[0] |= I8042_CTR_AUXDIS; break;
    case CMD_AUX_ENABLE:  k->ram[0] &= (uint8_t)~I8042_CTR_AUXDIS; break;
    case CMD_KBD_DISABLE: k->ram[0] |= I8042_CTR_KBDDIS; break;
    case CMD_KBD_ENABLE:  k->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS; break;
    case CMD_SELF_TEST:
        k->ram[0] |= I8042_CTR_SYS;     /* a passed self-test sets the system flag */
        push_front(k, SELF_TEST_OK, I8042_SRC_CTRL);
        break;
    case CMD_AUX_TEST:
    case CMD_KBD_TEST:    push_front(k, PORT_TEST_OK, I8042_SRC_CTRL); break;
    case CMD_READ_INPUT:  push_front(k, INPUT_PORT, I8042_SRC_CTRL); break;
    case CMD_READ_OUTPUT: push_front(k, output_port(k), I8042_SRC_CTRL); break;
    case CMD_A20_OFF:     write_outport(k, k->outport & (uint8_t)~I8042_OUT_A20); break;
    case CMD_A20_ON:      write_outport(k, k->outport | I8042_OUT_A20); break;
    case CMD_WRITE_OUTPUT:
    case CMD_WRITE_KBD_OBUF:
    case CMD_WRITE_AUX_OBUF:
    case CMD_WRITE_AUX:   k->pending = cmd; break;
    default:              k->unknown++;
    }
}

static void data_write(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending;
    k->pending = 0;
    if ((cmd & CMD_RAM_SEL) == CMD_WRITE_RAM) {
        k->ram[cmd & CMD_RAM_INDEX] = v;
        update_irq(k);                  /* the command byte gates the IRQs */
        return;
    }
    switch (cmd) {
    case CMD_WRITE_OUTPUT:   write_outport(k, v); return;
    case CMD_WRITE_KBD_OBUF: push_front(k, v, I8042_SRC_KBD); return;
    case CMD_WRITE_AUX_OBUF: push_front(k, v, I8042_SRC_AUX); return;
    case CMD_WRITE_AUX:
        k->ram[0] &= (uint8_t)~I8042_CTR_AUXDIS;    /* talking to a device enables its port */
        aux_write(k, v);
        return;
    }
    k->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
    kbd_write(k, v);
}

void i8042_init(struct i8042 *k, void (*reset)(void *), void (*set_irq)(void *, unsigned, bool), void *ctx)
{
    *k = (struct i8042){
        .reset = reset, .set_irq = set_irq, .ctx = ctx,
        .outport = I8042_OUT_IDLE | I8042_OUT_A20 | I8042_OUT_RESET,
        .kbd_scanning = true,
    };
    k->ram[0] = I8042_CTR_DEFAULT;
    kbd_defaults(k);
    aux_defaults(k);
}

uint8_t i8042_read(struct i8042 *k, uint16_t port)
{
    if (port == I8042_DATA_PORT)
        return pop(k);
    if (port != I8042_CMD_PORT)
        return 0xFF;
    uint8_t s = I8042_STR_KEYLOCK;
    if (k->q_count)
        s |= I8042_STR_OBF | (head_is_aux(k) ? I8042_STR_AUXDATA : 0);
    if (k->ram[0] & I8042_CTR_SYS)
        s |= I8042_STR_SYS;
    if (k->last_was_cmd)
        s |= I8042_STR_CMD;
    return s;
}

void i8042_write(struct i8042 *k, uint16_t port, uint8_t val)
{
    if (port == I8042_DATA_PORT) {
        k->last_was_cmd = false;
        data_write(k, val);
    } else if (port == I8042_CMD_PORT) {
        k->last_was_cmd = true;
        ctrl_command(k, val);
    }
}

bool i8042_key(struct i8042 *k, uint8_t scancode)
{
    if (k->q_count >= I8042_QUEUE_SIZE - REPLY_ROOM || !k->kbd_scanning ||
        (k->ram[0] & I8042_CTR_KBDDIS))
        return false;
    kbd_send(k, scancode);
    return true;
}

static uint32_t i8042_in(void *dev, uint16_t port, unsigned size) { return i8042_read(dev, port); }
static void i8042_out(void *dev, uint16_t port, unsigned size, uint32_t val) { i8042_write(dev, port, (uint8_t)val); }

static const struct ioport_ops i8042_ops = { .name = "i8042", .in = i8042_in, .out = i8042_out, .bytewise = true };

/* Two single ports: 0x61 between them is port B of the PIT's file. */
bool i8042_attach(struct ioport_table *io, struct i8042 *k)
{
    return ioport_register(io, I8042_DATA_PORT, 1, &i8042_ops, k) &&
           ioport_register(io, I8042_CMD_PORT, 1, &i8042_ops, k);
}
