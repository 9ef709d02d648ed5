"""The trace record format, mirrored from trace/trace_format.h (tests/py checks that the numbers
here still match that header, so a format change cannot silently skew the parser)."""
import collections, struct

FORMAT_VERSION = 1
RECORD_SIZE = 32
RECS_PER_LINE = 3

EV_EXIT, EV_IO, EV_MSR, EV_CR, EV_PF, EV_INJECT, EV_SCHED, EV_DEVICE, EV_MMIO = range(1, 10)
EV_MAX = 10
EVENT_NAMES = {EV_EXIT: "exit", EV_IO: "io", EV_MSR: "msr", EV_CR: "cr", EV_PF: "pf",
               EV_INJECT: "inject", EV_SCHED: "sched", EV_DEVICE: "dev", EV_MMIO: "mmio"}
# Events that stand for one VM exit, and so carry a cost. Injections, scheduler switches and
# device events are stamped points in time, not exits, and stay out of the exit tables.
EXIT_EVENTS = frozenset({EV_EXIT, EV_IO, EV_MSR, EV_CR, EV_PF, EV_MMIO})

F_IN = 0x0001
F_STRING = 0x0002
F_REP = 0x0004
F_SIZE_SHIFT = 4
F_SIZE_MASK = 0x0070

# tsc, event, vm, vcpu, reason, flags, info, cost, qual: little-endian, no padding.
RECORD = struct.Struct("<QHBBHHIIQ")
assert RECORD.size == RECORD_SIZE
Record = collections.namedtuple("Record", "tsc event vm vcpu reason flags info cost qual")


def unpack_records(payload):
    """bytes (a whole number of records) -> [Record]."""
    return [Record(*RECORD.unpack_from(payload, off)) for off in range(0, len(payload), RECORD_SIZE)]


def pack_record(r):
    return RECORD.pack(*r)


# Basic exit reasons, Intel SDM vol. 3D appendix C; names as arch/x86/vmx/exit.c prints them,
# extended with the reasons that table does not name yet.
EXIT_REASONS = {
    0: "exception/NMI", 1: "external interrupt", 2: "triple fault", 3: "INIT", 4: "SIPI",
    5: "I/O SMI", 6: "other SMI", 7: "interrupt window", 8: "NMI window", 9: "task switch",
    10: "CPUID", 11: "GETSEC", 12: "HLT", 13: "INVD", 14: "INVLPG", 15: "RDPMC", 16: "RDTSC",
    17: "RSM", 18: "VMCALL", 19: "VMCLEAR", 20: "VMLAUNCH", 21: "VMPTRLD", 22: "VMPTRST",
    23: "VMREAD", 24: "VMRESUME", 25: "VMWRITE", 26: "VMXOFF", 27: "VMXON", 28: "CR access",
    29: "DR access", 30: "I/O instruction", 31: "RDMSR", 32: "WRMSR", 33: "invalid guest state",
    34: "MSR loading", 36: "MWAIT", 37: "monitor trap flag", 39: "MONITOR", 40: "PAUSE",
    41: "machine check", 43: "TPR below threshold", 44: "APIC access", 45: "virtualized EOI",
    46: "GDTR/IDTR access", 47: "LDTR/TR access", 48: "EPT violation",
    49: "EPT misconfiguration", 50: "INVEPT", 51: "RDTSCP", 52: "preemption timer",
    53: "INVVPID", 54: "WBINVD", 55: "XSETBV", 56: "APIC write", 57: "RDRAND", 58: "INVPCID",
    59: "VMFUNC", 60: "ENCLS", 61: "RDSEED", 62: "PML full", 63: "XSAVES", 64: "XRSTORS",
    65: "PCONFIG", 66: "SPP event", 67: "UMWAIT", 68: "TPAUSE", 69: "LOADIWKEY", 70: "ENCLV",
    72: "ENQCMD PASID fail", 73: "ENQCMDS PASID fail", 74: "bus lock",
    75: "instruction timeout", 76: "SEAMCALL", 77: "TDCALL", 78: "RDMSRLIST", 79: "WRMSRLIST",
}
EXIT_REASON_IO = 30


def reason_name(r):
    return EXIT_REASONS.get(r, f"reason {r}")


# A few well-known PC ports and MSRs, to make tables readable; anything else is shown by number.
PORT_NAMES = {
    0x20: "PIC1 cmd", 0x21: "PIC1 data", 0x40: "PIT ch0", 0x42: "PIT ch2", 0x43: "PIT mode",
    0x60: "i8042 data", 0x61: "port B", 0x64: "i8042 cmd", 0x70: "RTC index", 0x71: "RTC data",
    0x80: "POST", 0xa0: "PIC2 cmd", 0xa1: "PIC2 data", 0xcf8: "PCI addr", 0xcfc: "PCI data",
    0xf4: "debug exit", 0x3f8: "COM1 data", 0x3f9: "COM1 IER", 0x3fa: "COM1 IIR",
    0x3fb: "COM1 LCR", 0x3fc: "COM1 MCR", 0x3fd: "COM1 LSR", 0x3fe: "COM1 MSR",
    0x2f8: "COM2 data", 0x2fd: "COM2 LSR", 0x510: "fw_cfg sel", 0x511: "fw_cfg data",
    # PIIX3 IDE, primary channel (the secondary at 0x170-0x177/0x376 alike) and the bus master
    # where the firmware puts BAR4 (0xc000): BMICR is the seed's "bus master command".
    0x1f0: "IDE data", 0x1f1: "IDE feat/err", 0x1f2: "IDE count", 0x1f3: "IDE lba lo",
    0x1f4: "IDE lba mid", 0x1f5: "IDE lba hi", 0x1f6: "IDE device", 0x1f7: "IDE cmd/stat",
    0x3f6: "IDE ctl/alt", 0x170: "IDE2 data", 0x177: "IDE2 cmd/stat", 0x376: "IDE2 ctl/alt",
    0xc000: "BM cmd (BMICR)", 0xc002: "BM status", 0xc004: "BM PRD table",
    0xc008: "BM2 cmd", 0xc00a: "BM2 status", 0xc00c: "BM2 PRD table",
}
MSR_NAMES = {
    0x10: "TSC", 0x1b: "APIC_BASE", 0xfe: "MTRRCAP", 0x174: "SYSENTER_CS",
    0x175: "SYSENTER_ESP", 0x176: "SYSENTER_EIP", 0x1a0: "MISC_ENABLE", 0x277: "PAT",
    0x2ff: "MTRR_DEF_TYPE", 0xc0000080: "EFER", 0xc0000081: "STAR", 0xc0000082: "LSTAR",
    0xc0000083: "CSTAR", 0xc0000084: "FMASK", 0xc0000100: "FS_BASE", 0xc0000101: "GS_BASE",
    0xc0000102: "KERNEL_GS_BASE", 0xc0000103: "TSC_AUX",
}


def port_name(p):
    return PORT_NAMES.get(p, "")


def msr_name(m):
    return MSR_NAMES.get(m, "")
