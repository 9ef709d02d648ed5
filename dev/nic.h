/* What every NIC model shares with the glue that connects it to a switch: Ethernet framing
 * limits and the result of handing a model a received frame. */
#ifndef MV_NIC_H
#define MV_NIC_H
#include "compiler.h"

#define ETH_ALEN            6
#define ETH_HLEN            14          /* destination, source, type */
#define ETH_TYPE_OFF        12
#define ETH_VLAN_HLEN       4           /* an 802.1Q tag after the source address */
#define ETH_DATA_MAX        1500        /* the standard MTU */
#define ETH_FRAME_MAX       (ETH_HLEN + ETH_VLAN_HLEN + ETH_DATA_MAX)   /* 1518, no FCS */
#define ETH_TYPE_IPV4       0x0800
#define ETH_TYPE_ARP        0x0806
#define ETH_TYPE_VLAN       0x8100
#define ETH_TYPE_IPV6       0x86DD

/* A received frame, as the model took it. */
enum nic_rx_result {
    NIC_RX_OK,                          /* in the guest's buffers, interrupt raised as configured */
    NIC_RX_FILTERED,                    /* the NIC's address filters rejected it (not a drop) */
    NIC_RX_NO_BUFFER,                   /* no free buffer now: the glue may hold it and retry */
    NIC_RX_DROPPED,                     /* lost (a buffer outside RAM, too long, ...): counted */
};

static inline bool eth_is_multicast(const uint8_t *mac) { return mac[0] & 1; }   /* incl. broadcast */
static inline bool eth_is_broadcast(const uint8_t *mac)
{
    return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xFF;
}
#endif
