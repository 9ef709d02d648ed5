"""Boots every test guest (tests/guests/, built by `make guests`) natively under QEMU TCG,
without monovisor, to show that the guests test the x86 architecture and not a VMM's quirks.

A guest prints one line per sub-test, `TEST <name> PASS`, `TEST <name> FAIL: <reason>` or
`TEST <name> SKIP: <reason>` (a CPU feature that is absent, or a check QEMU TCG does not
implement), then `SUMMARY <guest>: N passed, M failed`, and exits through isa-debug-exit
(port 0xf4) with 0 or 1; QEMU then exits with status (code << 1) | 1. We let QEMU exit by
itself (runner verdict 3) instead of stopping it with --until at the summary, so that the
exit path is checked too: status 1 means the guest wrote 0.

Each guest gets 16 MiB of RAM (they need far less), like a small VM. Sub-tests that depend
on optional CPU features run once more with `-cpu max`, where those features exist.
"""
import os, re, struct, time
from harness import Guest, test, check, log_path, REPO

GUEST_DIR = os.path.join(REPO, "build", "guests")
MEM = "16"
VERDICT_RX = re.compile(r"^TEST (\S+) (PASS|FAIL|SKIP)(?:: (.*))?$", re.M)
EXIT_RX = re.compile(r"emulator exited on its own with status (-?\d+)")

# The sub-tests each guest prints, in order. SKIP is allowed only where listed.
CPUID = ["cpuid_vendor", "cpuid_max_leaf", "cpuid_leaf1", "cpuid_ext_range",
         "cpuid_hypervisor", "cpuid_vmx_bit"]
PORTIO = ["portio_in_unused", "portio_in_unaligned", "portio_out_unused", "portio_rep_outsb",
          "portio_rep_outsw", "portio_rep_ins_page_cross", "portio_rep_ins_paged_split",
          "portio_string_df", "portio_port80", "portio_fwcfg_signature", "portio_fwcfg_cpus"]
PAGING = ["paging32_alias", "paging32_invlpg", "paging32_cr3_switch", "paging32_accessed_dirty",
          "paging32_pf_not_present", "paging32_pf_fetch", "paging32_write_protect",
          "paging32_pse_4m", "paging_pae_4k", "paging_pae_2m", "paging_pae_nx",
          "paging_pae_reserved_bit"]
LONGMODE = ["lm_cpuid", "lm_64bit_image", "lm_active", "lm_alias_2m", "lm_alias_1g",
            "lm_alias_4k", "lm_accessed_dirty", "lm_invlpg", "lm_pf_not_present",
            "lm_pf_write_protect", "lm_gp_noncanonical"]
EXCEPTIONS = ["exc_de_div_zero", "exc_de_idiv_overflow", "exc_bp_int3", "exc_of_into",
              "exc_br_bound", "exc_ud_ud2", "exc_ud_resume_iret", "exc_gp_bad_selector",
              "exc_gp_null_ss", "exc_np_segment", "exc_gp_cr0_nw_without_cd",
              "exc_gp_cr4_reserved_bit", "exc_gp_bogus_msr", "exc_pf", "exc_resumed"]
MSR_TSC = ["tsc_monotonic", "tsc_rdtscp", "msr_tsc_aux", "msr_sysenter", "msr_pat",
           "msr_mtrr_def_type", "msr_apic_base", "msr_efer", "msr_bogus_rdmsr_gp",
           "msr_bogus_wrmsr_gp", "tsc_write"]

# Checks QEMU TCG (7.2) does not implement; the guests detect TCG and print SKIP there.
TCG_GAPS = {"portio_in_unaligned",          # misaligned wide IN of a free port gives 0
            "paging_pae_reserved_bit",      # #PF error code 0x8 instead of 0x9
            "exc_gp_cr0_nw_without_cd",     # no #GP
            "exc_gp_cr4_reserved_bit",      # SVM #VMEXIT(-1) loop instead of #GP
            "exc_gp_bogus_msr", "msr_bogus_rdmsr_gp", "msr_bogus_wrmsr_gp",  # no #GP
            "tsc_write",                    # WRMSR to IA32_TIME_STAMP_COUNTER ignored (msr_tsc, tsc_jump)
            "apic_software_disable"}        # LVT writes unmask while the APIC is software-disabled
QEMU64_LACKS = {"lm_alias_1g", "tsc_rdtscp", "msr_tsc_aux"}   # no pdpe1gb, no rdtscp
# TCG's LAPIC has neither TSC-deadline mode nor x2APIC, with any -cpu.
TCG_APIC_LACKS = {"apic_timer_tsc_deadline", "x2apic"}
APIC = ["apic_base_msr", "apic_version", "apic_software_disable", "apic_tpr_masking", "apic_nesting_eoi",
        "apic_timer_rate", "apic_timer_oneshot", "apic_timer_periodic", "apic_timer_masked_counts",
        "apic_timer_tsc_deadline", "ioapic_version", "ioapic_edge_pit", "ioapic_level_remote_irr",
        "apic_virtual_wire", "x2apic"]


def image(name):
    path = os.path.join(GUEST_DIR, name + ".elf")
    check(os.path.exists(path), f"{path} missing: run `make guests`")
    return path


def qemu_args(name, cpu=None, append=None, extra=()):
    args = ["--mode", "kernel", "--image", image(name), "--no-reboot", "--mem", MEM]
    args += (["--cpu", cpu] if cpu else []) + (["--append", append] if append else [])
    return args + list(extra)


def emulator_status(g):
    m = EXIT_RX.search(g.buf)
    return int(m.group(1)) if m else None


# Sub-tests that measure a device's rate against the PM timer. Under TCG the emulated devices
# run off the host's clock, and a host that keeps QEMU's thread off the CPU for more than a
# tick loses an edge (the 8259 latches one): seen once in a few runs on a busy two-core host.
# When these are all that failed, the guest runs once more; failing twice fails the test.
TCG_RATE_CHECKS = {"tsc_pit_irq_spinning", "tsc_pit_irq_halted", "tsc_rtc_periodic", "tsc_rtc_update_cycle",
                   "ioapic_edge_pit", "apic_virtual_wire", "apic_timer_rate", "apic_timer_periodic",
                   "apic_timer_masked_counts", "pit_tick_hlt", "pit_tick_busy", "rtc_periodic"}


def boot_guest(name, cpu, append, extra):
    tag = name + (f"-cpu-{cpu}" if cpu else "")
    with Guest("run-qemu", *qemu_args(name, cpu, append, extra), timeout=30,
               log=log_path("guest-" + tag)) as g:
        m = g.expect(rf"SUMMARY {name}: (\d+) passed, (\d+) failed", timeout=25)
        rc = g.wait(15)
    return g, m, rc


def run_guest(name, expected, may_skip=frozenset(), cpu=None, lines=(), append=None, extra=()):
    """Boots one guest to its end and checks every verdict, the summary and the exit."""
    g, m, rc = boot_guest(name, cpu, append, extra)
    failed = {n for n, v, _ in VERDICT_RX.findall(g.buf) if v == "FAIL"}
    if failed and failed <= TCG_RATE_CHECKS:
        print(f"  {name}: {', '.join(sorted(failed))} failed under TCG's host timing; running it again",
              flush=True)
        g, m, rc = boot_guest(name, cpu, append, extra)
    out = g.buf
    verdicts = VERDICT_RX.findall(out)
    fails = [f"{n}: {why}" for n, v, why in verdicts if v == "FAIL"]
    check(not fails, f"{name}: failed sub-tests:\n  " + "\n  ".join(fails), g)
    seen = [n for n, _, _ in verdicts]
    check(seen == expected, f"{name}: sub-tests {seen}, expected {expected}", g)
    for n, v, why in verdicts:
        check(v == "PASS" or n in may_skip, f"{name}: {n} skipped ({why}), must pass here", g)
    for n, v, why in verdicts:
        if v == "SKIP":
            print(f"  skipped {n}: {why}", flush=True)
    passed = sum(1 for _, v, _ in verdicts if v == "PASS")
    check((int(m.group(1)), int(m.group(2))) == (passed, 0),
          f"{name}: summary says {m.group(1)} passed, {m.group(2)} failed; "
          f"the lines say {passed} passed", g)
    for text in lines:
        check(re.search(rf"^{re.escape(text)}$", out, re.M), f"{name}: no line '{text}'", g)
    status = emulator_status(g)
    check(rc == 3 and status == 1,
          f"{name}: runner verdict {rc}, QEMU status {status}; expected 3 and 1 "
          f"(QEMU exited through isa-debug-exit with code 0)", g)


def skips(names, lacks=QEMU64_LACKS):
    return frozenset(n for n in names if n in TCG_GAPS or n in lacks)


@test("qemu")
def guest_cpuid():
    run_guest("cpuid", CPUID)


@test("qemu")
def guest_cpuid_cpu_max():
    run_guest("cpuid", CPUID, cpu="max")


@test("qemu")
def guest_portio():
    run_guest("portio", PORTIO, skips(PORTIO),
              lines=("OUTSB: text from rep outsb", "OUTSW: text from rep outsw",
                     "OUTSB DF=1: ok"))


@test("qemu")
def guest_paging():
    run_guest("paging", PAGING, skips(PAGING))


@test("qemu")
def guest_longmode():
    run_guest("longmode", LONGMODE, skips(LONGMODE))


@test("qemu")
def guest_longmode_cpu_max():
    run_guest("longmode", LONGMODE, skips(LONGMODE, lacks=()), cpu="max")


@test("qemu")
def guest_exceptions():
    run_guest("exceptions", EXCEPTIONS, skips(EXCEPTIONS))


@test("qemu")
def guest_msr_tsc():
    run_guest("msr_tsc", MSR_TSC, skips(MSR_TSC))


@test("qemu")
def guest_msr_tsc_cpu_max():
    run_guest("msr_tsc", MSR_TSC, skips(MSR_TSC, lacks=()), cpu="max")


@test("qemu")
def guest_pit_tick():
    run_guest("pit_tick", ["pit_calibrate", "pit_tick_hlt", "pit_tick_busy", "pic_mask", "pic_poll",
                           "pit_latch"])


@test("qemu")
def guest_irq_devices():
    run_guest("irq_devices", ["rtc_periodic", "uart_thre", "pic_level_withdrawn"])


@test("qemu")
def guest_apic():
    """LAPIC and I/O APIC (issue 11): QEMU's models show the guest checks the architecture."""
    run_guest("apic", APIC, skips(APIC, lacks=TCG_APIC_LACKS))


IDE = ["ide_pci_function", "ide_identify", "ide_pio_read", "ide_dma_read_irq",
       "ide_dma_write_readback", "ide_prd_longer_than_data", "ide_prd_outside_ram", "ide_srst"]
IDE_TCG_SKIPS = {"ide_prd_outside_ram"}     # QEMU drops DMA to unassigned memory without an error


def ide_disk_image(path):
    """The ide guest's 1 MiB disk: sector N holds N (u64 LE), then bytes (N * 31 + i) & 0xff."""
    with open(path, "wb") as f:
        for n in range(2048):
            f.write(struct.pack("<Q", n) + bytes((n * 31 + i) & 0xFF for i in range(8, 512)))
    return path


@test("qemu")
def guest_ide():
    """The PIIX3 IDE function (issue 12) on QEMU's own PIIX3: IDENTIFY and PIO, bus-master DMA
    with IRQ 14, a PRD table longer than the data, a PRD outside RAM, SRST. The disk image must
    come back unchanged (the guest restores what it wrote)."""
    img = ide_disk_image(os.path.join(REPO, "build", "ide-disk.img"))
    before = open(img, "rb").read()
    run_guest("ide", IDE, frozenset(IDE_TCG_SKIPS), extra=["--ide-disk", img])
    check(open(img, "rb").read() == before, "the ide guest left the disk changed")


NIC = ["nic_pci_functions", "e1000_eeprom", "e1000_phy", "e1000_to_virtio", "virtio_to_e1000", "e1000_irq",
       "e1000_bad_descriptors", "e1000_bad_rings", "virtio_bad_rings", "nic_register_storm"]


@test("qemu")
def guest_nic():
    """Two NICs on one QEMU hub (run-qemu --nic-hub: an 82540EM at 00:03.0, a legacy virtio-net
    at 00:08.0, the MACs monovisor gives VM 0's NICs): PCI functions, EEPROM, PHY, a frame each
    way, the e1000's interrupt, then descriptors, rings and a register storm aimed outside RAM,
    after which a reset and reprogramming must make both work again. No TCG gaps."""
    run_guest("nic", NIC, extra=["--nic-hub"])


@test("qemu")
def guest_tsc_jump():
    """Device time does not follow a TSC the guest moves (issue 18). TCG ignores the WRMSR,
    so natively this shows the devices' rates against the PM timer."""
    names = ["tsc_write", "tsc_pit_read_after_tsc_back", "tsc_pit_irq_spinning", "tsc_pit_irq_halted",
             "tsc_rtc_periodic", "tsc_rtc_update_cycle", "tsc_pmtimer_monotonic"]
    run_guest("tsc_jump", names, skips(names))


@test("qemu")
def guest_canary():
    run_guest("canary", ["canary"], append="seconds=2")


@test("qemu")
def guest_port_storm():
    run_guest("port_storm", ["port_storm"])


@test("qemu")
def guest_dev_fuzz():
    run_guest("dev_fuzz", ["dev_fuzz"])


@test("qemu")
def guest_dev_fuzz_apic_only():
    run_guest("dev_fuzz", ["dev_fuzz"], append="apic_only=1 ops=60000")


@test("qemu")
def guest_vga_scribble():
    run_guest("vga_scribble", ["vga_scribble"], append="frames=20")


@test("qemu")
def guest_outside_memory():
    run_guest("outside_memory", ["outside_memory"])


def cpu_seconds_of_child(ppid):
    """CPU time (user + system) of the emulator, the runner's child; None if not found."""
    tick = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == ppid and "qemu" in stat[stat.index("(") + 1:stat.rindex(")")]:
            return (int(fields[11]) + int(fields[12])) / tick
    return None


@test("qemu")
def guest_hlt_noirq():
    """CLI; HLT never ends natively. We wait for the marker, then watch for 2 s: QEMU must
    still run, the guest print nothing more, and QEMU use (almost) no CPU, i.e. the vCPU is
    halted rather than spinning. Then we stop QEMU."""
    with Guest("run-qemu", *qemu_args("hlt_noirq"), timeout=30,
               log=log_path("guest-hlt_noirq")) as g:
        g.expect(r"(?m)^TEST hlt_noirq WAITING$", timeout=20)
        start = g.pos
        time.sleep(0.3)                       # let the last output drain
        cpu0 = cpu_seconds_of_child(g.proc.pid)
        time.sleep(2.0)
        cpu1 = cpu_seconds_of_child(g.proc.pid)
        check(g.proc.poll() is None, "the runner ended while the guest should be halted", g)
        after = g.output_since(start)
        check(not re.search(r"TEST|SUMMARY|EXCEPTION", after),
              f"the guest printed after WAITING:\n{after}", g)
        check(cpu0 is not None and cpu1 is not None, "cannot find the QEMU process")
        busy = (cpu1 - cpu0) / 2.0
        print(f"  QEMU CPU use while halted: {busy:.0%}", flush=True)
        check(busy < 0.5, f"QEMU used {busy:.0%} CPU: the vCPU is not halted", g)


@test("qemu")
def guest_triple_fault():
    """An empty IDT and INT3: QEMU (-no-reboot) must exit by itself right after the marker,
    with status 0 (a shutdown, not isa-debug-exit), and its reset log must name a triple
    fault."""
    qlog = log_path("guest-triple_fault-qemu")
    if os.path.exists(qlog):
        os.unlink(qlog)
    # Guest(log=...) would append --log after our `--`, so pass --log ourselves.
    with Guest("run-qemu", *qemu_args("triple_fault"), "--log", log_path("guest-triple_fault"),
               "--", "-d", "cpu_reset", "-D", qlog, timeout=30) as g:
        start = g.expect(r"(?m)^TEST triple_fault TRIGGERING$", timeout=20).end()
        rc = g.wait(15)
        after = g.output_since(start)
    check(not re.search(r"TEST|SUMMARY|EXCEPTION", after),
          f"the guest printed after TRIGGERING:\n{after}", g)
    status = emulator_status(g)
    check(rc == 3 and status == 0,
          f"runner verdict {rc}, QEMU status {status}; expected 3 and 0 (shutdown)", g)
    with open(qlog, errors="replace") as f:
        check("Triple fault" in f.read(), f"QEMU's log {qlog} does not report a triple fault")
