"""A synthetic serial log (`mvtrace --make-sample OUT.log`) to try the tool on without booting
anything: GRUB-style escapes, boot text, shell prompts, guest output, CRLF endings, and two
dumps (a short one, then a run of two VMs). Deterministic: the same file every time."""
import random

from . import fmt
from .dump import io_rec, make_dump, msr_rec, rec

TSC_HZ = 100_000_000
VMS = {0: ("cpuid", 16), 1: ("serial", 32)}


class _Clock:
    def __init__(self, rng, tsc):
        self.rng, self.tsc = rng, tsc

    def next(self, cost):
        """TSC of the next exit: the previous exit's cost plus some guest run time."""
        t = self.tsc
        self.tsc += cost + self.rng.randrange(2_000, 20_000)
        return t


def _cpuid_vm(rng, clock, n):
    out = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.7:
            c = rng.randrange(240, 420)
            out.append(rec(clock.next(c), 10, c))
        elif kind < 0.85:
            c = rng.randrange(700, 70_000)
            out.append(rec(clock.next(c), 0, c, fmt.EV_PF, qual=rng.randrange(1 << 32) & ~0xfff))
        elif kind < 0.93:
            c = rng.randrange(300, 900)
            out.append(rec(clock.next(c), 28, c, fmt.EV_CR, info=rng.choice((0, 3, 4)), flags=0))
        else:
            c = rng.randrange(400, 1_200)
            msr, rd = rng.choice(((0xc0000080, True), (0xc0000080, False), (0x277, False), (0x10, True)))
            out.append(msr_rec(clock.next(c), msr, c, rd))
    c = 900
    out.append(rec(clock.next(c), 12, c))                                   # HLT at the end
    return out


def _serial_vm(rng, clock, n):
    out = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.45:
            c = rng.randrange(1_500, 2_400)
            out.append(io_rec(clock.next(c), 0x3f8, c, vm=1))
        elif kind < 0.65:
            c = rng.randrange(300, 700)
            out.append(io_rec(clock.next(c), 0x3fd, c, True, vm=1))
        elif kind < 0.8:
            c = rng.randrange(350, 600)
            port = rng.choice((0x20, 0x21, 0xa0))
            out.append(io_rec(clock.next(c), port, c, vm=1))
        elif kind < 0.9:
            # RTC reads: mostly cheap, a tail through the 50K and 500K buckets.
            c = rng.choice((rng.randrange(400, 40_000), rng.randrange(60_000, 400_000),
                            rng.randrange(600_000, 2_000_000)))
            out.append(io_rec(clock.next(c), 0x71, c, True, vm=1))
        elif kind < 0.97:
            c = rng.randrange(300, 500)
            out.append(io_rec(clock.next(c), 0x80, c, vm=1))
        else:
            out.append(rec(clock.tsc, 0, 0, fmt.EV_INJECT, vm=1, info=32))    # timer IRQ injected
            c = rng.randrange(200, 400)
            out.append(rec(clock.next(c), 18, c, vm=1))                     # VMCALL
    c = 6_200_000                                   # the exit port: stopping a VM is dear
    out.append(io_rec(clock.next(c), 0xf4, c, vm=1))
    return out


def sample_log(seed=7):
    rng = random.Random(seed)
    clock = _Clock(rng, 40_000_000_000)
    warmup = _cpuid_vm(rng, clock, 8)
    clock.tsc += 300_000_000
    run = _cpuid_vm(rng, clock, 400) + _serial_vm(rng, clock, 900)
    lines = ["\x1b[H\x1b[J\x1b[1;1H  Booting `monovisor with guests'", "",
             "monovisor 0.1 (build 0123456789abcdef) starting", "loader: GRUB 2.06 (Multiboot2)",
             "trace: 65536-record buffer, 15 cycles per record (self-calibrated)",
             "monovisor: ready", "monovisor> trace start", "monovisor> vm start cpuid",
             "[cpuid] cpuid test: ok", "monovisor> trace dump"]
    lines += make_dump(warmup, tsc_hz=TSC_HZ, vms=VMS)
    lines += ["monovisor> vm start cpuid", "[cpuid] cpuid test: ok", "monovisor> vm start serial",
              "[serial] hello from the serial guest", "monovisor> trace stop"]
    dump = make_dump(run, tsc_hz=TSC_HZ, vms=VMS)
    # The prompt glued before the header, and guest output between data lines, as a shared
    # console can produce.
    dump[0] = "monovisor> " + dump[0]
    dump.insert(len(dump) // 2, "[serial] late output between dump lines")
    lines += dump + ["monovisor> halt", "monovisor: halted"]
    return "".join(l + "\r\n" for l in lines)


def write_sample(path):
    with open(path, "w", newline="") as f:
        f.write(sample_log())
