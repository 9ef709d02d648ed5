/* The VMM's virtual Ethernet switch: a learning bridge (IEEE 802.1D's forwarding process,
 * without spanning tree) whose ports are the VMs' NICs and, later, the machine's own NIC.
 * A frame a port sends in is forwarded to the port its destination address was last seen
 * on, or flooded to every other port when the destination is broadcast, multicast or not
 * known yet. Entries age out after VSWITCH_AGEING_NS, and a station that moves is relearned
 * on its new port at once. A port locked to its NIC's address (every VM port) sends only
 * from that address. Frames to the reserved group addresses 01-80-C2-00-00-00..0F (pause,
 * STP, LLDP, 802.1X) are never relayed (802.1D 7.12.6).
 *
 * Delivery is a call into the receiving port (its NIC model puts the frame in that guest's
 * ring and raises its interrupt), so a frame reaches the receiver inside the sender's exit.
 * A port that cannot take a frame now (no free buffer), or that is polled (hold), keeps it
 * in its backlog, in order, until vswitch_flush; a full backlog drops, counted. Everything is
 * counted per port, drops by reason. Pure C: time comes in as an argument. */
#ifndef MV_VSWITCH_H
#define MV_VSWITCH_H
#include "compiler.h"
#include "dev/nic.h"

#define VSWITCH_MAX_PORTS       32
#define VSWITCH_PORT_NAME       32
#define VSWITCH_FDB_SIZE        256
#define VSWITCH_AGEING_NS       (300ull * 1000000000ull)    /* 802.1D's default ageing time */
#define VSWITCH_BACKLOG         64          /* frames a port holds while its NIC has no buffer */
#define VSWITCH_NO_PORT         (-1)

struct vswitch_frame {
    uint16_t len;
    uint8_t data[ETH_FRAME_MAX];
};

struct vswitch_port_stats {
    uint64_t in_frames, in_bytes;           /* sent into the switch by this port */
    uint64_t out_frames, out_bytes;         /* delivered to this port */
    uint64_t filtered;                      /* the NIC's own filter refused it (not a drop) */
    uint64_t held;                          /* frames that waited in the backlog */
    uint64_t drop_backlog;                  /* backlog full */
    uint64_t drop_nic;                      /* the NIC lost it (a bad buffer, too long) */
    uint64_t drop_size;                     /* sent in shorter than a header or longer than a frame */
    uint64_t drop_spoof;                    /* sent in with a source address not the port's own */
    uint64_t drop_reserved;                 /* sent to an 802.1D reserved group address */
    uint64_t flooded;                       /* sent in and flooded (broadcast, multicast, unknown) */
};

struct vswitch_port {
    bool used;
    bool hold;                              /* polled: frames wait for vswitch_flush */
    bool locked;                            /* only `mac` may be a source on this port */
    uint8_t mac[ETH_ALEN];
    char name[VSWITCH_PORT_NAME];
    enum nic_rx_result (*deliver)(void *ctx, const uint8_t *frame, size_t len);
    void *ctx;
    void (*lost)(void *ctx);                /* a frame for it fell off a full backlog; may be NULL */
    struct vswitch_frame *backlog;          /* VSWITCH_BACKLOG frames, the caller's memory */
    unsigned bl_head, bl_len;
    struct vswitch_port_stats st;
};

struct vswitch_fdb_entry {
    uint8_t mac[ETH_ALEN];
    int8_t port;                            /* VSWITCH_NO_PORT: free */
    uint64_t seen_ns;
};

struct vswitch {
    struct vswitch_port port[VSWITCH_MAX_PORTS];
    struct vswitch_fdb_entry fdb[VSWITCH_FDB_SIZE];
    uint64_t ageing_ns;
    uint64_t learned, moved, evicted;       /* table entries made, stations that moved, entries pushed out */
};

void vswitch_init(struct vswitch *sw);
/* A new port; backlog is VSWITCH_BACKLOG frames of storage it keeps until removed. Returns
 * the port number, or VSWITCH_NO_PORT if every port is taken. */
int vswitch_add_port(struct vswitch *sw, const char *name,
                     enum nic_rx_result (*deliver)(void *, const uint8_t *, size_t), void *ctx,
                     struct vswitch_frame *backlog);
/* Frees the port: its held frames and the addresses learned on it are forgotten. */
void vswitch_remove_port(struct vswitch *sw, int port);
/* Port security: frames the port sends in with any other source address are dropped
 * (counted), so a guest can neither take another station's address nor fill the table; and a
 * locked port's address coming in on any other port (an unlocked one: the uplink) is dropped
 * there, so nothing outside can take a VM's place in the table. */
void vswitch_lock_port(struct vswitch *sw, int port, const uint8_t mac[ETH_ALEN]);
/* lost(ctx) when a frame for the port is dropped for want of backlog room, so its NIC can
 * report a missed packet as the hardware would. */
void vswitch_on_lost(struct vswitch *sw, int port, void (*lost)(void *ctx));
/* Polled (hold) or event-driven delivery to the port. Turning hold off does not flush. */
void vswitch_set_hold(struct vswitch *sw, int port, bool hold);
/* A frame (no FCS) the port's NIC sent, at time now_ns: learned, forwarded or flooded. */
void vswitch_input(struct vswitch *sw, int port, const uint8_t *frame, size_t len, uint64_t now_ns);
/* Delivers the port's held frames, in order, until its NIC has no buffer. Returns how many
 * left the backlog. */
unsigned vswitch_flush(struct vswitch *sw, int port);
unsigned vswitch_backlog(const struct vswitch *sw, int port);
/* The port a unicast address was last seen on at now_ns, VSWITCH_NO_PORT if none. */
int vswitch_lookup(const struct vswitch *sw, const uint8_t *mac, uint64_t now_ns);
#endif
