/* The trace record and dump format: shared by the VMM (trace/trace.c) and the offline parser
 * (scripts/mvtrace). Changing anything here bumps TRACE_FORMAT_VERSION.
 *
 * Records (little-endian, 32 bytes each):
 *   off size field
 *     0    8 tsc      TSC of the event; for an exit record, the first instruction of the exit stub
 *     8    2 event    TRACE_EV_*
 *    10    1 vm       VM id (index in `vms`)
 *    11    1 vcpu     vCPU index in that VM
 *    12    2 reason   basic exit reason (exit records), else event-specific
 *    14    2 flags    TRACE_F_* (I/O direction and size, ...)
 *    16    4 info     port, MSR index, CR number, vector ... (by event)
 *    20    4 cost     cycles from the exit stub's first instruction to the next VM entry
 *                     (saturates at 0xFFFFFFFF); 0 for events that are not exits
 *    24    8 qual     the exit qualification (or event-specific data)
 *
 * Serial dump (`trace dump`), ASCII lines so it survives being mixed with other console output:
 *   MVTRACE BEGIN v=1 key=value ...            header: tsc_hz, cpu, vmx_rev, vmx (features:
 *                                              ept,vpid,ug,preempt), mmu, build, overhead,
 *                                              records, lost, vms=id:name:memMiB,...
 *                                              (parsers ignore keys they do not know)
 *   MVT <seq> <base64 payload> <crc32 hex>     seq counts lines from 0; payload is up to
 *                                              TRACE_DUMP_RECS_PER_LINE whole records; the CRC-32
 *                                              (IEEE 802.3, as zlib's crc32) is over the payload bytes
 *   MVTRACE END lines=<n> records=<n> lost=<n>
 * A parser must reject a dump with a bad CRC, a gap in seq, a record count that disagrees, or
 * no END line. Values in the header never contain spaces (cpu names use '_'). */
#ifndef MV_TRACE_FORMAT_H
#define MV_TRACE_FORMAT_H

#define TRACE_FORMAT_VERSION     1
#define TRACE_RECORD_SIZE        32
#define TRACE_DUMP_RECS_PER_LINE 3          /* 96 bytes -> 128 base64 characters */

/* Events; the class of an event (what `trace start CLASSES` selects) is in brackets. */
#define TRACE_EV_EXIT        1   /* [exit] a VM exit not covered by a more specific class */
#define TRACE_EV_IO          2   /* [io]   an I/O exit: info = port, flags = dir|size */
#define TRACE_EV_MSR         3   /* [msr]  RDMSR/WRMSR exit: info = MSR index, flags = dir */
#define TRACE_EV_CR          4   /* [cr]   CR access exit: info = CR number, flags = access type */
#define TRACE_EV_PF          5   /* [pf]   #PF exit (shadow MMU): qual = faulting address */
#define TRACE_EV_INJECT      6   /* [inject] event injected at entry: info = vector, reason = type */
#define TRACE_EV_SCHED       7   /* [sched] scheduler switch: info = next VM id */
#define TRACE_EV_DEVICE      8   /* [dev]  device event: reason = device id, info = event */
#define TRACE_EV_MMIO        9   /* [mmio] a trapped MMIO access emulated (a #PF exit under shadow
                                   paging): qual = the register's guest-physical address */
#define TRACE_EV_MAX         10

#define TRACE_F_IN           0x0001  /* I/O: IN/INS (else OUT/OUTS); MSR: RDMSR (else WRMSR) */
#define TRACE_F_STRING       0x0002  /* I/O: INS/OUTS */
#define TRACE_F_REP          0x0004  /* I/O: REP prefix */
#define TRACE_F_SIZE_SHIFT   4       /* I/O: access size in bytes (1, 2, 4) in bits 4..6 */
#define TRACE_F_SIZE_MASK    0x0070
#define TRACE_F_MMIO         0x0100  /* exception (#PF): a trapped MMIO instruction was emulated */

#endif
