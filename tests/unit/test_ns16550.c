/* NS16550A model: registers, the Linux 8250 probe sequences, interrupt sources and their
 * priorities, FIFO/non-FIFO receive, loopback, the port glue, and a random-garbage run. */
#include "test.h"
#include "dev/ioport.h"
#include "dev/ns16550.h"

/* What the VMM side sees: transmitted bytes and the IRQ line with its edges. */
struct fake {
    uint8_t tx[256];
    unsigned ntx;
    bool level;
    unsigned rises, falls;
};

static void fake_tx(void *ctx, uint8_t b)
{
    struct fake *f = ctx;
    f->tx[f->ntx++ % sizeof(f->tx)] = b;
}

static void fake_irq(void *ctx, bool level)
{
    struct fake *f = ctx;
    CHECK(level != f->level);       /* set_irq reports changes only */
    f->level = level;
    level ? f->rises++ : f->falls++;
}

static struct ns16550 u;
static struct fake f;

static void setup(void)
{
    memset(&f, 0, sizeof(f));
    memset(&u, 0xA5, sizeof(u));    /* init must not rely on a zeroed struct */
    ns16550_init(&u, 0x3f8, fake_tx, fake_irq, &f);
}

static uint8_t rd(uint16_t off) { return ns16550_read(&u, off); }
static void wr(uint16_t off, uint8_t v) { ns16550_write(&u, off, v); }

TEST(ns16550_reset_state)
{
    setup();
    CHECK_EQ(rd(UART_IIR), IIR_NO_INT);
    CHECK_EQ(rd(UART_LSR), LSR_THRE | LSR_TEMT);
    CHECK_EQ(rd(UART_MSR), MSR_DCD | MSR_DSR | MSR_CTS);   /* a terminal is connected */
    CHECK_EQ(rd(UART_IER), 0);
    CHECK_EQ(rd(UART_LCR), 0);
    CHECK_EQ(rd(UART_MCR), 0);
    CHECK(ns16550_rx_ready(&u));
    CHECK_EQ(f.rises + f.falls, 0);
}

TEST(ns16550_divisor_latch)
{
    setup();
    wr(UART_LCR, LCR_DLAB | 0x03);
    wr(UART_DLL, 0x01);
    wr(UART_DLM, 0x02);
    CHECK_EQ(rd(UART_DLL), 0x01);
    CHECK_EQ(rd(UART_DLM), 0x02);
    CHECK_EQ(f.ntx, 0);                     /* DLL writes are not transmitted */
    CHECK_EQ(rd(UART_LCR), LCR_DLAB | 0x03);
    wr(UART_LCR, 0x03);
    CHECK_EQ(rd(UART_IER), 0);              /* offset 1 is IER again */
    wr(UART_IER, IER_ERBFI | IER_ELSI);
    CHECK_EQ(rd(UART_IER), IER_ERBFI | IER_ELSI);
    wr(UART_LCR, LCR_DLAB);
    CHECK_EQ(rd(UART_DLL), 0x01);           /* divisor survived */
    CHECK_EQ(rd(UART_DLM), 0x02);
    CHECK_EQ(u.ier, IER_ERBFI | IER_ELSI);
}

TEST(ns16550_scratch)
{
    setup();
    wr(UART_SCR, 0x55);
    CHECK_EQ(rd(UART_SCR), 0x55);
    wr(UART_SCR, 0xAA);
    CHECK_EQ(rd(UART_SCR), 0xAA);
    CHECK_EQ(rd(UART_SCR + 8), 0xAA);       /* only A2:A0 decode */
}

/* drivers/tty/serial/8250 autoconfig(), step by step, must end in "16550A". */
TEST(ns16550_linux_autoconfig)
{
    setup();
    uint8_t scratch = rd(UART_IER);
    wr(UART_IER, 0);
    uint8_t scratch2 = rd(UART_IER) & 0x0F;
    wr(UART_IER, 0x0F);
    uint8_t scratch3 = rd(UART_IER) & 0x0F;
    wr(UART_IER, scratch);
    CHECK_EQ(scratch2, 0);
    CHECK_EQ(scratch3, 0x0F);

    uint8_t save_mcr = rd(UART_MCR);
    wr(UART_MCR, MCR_LOOP | 0x0A);
    CHECK_EQ(rd(UART_MSR) & 0xF0, 0x90);
    wr(UART_MCR, save_mcr);

    wr(UART_LCR, 0xBF);                     /* EFR probe: a 16550A sees an FCR write of 0 */
    wr(UART_FCR, 0);
    wr(UART_LCR, 0);
    wr(UART_FCR, FCR_ENABLE);
    CHECK_EQ(rd(UART_IIR) >> 6, 3);         /* FIFOs work: 16550A branch */
    wr(UART_LCR, 0xBF);
    CHECK(rd(UART_IIR) != 0);               /* no EFR: not a 16650 */
    wr(UART_LCR, 0x80);
    CHECK(rd(UART_IIR) != 0);
    wr(UART_LCR, 0);
    wr(UART_IER, 0x40);                     /* UUE: not an XScale */
    CHECK_EQ(rd(UART_IER) & 0x40, 0);
    wr(UART_FCR, FCR_ENABLE | 0x20);        /* 64-byte FIFO bit: not a 16750 */
    CHECK_EQ(rd(UART_IIR) & 0x20, 0);
    CHECK_EQ(f.rises, 0);
}

TEST(ns16550_fifo_detect)
{
    setup();
    CHECK_EQ(rd(UART_IIR) & 0xC0, 0);
    wr(UART_FCR, 0xE7);
    CHECK_EQ(rd(UART_IIR) & 0xC0, IIR_FIFO_ENABLED);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    wr(UART_FCR, 0);
    CHECK_EQ(rd(UART_IIR), IIR_NO_INT);
}

TEST(ns16550_transmit_thre)
{
    setup();
    wr(UART_MCR, MCR_OUT2);
    CHECK(!f.level);
    wr(UART_IER, IER_ETBEI);                /* enabling with THR empty raises THRE */
    CHECK(f.level);
    CHECK_EQ(rd(UART_IIR), IIR_THRE);
    CHECK(!f.level);                        /* the IIR read acknowledged it */
    CHECK_EQ(rd(UART_IIR), IIR_NO_INT);
    wr(UART_THR, 'h');
    CHECK(f.level);                         /* THR empty again at once */
    wr(UART_THR, 'i');
    CHECK_EQ(f.ntx, 2);
    CHECK_EQ(f.tx[0], 'h');
    CHECK_EQ(f.tx[1], 'i');
    CHECK_EQ(u.bytes_tx, 2);
    CHECK_EQ(rd(UART_LSR), LSR_THRE | LSR_TEMT);
    CHECK_EQ(rd(UART_IIR), IIR_THRE);
    CHECK(!f.level);
    wr(UART_IER, 0);
    wr(UART_IER, IER_ETBEI);                /* toggled off/on with THR empty: raised again */
    CHECK(f.level);
    wr(UART_IER, 0);                        /* disabling drops it */
    CHECK(!f.level);
    CHECK_EQ(rd(UART_IIR), IIR_NO_INT);

    /* serial8250_do_startup's UART_BUG_THRE probe must find THRE re-asserted. */
    wr(UART_IER, IER_ETBEI);
    uint8_t iir1 = rd(UART_IIR);
    wr(UART_IER, 0);
    wr(UART_IER, IER_ETBEI);
    uint8_t iir = rd(UART_IIR);
    wr(UART_IER, 0);
    CHECK_EQ(iir1 & IIR_NO_INT, 0);
    CHECK_EQ(iir & IIR_NO_INT, 0);
    CHECK(!f.level);
    CHECK_EQ(f.rises, f.falls);
}

TEST(ns16550_no_irq_without_out2)
{
    setup();
    wr(UART_IER, IER_ETBEI);
    wr(UART_THR, 'x');
    CHECK_EQ(f.rises, 0);
    CHECK_EQ(u.thre_pending, true);
    wr(UART_MCR, MCR_OUT2);                 /* gate opens on a pending source */
    CHECK(f.level);
    wr(UART_MCR, MCR_DTR | MCR_RTS);        /* and closes again */
    CHECK(!f.level);
    CHECK_EQ(rd(UART_IIR), IIR_THRE);       /* the source itself is still visible */
    CHECK_EQ(f.rises, 1);
}

TEST(ns16550_receive_trigger)
{
    setup();
    wr(UART_FCR, FCR_ENABLE | FCR_TRIG_8);
    wr(UART_IER, IER_ERBFI);
    wr(UART_MCR, MCR_OUT2);
    for (int i = 0; i < 7; i++)
        CHECK(ns16550_rx(&u, (uint8_t)('a' + i)));
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    CHECK_EQ(rd(UART_LSR) & LSR_DR, LSR_DR);
    CHECK(!f.level);
    CHECK(ns16550_rx(&u, 'h'));
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RDA);
    CHECK(f.level);
    CHECK_EQ(rd(UART_RBR), 'a');            /* 7 left: below the trigger */
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    CHECK(!f.level);
    for (int i = 1; i < 8; i++)
        CHECK_EQ(rd(UART_RBR), 'a' + i);
    CHECK_EQ(rd(UART_LSR) & LSR_DR, 0);
    CHECK_EQ(u.bytes_rx, 8);
    wr(UART_FCR, FCR_ENABLE | FCR_TRIG_1);
    CHECK(ns16550_rx(&u, 'z'));             /* trigger 1: a single byte is RDA */
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RDA);
}

TEST(ns16550_char_timeout)
{
    setup();
    wr(UART_FCR, FCR_ENABLE | FCR_TRIG_8);
    wr(UART_IER, IER_ERBFI);
    wr(UART_MCR, MCR_OUT2);
    ns16550_rx_timeout(&u);                 /* empty FIFO: nothing to time out */
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    for (int i = 0; i < 3; i++)
        ns16550_rx(&u, (uint8_t)('0' + i));
    ns16550_rx_timeout(&u);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_CTI);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_CTI);    /* IIR read does not clear it */
    CHECK(f.level);
    CHECK_EQ(rd(UART_RBR), '0');            /* an RBR read does, bytes remaining or not */
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    CHECK(!f.level);
    ns16550_rx_timeout(&u);
    CHECK(f.level);
    ns16550_rx(&u, '3');                    /* new input restarts the idle timer */
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    CHECK(!f.level);
    for (int i = 0; i < 5; i++)
        ns16550_rx(&u, 'x');                /* 8 now: at the trigger, RDA not CTI */
    ns16550_rx_timeout(&u);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RDA);
    wr(UART_FCR, 0);                        /* no timeout in non-FIFO mode */
    ns16550_rx(&u, 'y');
    ns16550_rx_timeout(&u);
    CHECK_EQ(rd(UART_IIR), IIR_RDA);
}

TEST(ns16550_overrun)
{
    setup();
    wr(UART_FCR, FCR_ENABLE | FCR_TRIG_14);
    wr(UART_IER, IER_ERBFI | IER_ELSI);
    wr(UART_MCR, MCR_OUT2);
    for (int i = 0; i < NS16550_FIFO_SIZE; i++)
        CHECK(ns16550_rx(&u, (uint8_t)i));
    CHECK(!ns16550_rx_ready(&u));
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RDA);
    CHECK(!ns16550_rx(&u, 0xEE));
    CHECK_EQ(u.rx_overruns, 1);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RLS);    /* line status beats RDA */
    CHECK_EQ(rd(UART_LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
    CHECK_EQ(rd(UART_LSR), LSR_DR | LSR_THRE | LSR_TEMT);  /* reported once */
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RDA);
    CHECK(f.level);
    for (int i = 0; i < NS16550_FIFO_SIZE; i++)
        CHECK_EQ(rd(UART_RBR), i);          /* the FIFO kept its bytes, 0xEE was lost */
    CHECK_EQ(rd(UART_LSR) & LSR_DR, 0);
    CHECK(!f.level);
    CHECK(ns16550_rx_ready(&u));
}

TEST(ns16550_non_fifo_rbr)
{
    setup();
    wr(UART_IER, IER_ERBFI | IER_ELSI);
    wr(UART_MCR, MCR_OUT2);
    CHECK(ns16550_rx(&u, 'a'));
    CHECK(!ns16550_rx_ready(&u));           /* one byte fills the RBR */
    CHECK_EQ(rd(UART_IIR), IIR_RDA);        /* no FIFO bits */
    CHECK(f.level);
    CHECK(!ns16550_rx(&u, 'b'));            /* overrun: 'b' destroys 'a' */
    CHECK_EQ(rd(UART_IIR), IIR_RLS);
    CHECK_EQ(rd(UART_LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
    CHECK_EQ(rd(UART_RBR), 'b');
    CHECK_EQ(rd(UART_LSR), LSR_THRE | LSR_TEMT);
    CHECK_EQ(rd(UART_IIR), IIR_NO_INT);
    CHECK(!f.level);
    CHECK_EQ(rd(UART_RBR), 'b');            /* an empty RBR keeps its last byte */
    CHECK(ns16550_rx(&u, 'c'));
    CHECK_EQ(rd(UART_RBR), 'c');
}

TEST(ns16550_fcr_clear)
{
    setup();
    wr(UART_FCR, FCR_ENABLE);
    for (int i = 0; i < 5; i++)
        ns16550_rx(&u, 'q');
    wr(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
    CHECK_EQ(rd(UART_LSR), LSR_THRE | LSR_TEMT);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    for (int i = 0; i < 3; i++)
        ns16550_rx(&u, 'r');
    wr(UART_FCR, 0);                        /* leaving FIFO mode clears the FIFO */
    CHECK_EQ(rd(UART_LSR) & LSR_DR, 0);
    ns16550_rx(&u, 's');
    wr(UART_FCR, FCR_CLEAR_RX);             /* ignored without bit 0 ... */
    CHECK_EQ(rd(UART_LSR) & LSR_DR, LSR_DR);
    wr(UART_FCR, FCR_ENABLE);               /* ... but entering FIFO mode clears */
    CHECK_EQ(rd(UART_LSR) & LSR_DR, 0);
}

TEST(ns16550_loopback)
{
    setup();
    wr(UART_FCR, FCR_ENABLE);
    wr(UART_MCR, MCR_LOOP);
    CHECK_EQ(rd(UART_MSR), MSR_DCTS | MSR_DDSR | MSR_DDCD);   /* the inputs fell to MCR's 0s */
    wr(UART_THR, 'x');
    wr(UART_THR, 'y');
    CHECK_EQ(f.ntx, 0);
    CHECK_EQ(u.bytes_tx, 0);
    CHECK(!ns16550_rx_ready(&u));
    CHECK(!ns16550_rx(&u, 'L'));            /* the line is disconnected */
    CHECK_EQ(u.rx_dropped, 1);
    CHECK_EQ(u.rx_overruns, 0);
    CHECK_EQ(rd(UART_LSR), LSR_DR | LSR_THRE | LSR_TEMT);
    CHECK_EQ(rd(UART_RBR), 'x');
    CHECK_EQ(rd(UART_RBR), 'y');

    wr(UART_MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2);
    CHECK_EQ(rd(UART_MSR), 0xF0 | MSR_DCTS | MSR_DDSR | MSR_DDCD);  /* no TERI on a rise */
    CHECK_EQ(rd(UART_MSR), 0xF0);
    wr(UART_MCR, MCR_LOOP | MCR_OUT2);
    CHECK_EQ(rd(UART_MSR), MSR_DCD | MSR_DCTS | MSR_DDSR | MSR_TERI);
    wr(UART_MCR, MCR_LOOP | MCR_OUT1);
    wr(UART_MCR, MCR_LOOP);
    CHECK_EQ(rd(UART_MSR), MSR_DDCD | MSR_TERI);   /* deltas accumulate until read */

    wr(UART_IER, IER_EDSSI);                /* modem status interrupt, cleared by MSR read */
    wr(UART_MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
    CHECK(f.level);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_MS);
    CHECK_EQ(rd(UART_MSR), MSR_DCD | MSR_CTS | MSR_DDCD | MSR_DCTS);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    CHECK(!f.level);

    wr(UART_MCR, MCR_OUT2);                 /* back to the terminal */
    CHECK_EQ(rd(UART_MSR), MSR_DCD | MSR_DSR | MSR_CTS | MSR_DDSR);
    wr(UART_THR, 'z');
    CHECK_EQ(f.ntx, 1);
    CHECK(ns16550_rx(&u, 'L'));
}

TEST(ns16550_loopback_overrun)
{
    setup();
    wr(UART_MCR, MCR_LOOP);                 /* non-FIFO: the second byte overruns */
    wr(UART_THR, '1');
    wr(UART_THR, '2');
    CHECK_EQ(rd(UART_LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
    CHECK_EQ(rd(UART_RBR), '2');
}

TEST(ns16550_iir_priority)
{
    setup();
    wr(UART_FCR, FCR_ENABLE | FCR_TRIG_4);
    wr(UART_MCR, MCR_LOOP);                 /* leave deltas behind for a modem status source */
    wr(UART_MCR, MCR_OUT2);
    wr(UART_IER, 0x0F);                     /* THRE */
    for (int i = 0; i < NS16550_FIFO_SIZE + 1; i++)
        ns16550_rx(&u, (uint8_t)i);         /* RDA and an overrun */
    CHECK(f.level);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RLS);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RLS);
    rd(UART_LSR);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RDA);
    for (int i = 0; i < 14; i++)
        rd(UART_RBR);                       /* 2 left, below the trigger of 4 */
    ns16550_rx_timeout(&u);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_CTI);   /* CTI beats THRE */
    rd(UART_RBR);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_THRE);  /* this read acknowledges THRE */
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_MS);
    CHECK(f.level);
    rd(UART_MSR);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    CHECK(!f.level);
    CHECK_EQ(f.rises, 1);                   /* held high throughout, one edge */

    /* A disabled source is never shown, even when pending. */
    wr(UART_IER, 0);
    wr(UART_IER, IER_ETBEI);
    for (int i = 0; i < 5; i++)
        ns16550_rx(&u, 'a');                /* RDA condition, but ERBFI is off */
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_THRE);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    wr(UART_IER, IER_ERBFI);
    CHECK_EQ(rd(UART_IIR), IIR_FIFO_ENABLED | IIR_RDA);
}

TEST(ns16550_ioport_glue)
{
    static struct ioport_table io;
    static struct ns16550 com2;
    struct fake f2;
    memset(&f2, 0, sizeof(f2));
    ioport_init(&io);
    setup();
    ns16550_init(&com2, 0x2f8, fake_tx, fake_irq, &f2);
    CHECK(ns16550_attach(&io, &u, "com1"));
    CHECK(ns16550_attach(&io, &com2, "com2"));
    CHECK(!ns16550_attach(&io, &u, "com1"));               /* taken */
    CHECK_STR(ioport_owner_name(&io, 0x3ff), "com1");
    CHECK_STR(ioport_owner_name(&io, 0x2f8), "com2");
    CHECK_STR(ioport_owner_name(&io, 0x400), "none");
    ioport_out(&io, 0x3f8, 1, 'A');
    ioport_out(&io, 0x2f8, 1, 'B');
    CHECK_EQ(f.ntx, 1);
    CHECK_EQ(f.tx[0], 'A');
    CHECK_EQ(f2.tx[0], 'B');
    CHECK_EQ(ioport_in(&io, 0x3fd, 1), LSR_THRE | LSR_TEMT);
    ioport_out(&io, 0x3ff, 1, 0x5A);
    CHECK_EQ(ioport_in(&io, 0x3fe, 2), 0x5AB0);            /* byte cycles: MSR, then SCR */
    CHECK_EQ(ioport_in(&io, 0x3ff, 4), 0xFFFFFF5A);        /* past the device: open bus */
    ioport_out(&io, 0x3fb, 2, 0x0380);                     /* LCR = DLAB, MCR = DTR|RTS */
    CHECK_EQ(u.lcr, LCR_DLAB);
    CHECK_EQ(u.mcr, MCR_DTR | MCR_RTS);
    ioport_out(&io, 0x3f8, 2, 0x0001);                     /* DLL/DLM together */
    CHECK_EQ(ioport_in(&io, 0x3f8, 2), 0x0001);
}

static uint32_t rng_state = 0x12345678;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

TEST(ns16550_garbage)
{
    static struct ioport_table io;
    ioport_init(&io);
    setup();
    CHECK(ns16550_attach(&io, &u, "com1"));
    for (int i = 0; i < 100000; i++) {
        uint32_t r = rng(), v = rng();
        switch (r % 8) {
        case 0: case 1: ns16550_write(&u, (uint16_t)(v >> 8), (uint8_t)v); break;
        case 2: case 3: ns16550_read(&u, (uint16_t)v); break;
        case 4: ns16550_rx(&u, (uint8_t)v); break;
        case 5: ns16550_rx_timeout(&u); break;
        case 6: ioport_out(&io, (uint16_t)(0x3f0 + (v & 0x1F)), 1u << (r >> 8) % 3, rng()); break;
        default: ioport_in(&io, (uint16_t)(0x3f0 + (v & 0x1F)), 1u << (r >> 8) % 3); break;
        }
        if ((r >> 20) % 64 == 0)
            ns16550_write(&u, UART_LCR, 0);   /* leave DLAB now and then so THR/IER get hit */
        CHECK(u.rx_count <= NS16550_FIFO_SIZE && u.rx_head < NS16550_FIFO_SIZE);
        CHECK(f.level == u.irq_level);
        CHECK(!u.irq_level || (u.mcr & MCR_OUT2));
        CHECK((u.ier & ~IER_MASK) == 0 && (u.mcr & ~MCR_MASK) == 0);
        if (test_failed_checks)
            break;
    }
    CHECK(u.bytes_tx > 0 && u.bytes_rx > 0);
    CHECK(f.rises > 0);
    /* Still a working UART afterwards. */
    ns16550_write(&u, UART_LCR, 0x03);
    ns16550_write(&u, UART_MCR, MCR_OUT2);
    ns16550_write(&u, UART_FCR, FCR_ENABLE | FCR_CLEAR_RX);
    ns16550_write(&u, UART_IER, 0);
    ns16550_read(&u, UART_LSR);
    ns16550_read(&u, UART_MSR);
    CHECK_EQ(ns16550_read(&u, UART_IIR), IIR_FIFO_ENABLED | IIR_NO_INT);
    CHECK(!f.level);
    CHECK(ns16550_rx(&u, 'k'));
    CHECK_EQ(ns16550_read(&u, UART_RBR), 'k');
}
