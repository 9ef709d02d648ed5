/* The uplink: the machine's own NIC (arch/x86/e1000_host.c) as one more port of the VMs'
 * switch, so VMs reach the network the machine is on. Interrupt-driven: the NIC's PCI line
 * through the machine's 8259 only marks work and wakes the net thread, which moves received
 * frames into the switch and lets frames held for a full transmit ring go. Frames from the
 * VMs go out inside the exit that sent them (the port's delivery writes the NIC's ring). */
#ifndef MV_VM_UPLINK_H
#define MV_VM_UPLINK_H
#include "compiler.h"
#include "net/vswitch.h"

/* Finds and starts the NIC, attaches it to `sw`; prints one "uplink: ..." line either way.
 * wake() must make the net thread call vm_uplink_service soon (it is called from the NIC's
 * interrupt); now_ns() is the switch's clock. */
void vm_uplink_init(struct vswitch *sw, void (*wake)(void), uint64_t (*now_ns)(void));
/* Work is waiting (the interrupt came, or a poll is due at or before `now_tsc`). */
bool vm_uplink_pending(uint64_t now_tsc);
/* The host TSC of the next poll when the NIC has no usable interrupt line, else UINT64_MAX. */
uint64_t vm_uplink_next_poll(void);
/* Moves what arrived into the switch, frees sent buffers, retries held frames. True if more
 * arrived than one call moves (call again after the vCPUs had a turn). */
bool vm_uplink_service(void);
/* The `net` command's row for the uplink, and its driver counters. */
void vm_uplink_print(void);
#endif
