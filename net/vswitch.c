/* The learning bridge. See vswitch.h. */
#include "compiler.h"
#include "lib.h"
#include "dev/nic.h"
#include "net/vswitch.h"

STATIC_ASSERT(VSWITCH_MAX_PORTS <= 127, "ports fit the table's int8_t");

void vswitch_init(struct vswitch *sw)
{
    memset(sw, 0, sizeof(*sw));
    sw->ageing_ns = VSWITCH_AGEING_NS;
    for (unsigned i = 0; i < VSWITCH_FDB_SIZE; i++)
        sw->fdb[i].port = VSWITCH_NO_PORT;
}

static bool port_ok(const struct vswitch *sw, int port)
{
    return port >= 0 && port < VSWITCH_MAX_PORTS && sw->port[port].used;
}

int vswitch_add_port(struct vswitch *sw, const char *name,
                     enum nic_rx_result (*deliver)(void *, const uint8_t *, size_t), void *ctx,
                     struct vswitch_frame *backlog)
{
    for (int i = 0; i < VSWITCH_MAX_PORTS; i++) {
        struct vswitch_port *p = &sw->port[i];
        if (p->used)
            continue;
        memset(p, 0, sizeof(*p));
        p->used = true;
        kstrlcpy(p->name, name, sizeof(p->name));
        p->deliver = deliver;
        p->ctx = ctx;
        p->backlog = backlog;
        return i;
    }
    return VSWITCH_NO_PORT;
}

void vswitch_remove_port(struct vswitch *sw, int port)
{
    if (!port_ok(sw, port))
        return;
    for (unsigned i = 0; i < VSWITCH_FDB_SIZE; i++)
        if (sw->fdb[i].port == port)
            sw->fdb[i].port = VSWITCH_NO_PORT;
    sw->port[port].used = false;
    sw->port[port].bl_len = 0;
}

void vswitch_lock_port(struct vswitch *sw, int port, const uint8_t mac[ETH_ALEN])
{
    if (!port_ok(sw, port))
        return;
    sw->port[port].locked = true;
    memcpy(sw->port[port].mac, mac, ETH_ALEN);
}

void vswitch_on_lost(struct vswitch *sw, int port, void (*lost)(void *ctx))
{
    if (port_ok(sw, port))
        sw->port[port].lost = lost;
}

void vswitch_set_hold(struct vswitch *sw, int port, bool hold)
{
    if (port_ok(sw, port))
        sw->port[port].hold = hold;
}

static bool fresh(const struct vswitch *sw, const struct vswitch_fdb_entry *e, uint64_t now_ns)
{
    /* A time before the entry's (a caller's clock stepped back) counts as just seen. */
    return e->port != VSWITCH_NO_PORT && (now_ns < e->seen_ns || now_ns - e->seen_ns <= sw->ageing_ns);
}

static struct vswitch_fdb_entry *find(struct vswitch *sw, const uint8_t *mac)
{
    for (unsigned i = 0; i < VSWITCH_FDB_SIZE; i++)
        if (sw->fdb[i].port != VSWITCH_NO_PORT && !memcmp(sw->fdb[i].mac, mac, ETH_ALEN))
            return &sw->fdb[i];
    return NULL;
}

int vswitch_lookup(const struct vswitch *sw, const uint8_t *mac, uint64_t now_ns)
{
    const struct vswitch_fdb_entry *e = find((struct vswitch *)sw, mac);
    return e && fresh(sw, e, now_ns) ? e->port : VSWITCH_NO_PORT;
}

/* The source address is at this port now (802.1D 7.8: the learning process). */
static void learn(struct vswitch *sw, const uint8_t *mac, int port, uint64_t now_ns)
{
    if (eth_is_multicast(mac))
        return;                             /* a group address is never a station's source */
    struct vswitch_fdb_entry *e = find(sw, mac);
    if (e) {
        if (e->port != port)
            sw->moved++;
    } else {
        /* A free entry, else an aged one, else the one heard from longest ago. */
        struct vswitch_fdb_entry *victim = &sw->fdb[0];
        for (unsigned i = 0; i < VSWITCH_FDB_SIZE; i++) {
            struct vswitch_fdb_entry *c = &sw->fdb[i];
            if (!fresh(sw, c, now_ns)) {
                victim = c;
                break;
            }
            if (c->seen_ns < victim->seen_ns)
                victim = c;
        }
        if (victim->port != VSWITCH_NO_PORT && fresh(sw, victim, now_ns))
            sw->evicted++;
        e = victim;
        memcpy(e->mac, mac, ETH_ALEN);
        sw->learned++;
    }
    e->port = (int8_t)port;
    e->seen_ns = now_ns;
}

static void count_delivery(struct vswitch_port *p, enum nic_rx_result r, size_t len)
{
    if (r == NIC_RX_OK) {
        p->st.out_frames++;
        p->st.out_bytes += len;
    } else if (r == NIC_RX_FILTERED) {
        p->st.filtered++;
    } else {
        p->st.drop_nic++;
    }
}

static void hold_frame(struct vswitch_port *p, const uint8_t *frame, size_t len)
{
    if (!p->backlog || p->bl_len == VSWITCH_BACKLOG) {
        p->st.drop_backlog++;
        if (p->lost)
            p->lost(p->ctx);
        return;
    }
    struct vswitch_frame *f = &p->backlog[(p->bl_head + p->bl_len) % VSWITCH_BACKLOG];
    f->len = (uint16_t)len;
    memcpy(f->data, frame, len);
    p->bl_len++;
    p->st.held++;
}

static void output(struct vswitch_port *p, const uint8_t *frame, size_t len)
{
    /* Behind held frames a new one waits its turn: a NIC sees frames in the order sent. */
    if (!p->hold && !p->bl_len) {
        enum nic_rx_result r = p->deliver(p->ctx, frame, len);
        if (r != NIC_RX_NO_BUFFER) {
            count_delivery(p, r, len);
            return;
        }
    }
    hold_frame(p, frame, len);
}

/* An address a locked port owns, coming in on another port (a station behind the uplink
 * claiming a VM's address): taking it would move the VM's entry and steal its traffic. */
static bool owned_elsewhere(const struct vswitch *sw, const uint8_t *src, int port)
{
    for (int i = 0; i < VSWITCH_MAX_PORTS; i++)
        if (i != port && sw->port[i].used && sw->port[i].locked && !memcmp(sw->port[i].mac, src, ETH_ALEN))
            return true;
    return false;
}

void vswitch_input(struct vswitch *sw, int port, const uint8_t *frame, size_t len, uint64_t now_ns)
{
    if (!port_ok(sw, port))
        return;
    struct vswitch_port *in = &sw->port[port];
    if (len < ETH_HLEN || len > ETH_FRAME_MAX) {
        in->st.drop_size++;
        return;
    }
    const uint8_t *dst = frame, *src = frame + ETH_ALEN;
    if (in->locked ? memcmp(src, in->mac, ETH_ALEN) != 0 : owned_elsewhere(sw, src, port)) {
        in->st.drop_spoof++;
        return;
    }
    /* 802.1D 7.12.6: 01-80-C2-00-00-00 to -0F are link-local, never relayed. */
    static const uint8_t reserved[5] = { 0x01, 0x80, 0xC2, 0x00, 0x00 };
    if (!memcmp(dst, reserved, sizeof(reserved)) && dst[5] <= 0x0F) {
        in->st.drop_reserved++;
        return;
    }
    in->st.in_frames++;
    in->st.in_bytes += len;
    learn(sw, src, port, now_ns);
    int to = eth_is_multicast(dst) ? VSWITCH_NO_PORT : vswitch_lookup(sw, dst, now_ns);
    if (to == port)
        return;                             /* 802.1D: never sent back out the port it came in */
    if (to != VSWITCH_NO_PORT) {
        output(&sw->port[to], frame, len);
        return;
    }
    in->st.flooded++;
    for (int i = 0; i < VSWITCH_MAX_PORTS; i++)
        if (i != port && sw->port[i].used)
            output(&sw->port[i], frame, len);
}

unsigned vswitch_flush(struct vswitch *sw, int port)
{
    if (!port_ok(sw, port))
        return 0;
    struct vswitch_port *p = &sw->port[port];
    unsigned n = 0;
    while (p->bl_len) {
        const struct vswitch_frame *f = &p->backlog[p->bl_head];
        enum nic_rx_result r = p->deliver(p->ctx, f->data, f->len);
        if (r == NIC_RX_NO_BUFFER)
            break;
        count_delivery(p, r, f->len);
        p->bl_head = (p->bl_head + 1) % VSWITCH_BACKLOG;
        p->bl_len--;
        n++;
    }
    return n;
}

unsigned vswitch_backlog(const struct vswitch *sw, int port)
{
    return port_ok(sw, port) ? sw->port[port].bl_len : 0;
}
