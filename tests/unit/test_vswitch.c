/* The learning bridge: flooding (broadcast, multicast, unknown unicast), learning, stations
 * that move, ageing, same-port frames, size limits, per-port backlogs (no buffer, hold mode,
 * overflow), NIC results, exact counters, port removal, a full forwarding table, the port
 * limit, and a seeded randomized run checked against a reference model. Each port's NIC is a
 * fake that logs what it is handed and answers as scripted. */
#include "test.h"
#include "dev/nic.h"
#include "net/vswitch.h"

#define NPORTS 4
#define LOG_MAX 256

struct nic {
    int id;
    enum nic_rx_result answer;          /* default answer */
    enum nic_rx_result script[16];      /* answers taken first, in order */
    unsigned nscript, script_pos;
    unsigned calls;                     /* deliver calls, whatever the answer */
    unsigned nlog;                      /* frames answered OK */
    size_t len[LOG_MAX];
    uint8_t data[LOG_MAX][ETH_FRAME_MAX];
};

static struct vswitch sw;
static struct nic nics[VSWITCH_MAX_PORTS + 1];
static struct vswitch_frame backlog[VSWITCH_MAX_PORTS + 1][VSWITCH_BACKLOG];
static int port[NPORTS];

static enum nic_rx_result fake_deliver(void *ctx, const uint8_t *frame, size_t len)
{
    struct nic *c = ctx;
    c->calls++;
    CHECK(len >= ETH_HLEN && len <= ETH_FRAME_MAX);
    enum nic_rx_result r = c->script_pos < c->nscript ? c->script[c->script_pos++] : c->answer;
    if (r == NIC_RX_OK) {
        if (c->nlog < LOG_MAX) {
            c->len[c->nlog] = len;
            memcpy(c->data[c->nlog], frame, len);
        }
        c->nlog++;
    }
    return r;
}

static void script(int p, unsigned cnt, const enum nic_rx_result *r)
{
    struct nic *c = &nics[p];
    for (unsigned i = 0; i < cnt; i++)
        c->script[i] = r[i];
    c->nscript = cnt;
    c->script_pos = 0;
}

static void setup_n(unsigned nports)
{
    memset(&sw, 0xA5, sizeof(sw));      /* init must not rely on a zeroed struct */
    vswitch_init(&sw);
    memset(nics, 0, sizeof(nics));
    for (unsigned i = 0; i < nports; i++) {
        char name[8] = "vm0";
        name[2] = (char)('0' + i);
        nics[i].id = (int)i;
        nics[i].answer = NIC_RX_OK;
        int p = vswitch_add_port(&sw, name, fake_deliver, &nics[i], backlog[i]);
        CHECK_EQ(p, i);
        if (i < NPORTS)
            port[i] = p;
    }
}

static void setup(void) { setup_n(NPORTS); }

static const uint8_t BCAST[ETH_ALEN] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t MCAST[ETH_ALEN] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 };
static const uint8_t MA[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0A };
static const uint8_t MB[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0B };
static const uint8_t MC[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0C };
static const uint8_t MD[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0D };

/* dst, src, IPv4 type, then the tag (4 bytes, little-endian) and a pattern. */
static size_t mkframe(uint8_t *b, const uint8_t *dst, const uint8_t *src, size_t len, uint32_t tag)
{
    memcpy(b, dst, ETH_ALEN);
    memcpy(b + ETH_ALEN, src, ETH_ALEN);
    b[12] = 0x08;
    b[13] = 0x00;
    for (size_t i = ETH_HLEN; i < len; i++)
        b[i] = (uint8_t)(tag * 7u + i);
    for (size_t i = 0; i < 4 && ETH_HLEN + i < len; i++)
        b[ETH_HLEN + i] = (uint8_t)(tag >> (8 * i));
    return len;
}

static uint32_t tag_of(const uint8_t *b) { return b[14] | b[15] << 8 | b[16] << 16 | (uint32_t)b[17] << 24; }

static void send(int p, const uint8_t *dst, const uint8_t *src, size_t len, uint32_t tag, uint64_t now)
{
    static uint8_t b[ETH_FRAME_MAX + 16];
    mkframe(b, dst, src, len, tag);
    vswitch_input(&sw, p, b, len, now);
}

/* Did port p's NIC take (OK) exactly the frame with this tag, as its k-th? */
static bool got(int p, unsigned k, const uint8_t *dst, const uint8_t *src, size_t len, uint32_t tag)
{
    static uint8_t b[ETH_FRAME_MAX + 16];
    mkframe(b, dst, src, len, tag);
    return k < nics[p].nlog && k < LOG_MAX && nics[p].len[k] == len && !memcmp(nics[p].data[k], b, len);
}

static const struct vswitch_port_stats *st(int p) { return &sw.port[p].st; }

/* ================================ flooding ================================ */

TEST(vsw_flood_broadcast)
{
    setup();
    send(0, BCAST, MA, 60, 1, 0);
    CHECK_EQ(nics[0].calls, 0);                 /* never back to the sender */
    for (int p = 1; p < NPORTS; p++) {
        CHECK_EQ(nics[p].calls, 1);
        CHECK(got(p, 0, BCAST, MA, 60, 1));
        CHECK_EQ(st(p)->out_frames, 1);
        CHECK_EQ(st(p)->out_bytes, 60);
    }
    CHECK_EQ(st(0)->flooded, 1);
    CHECK_EQ(st(0)->in_frames, 1);
    CHECK_EQ(st(0)->in_bytes, 60);
    CHECK_EQ(st(0)->out_frames, 0);
    /* A broadcast is flooded even once every station is known. */
    send(1, BCAST, MB, 64, 2, 0);
    send(2, BCAST, MC, 64, 3, 0);
    send(3, BCAST, MD, 64, 4, 0);
    CHECK_EQ(nics[0].calls, 3);
    CHECK_EQ(nics[1].calls, 3);
    CHECK_EQ(nics[2].calls, 3);
    CHECK_EQ(nics[3].calls, 3);
    send(0, BCAST, MA, 60, 5, 0);
    CHECK_EQ(nics[0].calls, 3);
    for (int p = 1; p < NPORTS; p++) {
        CHECK_EQ(nics[p].calls, 4);
        CHECK(got(p, 3, BCAST, MA, 60, 5));
    }
    CHECK_EQ(st(0)->flooded, 2);
    CHECK_EQ(sw.learned, 4);
}

TEST(vsw_flood_multicast)
{
    setup();
    /* A group address as source is never learned ... */
    send(1, BCAST, MCAST, 60, 1, 0);
    CHECK_EQ(vswitch_lookup(&sw, MCAST, 0), VSWITCH_NO_PORT);
    CHECK_EQ(sw.learned, 0);
    memset(nics, 0, sizeof(nics));
    for (int p = 0; p < NPORTS; p++)
        nics[p].answer = NIC_RX_OK;
    /* ... and a multicast destination floods to every other port, port 1 included. */
    send(0, MCAST, MA, 70, 2, 0);
    CHECK_EQ(nics[0].calls, 0);
    for (int p = 1; p < NPORTS; p++) {
        CHECK_EQ(nics[p].calls, 1);
        CHECK(got(p, 0, MCAST, MA, 70, 2));
    }
    static const uint8_t M2[ETH_ALEN] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };   /* IPv6 all-nodes */
    send(2, M2, MC, 80, 3, 0);
    CHECK_EQ(nics[2].calls, 1);
    CHECK_EQ(nics[0].calls, 1);
    CHECK_EQ(nics[1].calls, 2);
    CHECK_EQ(nics[3].calls, 2);
    CHECK(got(0, 0, M2, MC, 80, 3));
    CHECK_EQ(st(0)->flooded, 1);
    CHECK_EQ(st(2)->flooded, 1);
}

TEST(vsw_flood_unknown_unicast)
{
    setup();
    send(2, MB, MA, 100, 7, 0);                 /* MB never seen */
    CHECK_EQ(nics[2].calls, 0);
    CHECK_EQ(nics[0].calls, 1);
    CHECK_EQ(nics[1].calls, 1);
    CHECK_EQ(nics[3].calls, 1);
    CHECK(got(0, 0, MB, MA, 100, 7));
    CHECK(got(1, 0, MB, MA, 100, 7));
    CHECK(got(3, 0, MB, MA, 100, 7));
    CHECK_EQ(st(2)->flooded, 1);
    CHECK_EQ(vswitch_lookup(&sw, MA, 0), 2);
    CHECK_EQ(vswitch_lookup(&sw, MB, 0), VSWITCH_NO_PORT);
}

/* ================================ learning ================================ */

TEST(vsw_learn_then_unicast)
{
    setup();
    send(0, BCAST, MA, 60, 1, 10);
    CHECK_EQ(vswitch_lookup(&sw, MA, 10), 0);
    send(1, MA, MB, 61, 2, 20);                 /* B answers A */
    CHECK_EQ(nics[0].calls, 1);
    CHECK(got(0, 0, MA, MB, 61, 2));
    CHECK_EQ(nics[2].calls, 1);                 /* only the broadcast */
    CHECK_EQ(nics[3].calls, 1);
    CHECK_EQ(nics[1].calls, 1);
    CHECK_EQ(st(1)->flooded, 0);
    CHECK_EQ(vswitch_lookup(&sw, MB, 20), 1);
    send(0, MB, MA, 62, 3, 30);
    CHECK_EQ(nics[1].calls, 2);
    CHECK(got(1, 1, MB, MA, 62, 3));
    CHECK_EQ(nics[0].calls, 1);
    CHECK_EQ(nics[2].calls, 1);
    CHECK_EQ(nics[3].calls, 1);
    CHECK_EQ(st(0)->flooded, 1);
    CHECK_EQ(sw.learned, 2);
    CHECK_EQ(sw.moved, 0);
    CHECK_EQ(sw.evicted, 0);
}

TEST(vsw_station_moves)
{
    setup();
    send(0, BCAST, MA, 60, 1, 0);
    send(1, BCAST, MB, 60, 2, 0);
    CHECK_EQ(vswitch_lookup(&sw, MA, 0), 0);
    send(2, MB, MA, 60, 3, 5);                  /* A is now behind port 2 */
    CHECK_EQ(sw.moved, 1);
    CHECK_EQ(sw.learned, 2);
    CHECK_EQ(vswitch_lookup(&sw, MA, 5), 2);
    CHECK(got(1, 1, MB, MA, 60, 3));
    unsigned c0 = nics[0].calls, c2 = nics[2].calls, c3 = nics[3].calls;
    send(1, MA, MB, 60, 4, 6);
    CHECK_EQ(nics[0].calls, c0);
    CHECK_EQ(nics[3].calls, c3);
    CHECK_EQ(nics[2].calls, c2 + 1);
    CHECK(got(2, nics[2].nlog - 1, MA, MB, 60, 4));
    /* Seen again on the same port: not a move. */
    send(2, MB, MA, 60, 5, 7);
    CHECK_EQ(sw.moved, 1);
}

/* 802.1D ageing: an entry not refreshed for more than ageing_ns is not used. */
TEST(vsw_ageing)
{
    setup();
    const uint64_t t0 = 1000, age = VSWITCH_AGEING_NS;
    CHECK_EQ(sw.ageing_ns, age);
    send(1, BCAST, MB, 60, 1, t0);
    send(0, MB, MA, 60, 2, t0 + age);           /* exactly ageing_ns old: still used */
    CHECK_EQ(nics[1].calls, 1);
    CHECK_EQ(nics[2].calls, 1);
    CHECK_EQ(nics[3].calls, 1);
    CHECK_EQ(vswitch_lookup(&sw, MB, t0 + age), 1);
    CHECK_EQ(vswitch_lookup(&sw, MB, t0 + age + 1), VSWITCH_NO_PORT);
    send(0, MB, MA, 60, 3, t0 + age + 1);       /* older: flooded */
    CHECK_EQ(nics[1].calls, 2);
    CHECK_EQ(nics[2].calls, 2);
    CHECK_EQ(nics[3].calls, 2);
    CHECK_EQ(st(0)->flooded, 1);
    /* Heard from again: used again. */
    send(1, MA, MB, 60, 4, t0 + 2 * age);
    CHECK_EQ(vswitch_lookup(&sw, MB, t0 + 2 * age), 1);
    CHECK_EQ(nics[0].calls, 2);                 /* MA refreshed at t0+age+1: unicast */
    send(0, MB, MA, 60, 5, t0 + 2 * age + 1);
    CHECK_EQ(nics[1].calls, 3);
    CHECK_EQ(nics[2].calls, 2);
    CHECK_EQ(nics[3].calls, 2);
    /* A shorter ageing time. */
    sw.ageing_ns = 100;
    CHECK_EQ(vswitch_lookup(&sw, MB, t0 + 2 * age + 100), 1);
    CHECK_EQ(vswitch_lookup(&sw, MB, t0 + 2 * age + 101), VSWITCH_NO_PORT);
}

/* 802.1D: a frame for a station on the port it came in is not sent anywhere. */
TEST(vsw_same_port_filtered)
{
    setup();
    send(0, BCAST, MA, 60, 1, 0);
    send(0, BCAST, MC, 60, 2, 0);
    unsigned c[NPORTS];
    for (int p = 0; p < NPORTS; p++)
        c[p] = nics[p].calls;
    send(0, MC, MA, 90, 3, 1);
    for (int p = 0; p < NPORTS; p++)
        CHECK_EQ(nics[p].calls, c[p]);
    CHECK_EQ(st(0)->flooded, 2);
    CHECK_EQ(st(0)->in_frames, 3);
    CHECK_EQ(st(0)->in_bytes, 60 + 60 + 90);
    for (int p = 1; p < NPORTS; p++) {
        CHECK_EQ(st(p)->out_frames, 2);
        CHECK_EQ(vswitch_backlog(&sw, p), 0);
    }
    /* A frame to itself too. */
    send(0, MA, MA, 60, 4, 2);
    for (int p = 0; p < NPORTS; p++)
        CHECK_EQ(nics[p].calls, c[p]);
}

TEST(vsw_size_limits)
{
    static const uint8_t MX[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x99 };
    setup();
    send(0, BCAST, MA, ETH_HLEN - 1, 1, 0);
    send(2, BCAST, MX, ETH_FRAME_MAX + 1, 2, 0);
    send(0, BCAST, MA, 0, 3, 0);
    for (int p = 0; p < NPORTS; p++)
        CHECK_EQ(nics[p].calls, 0);
    CHECK_EQ(st(0)->drop_size, 2);
    CHECK_EQ(st(2)->drop_size, 1);
    CHECK_EQ(st(0)->in_frames, 0);
    CHECK_EQ(st(0)->in_bytes, 0);
    CHECK_EQ(st(2)->in_frames, 0);
    CHECK_EQ(st(0)->flooded, 0);
    CHECK_EQ(vswitch_lookup(&sw, MX, 0), VSWITCH_NO_PORT);     /* not learned either */
    CHECK_EQ(sw.learned, 0);
    /* The limits themselves pass, byte-exact. */
    send(0, BCAST, MA, ETH_HLEN, 4, 0);
    send(2, BCAST, MX, ETH_FRAME_MAX, 5, 0);
    CHECK(got(1, 0, BCAST, MA, ETH_HLEN, 4));
    CHECK(got(1, 1, BCAST, MX, ETH_FRAME_MAX, 5));
    CHECK(got(0, 0, BCAST, MX, ETH_FRAME_MAX, 5));
    CHECK_EQ(st(1)->out_bytes, ETH_HLEN + ETH_FRAME_MAX);
    CHECK_EQ(st(0)->drop_size, 2);
    CHECK_EQ(st(2)->drop_size, 1);
}

/* ================================ backlogs ================================ */

TEST(vsw_no_buffer_backlog)
{
    setup();
    send(1, BCAST, MB, 60, 0, 0);               /* learn B on port 1 */
    CHECK_EQ(nics[1].calls, 0);
    nics[1].answer = NIC_RX_NO_BUFFER;
    send(0, MB, MA, 60, 1, 1);
    CHECK_EQ(nics[1].calls, 1);                 /* tried, no room: held */
    CHECK_EQ(vswitch_backlog(&sw, 1), 1);
    send(0, MB, MA, 61, 2, 2);
    send(0, MB, MA, 62, 3, 3);
    CHECK_EQ(nics[1].calls, 1);                 /* queued behind it, not tried */
    CHECK_EQ(vswitch_backlog(&sw, 1), 3);
    nics[1].answer = NIC_RX_OK;
    send(0, MB, MA, 63, 4, 4);                  /* room now, but order first */
    CHECK_EQ(nics[1].calls, 1);
    CHECK_EQ(nics[1].nlog, 0);
    CHECK_EQ(vswitch_backlog(&sw, 1), 4);
    CHECK_EQ(st(1)->held, 4);
    CHECK_EQ(st(1)->out_frames, 0);
    /* Flush: two go, then no buffer again. */
    static const enum nic_rx_result s[] = { NIC_RX_OK, NIC_RX_OK, NIC_RX_NO_BUFFER };
    script(1, 3, s);
    CHECK_EQ(vswitch_flush(&sw, 1), 2);
    CHECK_EQ(nics[1].calls, 4);
    CHECK_EQ(vswitch_backlog(&sw, 1), 2);
    CHECK(got(1, 0, MB, MA, 60, 1));
    CHECK(got(1, 1, MB, MA, 61, 2));
    CHECK_EQ(st(1)->out_frames, 2);
    CHECK_EQ(st(1)->out_bytes, 121);
    /* Still held: a new frame goes behind. */
    send(0, MB, MA, 64, 5, 5);
    CHECK_EQ(nics[1].calls, 4);
    CHECK_EQ(vswitch_backlog(&sw, 1), 3);
    CHECK_EQ(vswitch_flush(&sw, 1), 3);
    CHECK_EQ(vswitch_backlog(&sw, 1), 0);
    CHECK(got(1, 2, MB, MA, 62, 3));
    CHECK(got(1, 3, MB, MA, 63, 4));
    CHECK(got(1, 4, MB, MA, 64, 5));
    CHECK_EQ(vswitch_flush(&sw, 1), 0);
    /* Empty backlog: direct delivery again. */
    send(0, MB, MA, 65, 6, 6);
    CHECK_EQ(nics[1].nlog, 6);
    CHECK(got(1, 5, MB, MA, 65, 6));
    CHECK_EQ(vswitch_backlog(&sw, 1), 0);
    CHECK_EQ(st(1)->held, 5);
    CHECK_EQ(st(1)->out_frames, 6);
    CHECK_EQ(st(1)->out_bytes, 60 + 61 + 62 + 63 + 64 + 65);
    CHECK_EQ(st(1)->drop_backlog + st(1)->drop_nic + st(1)->filtered, 0);
    /* The other ports were never involved. */
    CHECK_EQ(nics[2].calls, 1);
    CHECK_EQ(nics[3].calls, 1);
    /* A flood with one port out of buffers: the others get it at once. */
    nics[3].answer = NIC_RX_NO_BUFFER;
    send(0, BCAST, MA, 66, 7, 7);
    CHECK_EQ(vswitch_backlog(&sw, 3), 1);
    CHECK(got(1, 6, BCAST, MA, 66, 7));
    CHECK(got(2, 1, BCAST, MA, 66, 7));
    nics[3].answer = NIC_RX_OK;
    CHECK_EQ(vswitch_flush(&sw, 3), 1);
    CHECK(got(3, 1, BCAST, MA, 66, 7));
}

TEST(vsw_hold_mode)
{
    setup();
    send(1, BCAST, MB, 60, 0, 0);
    vswitch_set_hold(&sw, 1, true);
    for (uint32_t i = 1; i <= 5; i++)
        send(0, MB, MA, 60 + i, i, i);
    CHECK_EQ(nics[1].calls, 0);                 /* the NIC has room, but it is polled */
    CHECK_EQ(vswitch_backlog(&sw, 1), 5);
    CHECK_EQ(st(1)->held, 5);
    CHECK_EQ(vswitch_flush(&sw, 1), 5);
    CHECK_EQ(nics[1].calls, 5);
    for (uint32_t i = 1; i <= 5; i++)
        CHECK(got(1, i - 1, MB, MA, 60 + i, i));
    CHECK_EQ(st(1)->out_frames, 5);
    /* Still in hold mode. */
    send(0, MB, MA, 70, 6, 6);
    CHECK_EQ(nics[1].calls, 5);
    CHECK_EQ(vswitch_backlog(&sw, 1), 1);
    /* Turning hold off does not flush; the next frame still waits behind the held one. */
    vswitch_set_hold(&sw, 1, false);
    CHECK_EQ(vswitch_backlog(&sw, 1), 1);
    CHECK_EQ(nics[1].calls, 5);
    send(0, MB, MA, 71, 7, 7);
    CHECK_EQ(nics[1].calls, 5);
    CHECK_EQ(vswitch_backlog(&sw, 1), 2);
    CHECK_EQ(vswitch_flush(&sw, 1), 2);
    CHECK(got(1, 5, MB, MA, 70, 6));
    CHECK(got(1, 6, MB, MA, 71, 7));
    send(0, MB, MA, 72, 8, 8);
    CHECK_EQ(nics[1].calls, 8);
    CHECK(got(1, 7, MB, MA, 72, 8));
    /* Hold on a flood: held there only. */
    vswitch_set_hold(&sw, 2, true);
    send(0, BCAST, MA, 60, 9, 9);
    CHECK_EQ(vswitch_backlog(&sw, 2), 1);
    CHECK_EQ(vswitch_backlog(&sw, 3), 0);
    CHECK_EQ(nics[2].calls, 1);
    CHECK_EQ(nics[3].calls, 2);
}

TEST(vsw_backlog_overflow)
{
    setup();
    send(1, BCAST, MB, 60, 0, 0);
    vswitch_set_hold(&sw, 1, true);
    for (uint32_t i = 0; i < VSWITCH_BACKLOG + 3; i++)
        send(0, MB, MA, 60 + (i % 40), 100 + i, 1 + i);
    CHECK_EQ(vswitch_backlog(&sw, 1), VSWITCH_BACKLOG);
    CHECK_EQ(st(1)->held, VSWITCH_BACKLOG);
    CHECK_EQ(st(1)->drop_backlog, 3);
    CHECK_EQ(nics[1].calls, 0);
    CHECK_EQ(vswitch_flush(&sw, 1), VSWITCH_BACKLOG);
    CHECK_EQ(nics[1].nlog, VSWITCH_BACKLOG);
    for (uint32_t i = 0; i < VSWITCH_BACKLOG; i++)
        CHECK(got(1, i, MB, MA, 60 + (i % 40), 100 + i));
    CHECK_EQ(vswitch_backlog(&sw, 1), 0);
    CHECK_EQ(st(1)->out_frames, VSWITCH_BACKLOG);
    /* The ring wraps: fill again, half flush, fill, flush all, in order. */
    for (uint32_t i = 0; i < 40; i++)
        send(0, MB, MA, 60, 1000 + i, 100);
    static const enum nic_rx_result s[] = { NIC_RX_OK, NIC_RX_OK, NIC_RX_OK, NIC_RX_OK, NIC_RX_OK,
                                            NIC_RX_OK, NIC_RX_OK, NIC_RX_OK, NIC_RX_OK, NIC_RX_OK,
                                            NIC_RX_NO_BUFFER };
    script(1, 11, s);
    CHECK_EQ(vswitch_flush(&sw, 1), 10);
    CHECK_EQ(vswitch_backlog(&sw, 1), 30);
    for (uint32_t i = 40; i < 80; i++)      /* 30 + 40: the last 6 do not fit */
        send(0, MB, MA, 60, 1000 + i, 100);
    CHECK_EQ(vswitch_backlog(&sw, 1), VSWITCH_BACKLOG);
    CHECK_EQ(st(1)->drop_backlog, 3 + 6);
    CHECK_EQ(st(1)->held, VSWITCH_BACKLOG + 40 + 34);
    CHECK_EQ(vswitch_flush(&sw, 1), VSWITCH_BACKLOG);
    CHECK_EQ(nics[1].nlog, VSWITCH_BACKLOG + 10 + VSWITCH_BACKLOG);
    for (uint32_t i = 0; i < 74; i++)
        CHECK(got(1, VSWITCH_BACKLOG + i, MB, MA, 60, 1000 + i));
    /* A port with no backlog storage drops rather than holds. */
    vswitch_remove_port(&sw, 3);
    CHECK_EQ(vswitch_add_port(&sw, "nobl", fake_deliver, &nics[3], NULL), 3);
    nics[3].answer = NIC_RX_NO_BUFFER;
    send(0, BCAST, MA, 60, 5, 200);
    CHECK_EQ(st(3)->drop_backlog, 1);
    CHECK_EQ(vswitch_backlog(&sw, 3), 0);
}

TEST(vsw_filtered_and_dropped)
{
    setup();
    send(1, BCAST, MB, 60, 0, 0);
    nics[1].answer = NIC_RX_FILTERED;
    send(0, MB, MA, 60, 1, 1);
    CHECK_EQ(st(1)->filtered, 1);
    CHECK_EQ(st(1)->out_frames, 0);
    CHECK_EQ(st(1)->drop_nic, 0);
    CHECK_EQ(vswitch_backlog(&sw, 1), 0);
    nics[1].answer = NIC_RX_DROPPED;
    send(0, MB, MA, 60, 2, 2);
    CHECK_EQ(st(1)->drop_nic, 1);
    CHECK_EQ(st(1)->filtered, 1);
    CHECK_EQ(st(1)->out_frames, 0);
    CHECK_EQ(vswitch_backlog(&sw, 1), 0);
    /* From the backlog: a refused frame leaves it and the flush goes on. */
    vswitch_set_hold(&sw, 1, true);
    for (uint32_t i = 3; i <= 6; i++)
        send(0, MB, MA, 60, i, i);
    static const enum nic_rx_result s[] = { NIC_RX_DROPPED, NIC_RX_OK, NIC_RX_FILTERED, NIC_RX_OK };
    script(1, 4, s);
    CHECK_EQ(vswitch_flush(&sw, 1), 4);
    CHECK_EQ(nics[1].nlog, 2);
    CHECK(got(1, 0, MB, MA, 60, 4));
    CHECK(got(1, 1, MB, MA, 60, 6));
    CHECK_EQ(st(1)->drop_nic, 2);
    CHECK_EQ(st(1)->filtered, 2);
    CHECK_EQ(st(1)->out_frames, 2);
    CHECK_EQ(st(1)->out_bytes, 120);
    CHECK_EQ(st(1)->held, 4);
    CHECK_EQ(st(1)->drop_backlog, 0);
}

TEST(vsw_counters_exact)
{
    setup();
    send(0, BCAST, MA, 100, 1, 0);      /* to 1, 2, 3 */
    send(1, MA, MB, 200, 2, 0);         /* to 0 */
    send(2, MB, MC, 300, 3, 0);         /* to 1 */
    send(3, MD, MD, 400, 4, 0);         /* MD learned on 3 before the lookup: same port, nowhere */
    send(3, MC, MD, 64, 5, 0);          /* to 2 */
    nics[0].answer = NIC_RX_FILTERED;
    send(3, BCAST, MD, 70, 6, 0);       /* 0 filtered, 1 and 2 get it */
    const uint64_t in_f[NPORTS] = { 1, 1, 1, 3 }, in_b[NPORTS] = { 100, 200, 300, 534 };
    const uint64_t out_f[NPORTS] = { 1, 3, 3, 1 }, out_b[NPORTS] = { 200, 100 + 300 + 70, 100 + 64 + 70, 100 };
    const uint64_t fl[NPORTS] = { 1, 0, 0, 1 };
    for (int p = 0; p < NPORTS; p++) {
        CHECK_EQ(st(p)->in_frames, in_f[p]);
        CHECK_EQ(st(p)->in_bytes, in_b[p]);
        CHECK_EQ(st(p)->out_frames, out_f[p]);
        CHECK_EQ(st(p)->out_bytes, out_b[p]);
        CHECK_EQ(st(p)->flooded, fl[p]);
        CHECK_EQ(st(p)->held, 0);
        CHECK_EQ(st(p)->drop_backlog + st(p)->drop_nic + st(p)->drop_size, 0);
        CHECK_EQ(st(p)->filtered, p == 0);
    }
    CHECK_EQ(sw.learned, 4);
}

/* ================================ ports ================================ */

TEST(vsw_remove_port)
{
    setup();
    send(1, BCAST, MB, 60, 0, 0);
    send(1, BCAST, MC, 60, 0, 0);
    send(0, BCAST, MA, 60, 0, 0);
    vswitch_set_hold(&sw, 1, true);
    send(0, MB, MA, 60, 1, 1);
    CHECK_EQ(vswitch_backlog(&sw, 1), 1);
    unsigned c0 = nics[0].calls, c1 = nics[1].calls, c2 = nics[2].calls, c3 = nics[3].calls;
    vswitch_remove_port(&sw, 1);
    CHECK_EQ(vswitch_lookup(&sw, MB, 2), VSWITCH_NO_PORT);
    CHECK_EQ(vswitch_lookup(&sw, MC, 2), VSWITCH_NO_PORT);
    CHECK_EQ(vswitch_lookup(&sw, MA, 2), 0);
    CHECK_EQ(vswitch_backlog(&sw, 1), 0);
    CHECK_EQ(vswitch_flush(&sw, 1), 0);
    send(0, MB, MA, 60, 2, 2);                  /* floods, not to the removed port */
    send(0, BCAST, MA, 60, 3, 2);
    CHECK_EQ(nics[1].calls, c1);
    CHECK_EQ(nics[2].calls, c2 + 2);
    CHECK_EQ(nics[3].calls, c3 + 2);
    CHECK(got(2, nics[2].nlog - 2, MB, MA, 60, 2));
    CHECK_EQ(st(0)->flooded, 3);
    /* Input on a removed (or bogus) port is ignored. */
    vswitch_input(&sw, 1, nics[2].data[0], 60, 3);
    vswitch_input(&sw, -1, nics[2].data[0], 60, 3);
    vswitch_input(&sw, VSWITCH_MAX_PORTS, nics[2].data[0], 60, 3);
    CHECK_EQ(nics[0].calls, c0);
    CHECK_EQ(nics[2].calls, c2 + 2);
    CHECK_EQ(nics[3].calls, c3 + 2);
    /* Removing twice is harmless; a new port reuses the number, clean. */
    vswitch_remove_port(&sw, 1);
    int p = vswitch_add_port(&sw, "new", fake_deliver, &nics[1], backlog[1]);
    CHECK_EQ(p, 1);
    CHECK_EQ(vswitch_backlog(&sw, 1), 0);
    CHECK_EQ(st(1)->held + st(1)->out_frames + st(1)->in_frames, 0);
    CHECK(!sw.port[1].hold);
    CHECK_STR(sw.port[1].name, "new");
    CHECK_EQ(vswitch_flush(&sw, 1), 0);
    CHECK_EQ(nics[1].calls, c1);                /* the old held frame is gone */
    send(0, MB, MA, 60, 4, 4);                  /* still unknown: flooded, now to 1 too */
    CHECK_EQ(nics[1].calls, c1 + 1);
}

/* More stations than VSWITCH_FDB_SIZE: the entry heard from longest ago goes. */
TEST(vsw_fdb_full)
{
    setup();
    uint8_t st_mac[VSWITCH_FDB_SIZE + 2][ETH_ALEN];
    for (unsigned i = 0; i < VSWITCH_FDB_SIZE + 2; i++) {
        st_mac[i][0] = 0x02;
        st_mac[i][1] = 0;
        st_mac[i][2] = 0;
        st_mac[i][3] = 0;
        st_mac[i][4] = (uint8_t)(i >> 8);
        st_mac[i][5] = (uint8_t)i;
    }
    /* S0..S254 behind ports 1..3, S255 behind port 0; heard at t = 1 + i. */
    for (unsigned i = 0; i < VSWITCH_FDB_SIZE; i++) {
        int p = i == VSWITCH_FDB_SIZE - 1 ? 0 : (int)(i % 3) + 1;
        send(p, BCAST, st_mac[i], 60, i, 1 + i);
    }
    CHECK_EQ(sw.learned, VSWITCH_FDB_SIZE);
    CHECK_EQ(sw.evicted, 0);
    for (unsigned i = 0; i < VSWITCH_FDB_SIZE; i++)
        CHECK_EQ(vswitch_lookup(&sw, st_mac[i], 1000), i == VSWITCH_FDB_SIZE - 1 ? 0 : (int)(i % 3) + 1);
    /* S256 on port 1 pushes S0 out. */
    send(1, BCAST, st_mac[256], 60, 256, 1000);
    CHECK_EQ(sw.learned, VSWITCH_FDB_SIZE + 1);
    CHECK_EQ(sw.evicted, 1);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[0], 1000), VSWITCH_NO_PORT);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[256], 1000), 1);
    for (unsigned i = 1; i < VSWITCH_FDB_SIZE - 1; i++)
        CHECK_EQ(vswitch_lookup(&sw, st_mac[i], 1000), (int)(i % 3) + 1);
    memset(nics, 0, sizeof(nics));
    for (int p = 0; p < NPORTS; p++)
        nics[p].answer = NIC_RX_OK;
    /* S255 (port 0, already known: no new entry) to S1 (port 2): that port only. */
    send(0, st_mac[1], st_mac[255], 60, 1, 1001);
    CHECK_EQ(nics[2].calls, 1);
    CHECK_EQ(nics[1].calls + nics[3].calls, 0);
    /* ... to S256 (port 1) */
    send(0, st_mac[256], st_mac[255], 60, 2, 1002);
    CHECK_EQ(nics[1].calls, 1);
    CHECK_EQ(nics[2].calls + nics[3].calls, 1);
    /* ... to the evicted S0: flooded */
    send(0, st_mac[0], st_mac[255], 60, 3, 1003);
    CHECK_EQ(nics[1].calls, 2);
    CHECK_EQ(nics[2].calls, 2);
    CHECK_EQ(nics[3].calls, 1);
    CHECK_EQ(sw.learned, VSWITCH_FDB_SIZE + 1);
    /* S257 on port 2: S1 (receiving does not refresh) is now the oldest. */
    send(2, BCAST, st_mac[257], 60, 257, 1004);
    CHECK_EQ(sw.evicted, 2);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[1], 1004), VSWITCH_NO_PORT);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[2], 1004), 3);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[257], 1004), 2);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[255], 1004), 0);
    /* An aged entry is reused before any fresh one is evicted. */
    sw.ageing_ns = 1000;                    /* S2..S254 (t <= 255) are now older than 1000 at t = 1300 */
    send(3, BCAST, st_mac[0], 60, 0, 1300);
    CHECK_EQ(sw.evicted, 2);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[0], 1300), 3);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[256], 1300), 1);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[257], 1300), 2);
    CHECK_EQ(vswitch_lookup(&sw, st_mac[255], 1300), 0);
}

TEST(vsw_max_ports)
{
    setup_n(VSWITCH_MAX_PORTS);
    CHECK_EQ(vswitch_add_port(&sw, "extra", fake_deliver, &nics[VSWITCH_MAX_PORTS], backlog[VSWITCH_MAX_PORTS]),
             VSWITCH_NO_PORT);
    CHECK_EQ(vswitch_add_port(&sw, "extra2", fake_deliver, &nics[VSWITCH_MAX_PORTS], NULL), VSWITCH_NO_PORT);
    /* A broadcast reaches all 31 others. */
    send(VSWITCH_MAX_PORTS - 1, BCAST, MA, 60, 1, 0);
    for (int p = 0; p < VSWITCH_MAX_PORTS; p++)
        CHECK_EQ(nics[p].calls, p == VSWITCH_MAX_PORTS - 1 ? 0 : 1);
    CHECK_EQ(nics[VSWITCH_MAX_PORTS].calls, 0);
    vswitch_remove_port(&sw, 5);
    CHECK_EQ(vswitch_add_port(&sw, "again", fake_deliver, &nics[5], backlog[5]), 5);
    CHECK_EQ(vswitch_add_port(&sw, "extra3", fake_deliver, &nics[VSWITCH_MAX_PORTS], NULL), VSWITCH_NO_PORT);
    /* Long names are cut to fit. */
    vswitch_remove_port(&sw, 7);
    CHECK_EQ(vswitch_add_port(&sw, "a-very-long-port-name-longer-than-32-bytes", fake_deliver, &nics[7],
                              backlog[7]), 7);
    CHECK_EQ(strlen(sw.port[7].name), VSWITCH_PORT_NAME - 1);
}

/* ================================ randomized vs a model ================================ */

#define RND_FRAMES  4000
#define RND_MACS    6
#define RND_AGEING  600

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Every deliver call, in order, whatever port. */
struct ev { int port; uint32_t tag; enum nic_rx_result r; };
static struct ev evlog[4 * VSWITCH_BACKLOG * NPORTS + 64];
static unsigned nev;
static bool rnd_always_ok;
static uint8_t rnd_frames[RND_FRAMES][ETH_FRAME_MAX + 2];
static uint16_t rnd_len[RND_FRAMES];

static enum nic_rx_result rnd_deliver(void *ctx, const uint8_t *frame, size_t len)
{
    struct nic *c = ctx;
    uint32_t tag = len >= 18 ? tag_of(frame) : 0xFFFFFFFFu;
    CHECK(tag < RND_FRAMES);
    if (tag < RND_FRAMES) {
        CHECK_EQ(len, rnd_len[tag]);
        CHECK(len == rnd_len[tag] && !memcmp(frame, rnd_frames[tag], len));
    }
    enum nic_rx_result r = NIC_RX_OK;
    if (!rnd_always_ok) {
        uint32_t x = rnd() % 100;
        r = x < 80 ? NIC_RX_OK : x < 90 ? NIC_RX_NO_BUFFER : x < 95 ? NIC_RX_FILTERED : NIC_RX_DROPPED;
    }
    if (nev < ARRAY_SIZE(evlog))
        evlog[nev] = (struct ev){ c->id, tag, r };
    nev++;
    return r;
}

struct mport {
    bool hold;
    uint32_t q[VSWITCH_BACKLOG];
    unsigned qh, ql;
    struct vswitch_port_stats st;
    uint32_t last_ok;                   /* last tag taken OK + 1 (0: none) */
    uint64_t targeted;                  /* frames the model forwarded to this port */
};
static struct mport mp[NPORTS];
static struct { bool valid; int port; uint64_t seen; } mfdb[RND_MACS];
static uint64_t m_learned, m_moved, m_aged;
static unsigned ev_pos[NPORTS];

/* The next deliver call made to port p, from the log of the last switch call. */
static const struct ev *next_ev(int p)
{
    for (unsigned i = ev_pos[p]; i < nev && i < ARRAY_SIZE(evlog); i++)
        if (evlog[i].port == p) {
            ev_pos[p] = i + 1;
            return &evlog[i];
        }
    ev_pos[p] = nev;
    return NULL;
}

static void m_count(int p, enum nic_rx_result r, uint32_t tag)
{
    struct mport *m = &mp[p];
    if (r == NIC_RX_OK) {
        CHECK(tag + 1 > m->last_ok);    /* at most once per port, in order */
        m->last_ok = tag + 1;
        m->st.out_frames++;
        m->st.out_bytes += rnd_len[tag];
    } else if (r == NIC_RX_FILTERED) {
        m->st.filtered++;
    } else {
        m->st.drop_nic++;
    }
}

/* Expect (and consume) a deliver call of tag to p; false with a failure if there is none. */
static bool expect_call(int p, uint32_t tag, enum nic_rx_result *r)
{
    const struct ev *e = next_ev(p);
    CHECK(e != NULL);
    if (!e)
        return false;
    CHECK_EQ(e->tag, tag);
    *r = e->r;
    return e->tag == tag;
}

static void m_output(int p, uint32_t tag)
{
    struct mport *m = &mp[p];
    m->targeted++;
    if (!m->hold && !m->ql) {
        enum nic_rx_result r;
        if (!expect_call(p, tag, &r))
            return;
        if (r != NIC_RX_NO_BUFFER) {
            m_count(p, r, tag);
            return;
        }
    }
    if (m->ql == VSWITCH_BACKLOG) {
        m->st.drop_backlog++;
        return;
    }
    m->q[(m->qh + m->ql) % VSWITCH_BACKLOG] = tag;
    m->ql++;
    m->st.held++;
}

static unsigned m_flush(int p)
{
    struct mport *m = &mp[p];
    unsigned k = 0;
    while (m->ql) {
        enum nic_rx_result r;
        if (!expect_call(p, m->q[m->qh], &r))
            break;
        if (r == NIC_RX_NO_BUFFER)
            break;
        m_count(p, r, m->q[m->qh]);
        m->qh = (m->qh + 1) % VSWITCH_BACKLOG;
        m->ql--;
        k++;
    }
    return k;
}

static void check_log_consumed(void)
{
    CHECK(nev <= ARRAY_SIZE(evlog));
    for (int p = 0; p < NPORTS; p++)
        CHECK(next_ev(p) == NULL);      /* no call the model did not expect */
    nev = 0;
    memset(ev_pos, 0, sizeof(ev_pos));
}

static int mac_index(const uint8_t *mac)
{
    return mac[0] == 0x52 && mac[5] < RND_MACS ? mac[5] : -1;
}

/* The model's forwarding of frame tag from port p at now (the log of the call is in evlog). */
static void m_input(int p, uint32_t tag, uint64_t now)
{
    const uint8_t *fr = rnd_frames[tag];
    size_t len = rnd_len[tag];
    if (len < ETH_HLEN || len > ETH_FRAME_MAX) {
        mp[p].st.drop_size++;
        return;
    }
    mp[p].st.in_frames++;
    mp[p].st.in_bytes += len;
    int s = mac_index(fr + ETH_ALEN), d = mac_index(fr);
    if (s >= 0) {
        if (!mfdb[s].valid) {
            m_learned++;
            mfdb[s].valid = true;
        } else if (mfdb[s].port != p) {
            m_moved++;
        }
        mfdb[s].port = p;
        mfdb[s].seen = now;
    }
    int to = -1;
    if (d >= 0 && mfdb[d].valid && now - mfdb[d].seen <= RND_AGEING)
        to = mfdb[d].port;
    else if (d >= 0 && mfdb[d].valid)
        m_aged++;
    if (to == p)
        return;
    if (to >= 0) {
        m_output(to, tag);
        return;
    }
    mp[p].st.flooded++;
    for (int i = 0; i < NPORTS; i++)
        if (i != p)
            m_output(i, tag);
}

static bool stats_equal(const struct vswitch_port_stats *a, const struct vswitch_port_stats *b)
{
    return a->in_frames == b->in_frames && a->in_bytes == b->in_bytes && a->out_frames == b->out_frames &&
           a->out_bytes == b->out_bytes && a->filtered == b->filtered && a->held == b->held &&
           a->drop_backlog == b->drop_backlog && a->drop_nic == b->drop_nic && a->drop_size == b->drop_size &&
           a->flooded == b->flooded;
}

TEST(vsw_randomized_vs_model)
{
    memset(&sw, 0, sizeof(sw));
    vswitch_init(&sw);
    sw.ageing_ns = RND_AGEING;
    memset(nics, 0, sizeof(nics));
    memset(mp, 0, sizeof(mp));
    memset(mfdb, 0, sizeof(mfdb));
    m_learned = m_moved = m_aged = 0;
    nev = 0;
    memset(ev_pos, 0, sizeof(ev_pos));
    rnd_always_ok = false;
    for (int i = 0; i < NPORTS; i++) {
        nics[i].id = i;
        CHECK_EQ(vswitch_add_port(&sw, "rnd", rnd_deliver, &nics[i], backlog[i]), i);
    }
    uint64_t now = 0;
    unsigned flushes = 0, holds = 0, mismatches = 0;
    uint32_t tag = 0;
    while (tag < RND_FRAMES) {
        now += rnd() % 40;
        uint32_t act = rnd() % 100;
        if (act < 14) {
            int p = (int)(rnd() % NPORTS);
            unsigned got_n = vswitch_flush(&sw, p);
            unsigned want = m_flush(p);
            CHECK_EQ(got_n, want);
            mismatches += got_n != want;
            check_log_consumed();
            flushes++;
            continue;
        }
        if (act < 16) {
            int p = (int)(rnd() % NPORTS);
            bool h = !mp[p].hold;
            vswitch_set_hold(&sw, p, h);
            mp[p].hold = h;
            holds++;
            continue;
        }
        /* A frame: source one of the stations (sometimes a group address), destination a
         * station, broadcast or multicast; a few of bad size. */
        int p = (int)(rnd() % NPORTS);
        uint8_t *b = rnd_frames[tag];
        uint8_t dst[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x00 };
        uint8_t src[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x00 };
        uint32_t d = rnd() % (RND_MACS + 2);
        if (d == RND_MACS)
            memcpy(dst, BCAST, ETH_ALEN);
        else if (d == RND_MACS + 1)
            memcpy(dst, MCAST, ETH_ALEN);
        else
            dst[5] = (uint8_t)d;
        if (rnd() % 20 == 0)
            memcpy(src, MCAST, ETH_ALEN);
        else
            src[5] = (uint8_t)(rnd() % RND_MACS);
        uint32_t x = rnd() % 100;
        size_t len = x < 2 ? 13 : x < 4 ? ETH_FRAME_MAX + 1 : x < 6 ? ETH_FRAME_MAX : 18 + rnd() % 200;
        mkframe(b, dst, src, len, tag);
        rnd_len[tag] = (uint16_t)len;
        vswitch_input(&sw, p, b, len, now);
        m_input(p, tag, now);
        check_log_consumed();
        tag++;
        for (int i = 0; i < NPORTS; i++)
            CHECK_EQ(vswitch_backlog(&sw, i), mp[i].ql);
    }
    /* Drain: hold off, every NIC takes everything. */
    rnd_always_ok = true;
    for (int p = 0; p < NPORTS; p++) {
        vswitch_set_hold(&sw, p, false);
        mp[p].hold = false;
        unsigned want = mp[p].ql;
        CHECK_EQ(vswitch_flush(&sw, p), want);
        CHECK_EQ(m_flush(p), want);
        check_log_consumed();
        CHECK_EQ(vswitch_backlog(&sw, p), 0);
        CHECK_EQ(mp[p].ql, 0);
    }
    /* Counters: exactly the model's, and every frame forwarded to a port accounted for once. */
    uint64_t in = 0, drop_size = 0, out = 0, taken = 0;
    for (int p = 0; p < NPORTS; p++) {
        const struct vswitch_port_stats *a = st(p), *m = &mp[p].st;
        CHECK(stats_equal(a, m));
        CHECK_EQ(a->in_frames, m->in_frames);
        CHECK_EQ(a->in_bytes, m->in_bytes);
        CHECK_EQ(a->out_frames, m->out_frames);
        CHECK_EQ(a->out_bytes, m->out_bytes);
        CHECK_EQ(a->filtered, m->filtered);
        CHECK_EQ(a->held, m->held);
        CHECK_EQ(a->drop_backlog, m->drop_backlog);
        CHECK_EQ(a->drop_nic, m->drop_nic);
        CHECK_EQ(a->drop_size, m->drop_size);
        CHECK_EQ(a->flooded, m->flooded);
        CHECK_EQ(a->out_frames + a->filtered + a->drop_nic + a->drop_backlog, mp[p].targeted);
        in += a->in_frames;
        drop_size += a->drop_size;
        out += a->out_frames;
        taken += mp[p].targeted;
    }
    CHECK_EQ(in + drop_size, RND_FRAMES);
    CHECK(out > RND_FRAMES / 2);        /* the run exercised delivery ... */
    CHECK(taken > out);                 /* ... and refusals */
    CHECK_EQ(sw.learned, m_learned);
    CHECK_EQ(sw.moved, m_moved);
    CHECK_EQ(sw.learned, RND_MACS);
    CHECK(flushes > 100 && holds > 50);
    CHECK_EQ(mismatches, 0);
    uint64_t dropped_backlog = 0;
    for (int p = 0; p < NPORTS; p++)
        dropped_backlog += st(p)->drop_backlog;
    CHECK(dropped_backlog > 0);         /* hold mode ran long enough to overflow somewhere */
    CHECK(m_aged > 0);                  /* and some entries aged out */
    printf("  random: %u frames, %llu deliveries, %llu backlog drops, %llu aged, %llu moves\n", RND_FRAMES,
           (unsigned long long)out, (unsigned long long)dropped_backlog, (unsigned long long)m_aged,
           (unsigned long long)m_moved);
}

/* ============================ port security, reserved groups, lost frames ============================ */

/* A port locked to its NIC's address: frames from any other source are dropped and counted,
 * so a guest can neither steal a station (a move) nor fill the table with made-up ones. */
TEST(vsw_locked_port_refuses_other_sources)
{
    setup();
    vswitch_lock_port(&sw, 2, MC);
    send(1, BCAST, MB, 60, 1, 0);               /* MB learned on port 1 */
    send(2, MB, MB, 60, 2, 0);                  /* port 2 claims MB: refused */
    CHECK_EQ(st(2)->drop_spoof, 1);
    CHECK_EQ(st(2)->in_frames, 0);
    CHECK_EQ(vswitch_lookup(&sw, MB, 0), 1);    /* not moved */
    CHECK_EQ(sw.moved, 0);
    CHECK_EQ(nics[1].calls, 0);
    uint64_t learned = sw.learned;
    for (unsigned i = 0; i < VSWITCH_FDB_SIZE + 8; i++) {
        uint8_t fake[ETH_ALEN] = { 0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
        send(2, BCAST, fake, 60, 10 + i, 0);
    }
    CHECK_EQ(sw.learned, learned);              /* nothing learned, nothing evicted */
    CHECK_EQ(sw.evicted, 0);
    CHECK_EQ(st(2)->drop_spoof, 1 + VSWITCH_FDB_SIZE + 8);
    send(2, MB, MC, 60, 3, 0);                  /* its own address: forwarded */
    CHECK_EQ(st(2)->in_frames, 1);
    CHECK(got(1, 0, MB, MC, 60, 3));
    CHECK_EQ(vswitch_lookup(&sw, MC, 0), 2);
}

/* An unlocked port (the uplink) cannot take a locked port's address: a frame from it with the
 * VM's address as its source is refused there and the VM keeps its entry; once the VM's port
 * is gone, the address is anyone's. */
TEST(vsw_locked_address_not_taken_from_outside)
{
    setup();
    vswitch_lock_port(&sw, 2, MC);
    send(2, BCAST, MC, 60, 1, 0);               /* MC learned on port 2 */
    send(0, MD, MC, 60, 2, 0);                  /* port 0 (unlocked) claims MC */
    CHECK_EQ(st(0)->drop_spoof, 1);
    CHECK_EQ(st(0)->in_frames, 0);
    CHECK_EQ(vswitch_lookup(&sw, MC, 0), 2);
    CHECK_EQ(sw.moved, 0);
    send(0, BCAST, MC, 60, 3, 0);               /* not flooded either */
    CHECK_EQ(st(0)->drop_spoof, 2);
    CHECK_EQ(nics[2].calls, 0);
    CHECK_EQ(nics[1].calls, 1);                 /* only the first broadcast, from port 2 */
    send(0, MC, MA, 60, 4, 0);                  /* its own stations reach the VM */
    CHECK(got(2, 0, MC, MA, 60, 4));
    vswitch_remove_port(&sw, 2);
    send(0, MB, MC, 60, 5, 0);
    CHECK_EQ(st(0)->drop_spoof, 2);
    CHECK_EQ(vswitch_lookup(&sw, MC, 0), 0);
}

/* 802.1D 7.12.6: frames to 01-80-C2-00-00-00..0F (pause, STP, LLDP, 802.1X) are not relayed;
 * 01-80-C2-00-00-10 is an ordinary group address. */
TEST(vsw_reserved_groups_not_relayed)
{
    setup();
    static const uint8_t PAUSE[ETH_ALEN] = { 0x01, 0x80, 0xC2, 0x00, 0x00, 0x01 };
    static const uint8_t LLDP[ETH_ALEN] = { 0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E };
    static const uint8_t BRIDGES[ETH_ALEN] = { 0x01, 0x80, 0xC2, 0x00, 0x00, 0x10 };
    send(0, PAUSE, MA, 60, 1, 0);
    send(0, LLDP, MA, 60, 2, 0);
    CHECK_EQ(st(0)->drop_reserved, 2);
    for (int p = 1; p < NPORTS; p++)
        CHECK_EQ(nics[p].calls, 0);
    send(0, BRIDGES, MA, 60, 3, 0);
    for (int p = 1; p < NPORTS; p++)
        CHECK(got(p, 0, BRIDGES, MA, 60, 3));
    CHECK_EQ(st(0)->drop_reserved, 2);
}

static unsigned lost_calls[NPORTS];
static void on_lost(void *ctx) { lost_calls[((struct nic *)ctx)->id]++; }

/* A frame that finds the backlog full is reported to the port's NIC (the e1000 counts MPC). */
TEST(vsw_lost_frames_reported)
{
    setup();
    memset(lost_calls, 0, sizeof(lost_calls));
    vswitch_on_lost(&sw, 3, on_lost);
    vswitch_set_hold(&sw, 3, true);
    for (unsigned i = 0; i < VSWITCH_BACKLOG + 5; i++)
        send(0, BCAST, MA, 60, i, 0);
    CHECK_EQ(vswitch_backlog(&sw, 3), VSWITCH_BACKLOG);
    CHECK_EQ(st(3)->drop_backlog, 5);
    CHECK_EQ(lost_calls[3], 5);
    CHECK_EQ(lost_calls[1], 0);                 /* no callback set there */
    CHECK_EQ(vswitch_flush(&sw, 3), VSWITCH_BACKLOG);
}
