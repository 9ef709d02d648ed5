"""An unmodified Debian kernel with a busybox initramfs as a monovisor guest, nested in Bochs
(shadow paging, every device in the VMM). The kernel and busybox come from Debian packages at
test time (scripts/mklinux, run by `make check`)."""
import os, re, subprocess
from harness import Guest, test, check, halt, log_path, REPO

LINUX_DIR = os.path.join(REPO, "build", "linux")
KERNEL = os.path.join(LINUX_DIR, "vmlinuz")
INITRD = os.path.join(LINUX_DIR, "initramfs.cpio.gz")
# Debian's generic kernel (scripts/mklinux --flavour generic): it has an MP-table parser.
GENERIC_KERNEL = os.path.join(REPO, "build", "linux-generic", "vmlinuz")
# Legacy PIC + PIT only (the first target of the Linux issue); the second VM below drops pci=off.
CMDLINE = ("console=ttyS0 acpi=off noapic nolapic nosmp pci=off i8042.noaux i8042.nokbd "
           "i8042.nopnp 8250.nr_uarts=1 io_delay=none")
# The kernel's defaults: ACPI, the LAPIC and the I/O APIC, found through the firmware tables.
CMDLINE_DEFAULT = "console=ttyS0"
MEM = "160M"
HZ = 250                # Debian's CONFIG_HZ
FOCUS_KEY = "\x1d"      # Ctrl-]


def make_iso(name, vms, kernel=KERNEL):
    """vms: [(vm name, kernel command line, extra vm options)]"""
    for f in (kernel, INITRD):
        check(os.path.isfile(f), f"{f} missing: run scripts/mklinux (make check does)")
    iso = os.path.join(REPO, "build", name)
    mods = []
    for vm, cmdline, opts in vms:
        mods += ["--module", f"{kernel} vm={vm} kind=linux mem={MEM} {opts} -- {cmdline}".replace("  ", " "),
                 "--module", f"{INITRD} attach={vm}"]
    subprocess.run([os.path.join(REPO, "scripts", "mkiso"), "-o", iso, *mods], check=True)
    return iso


def vm_lines(out, vm):
    return [l[len(vm) + 3:] for l in out.splitlines() if l.startswith(f"[{vm}] ")]


def check_workloads(out, vm, apic=False, shared=False, acpi=True):
    """The init's markers, the CPU workload's result, and the tick rate while the CPU is busy:
    IRQ 0 from the PIT through the 8259 (legacy), or the LAPIC timer (APIC mode).
    shared: the VM shares the CPU with another busy one (the two VMs of test_net.py)."""
    min_rate = 0.6 if shared and apic else 0.8
    lines = "\n".join(vm_lines(out, vm))
    for marker in ("MVLINUX: init started", "MVLINUX: done"):
        check(marker in lines, f"{vm}: no '{marker}'")
    check(re.search(r"Linux version \S+", lines), f"{vm}: no kernel banner")
    m = re.search(r"MVLINUX: cpu result=(\d+) expect=(\d+) elapsed_cs=(\d+) irq0=(\d+) loc=(\d+)", lines)
    check(m and m.group(1) == m.group(2), f"{vm}: CPU workload result wrong: {m and m.group(0)}")
    secs, ticks = int(m.group(3)) / 100, int(m.group(5) if apic else m.group(4))
    check(secs > 0.2, f"{vm}: CPU workload took {secs} s: too short to measure the tick")
    rate = ticks / secs
    tick = "the LAPIC timer (LOC)" if apic else "IRQ0"
    check(min_rate * HZ <= rate <= 1.2 * HZ, f"{vm}: {tick} at {rate:.0f}/s while busy, expected ~{HZ}")
    if apic:
        check("APIC: Switch to symmetric I/O mode setup" in lines, f"{vm}: not in symmetric I/O mode")
        check(re.search(r"^\s*0:\s+\d+\s+IO-APIC\s+2-edge\s+timer", lines, re.M),
              f"{vm}: /proc/interrupts lacks the PIT on I/O APIC pin 2")
        check(re.search(r"^\s*4:\s+[1-9]\d*\s+IO-APIC\s+4-edge\s+ttyS0", lines, re.M),
              f"{vm}: /proc/interrupts lacks COM1 on I/O APIC pin 4")
        check(re.search(r"^\s*LOC:\s+[1-9]\d*", lines, re.M), f"{vm}: no LAPIC timer interrupts")
        ce = re.search(r"MVLINUX: clockevent (\S+) clocksource (\S+)", lines)
        check(ce and ce.group(1) == "lapic-deadline" and (shared or ce.group(2) == "tsc"),
              f"{vm}: expected the LAPIC's TSC-deadline timer and the TSC: {ce and ce.group(0)}")
        if acpi:
            check(re.search(r"ACPI: PM-Timer IO Port: 0xb008", lines), f"{vm}: the FADT's PM timer was not found")
    else:
        check(re.search(r"^\s*0:\s+\d+\s+XT-PIC\s+timer", lines, re.M), f"{vm}: /proc/interrupts lacks the PIT")
    # The VMM's console splits guest lines at 160 characters (VM_CONSOLE_LINE), such as the
    # flags: join the pieces again.
    cpuinfo = lines.partition("MVLINUX: --- /proc/cpuinfo")[2].partition("MVLINUX: --- /proc/interrupts")[0]
    cpuinfo = re.sub(r"(?m)^(.{160})\n", r"\1", cpuinfo)
    check(re.search(r"^model name\s*:", cpuinfo, re.M) and re.search(r"\bhypervisor\b", cpuinfo),
          f"{vm}: /proc/cpuinfo lacks the model or the hypervisor flag")
    check(not re.search(r"\bvmx\b", cpuinfo), f"{vm}: the guest must not see VMX")
    # The TSC rate comes from CPUID leaf 0x15 (the VMM's measurement): no PIT calibration,
    # which a vCPU sharing the CPU could not do reliably.
    # (Linux names the TSC's rate only when it differs from the processor's.)
    tsc = re.search(r"tsc: Detected ([\d.]+) MHz TSC", lines) or re.search(r"tsc: Detected ([\d.]+) MHz processor", lines)
    check(tsc and "could not calculate TSC khz" not in lines, f"{vm}: no TSC rate: {tsc and tsc.group(0)}")
    boot = re.search(r"\[\s*([\d.]+)\] Run /init as init process", lines)
    watchdog = "Marking TSC unstable" in lines
    print(f"  {vm}: TSC {tsc.group(1)} MHz{' (later marked unstable by the clocksource watchdog)' if watchdog else ''}; "
          f"/init after {boot.group(1) if boot else '?'} s of guest time; cpu workload "
          f"{secs:.2f} s, {'LOC' if apic else 'IRQ0'} {rate:.0f}/s; {m.group(0)}", flush=True)


@test("bochs")
def linux_boots_nested_with_interactive_console():
    """Debian's kernel boots under shadow paging to the initramfs, runs the CPU and timer
    workloads, then a person types into its busybox shell through the focus switch; `reboot -f`
    resets it through the i8042 and the VMM says why it ended."""
    iso = make_iso("linux.iso", [("linux", CMDLINE + " mvinit=shell", "")])
    with Guest("run-bochs", "--iso", iso, timeout=600, log=log_path("linux")) as g:
        g.expect(r"MVLINUX: shell \(exit to power off\)", 500)
        g.send(FOCUS_KEY)
        g.expect(r"-- console: vm linux \(COM1\); Ctrl-\] switches --")
        g.expect(r"\[linux\] mvlinux# ", 60)    # the prompt shows although no newline follows
        g.send("echo $((6 * 7)) from the guest\r")
        g.expect(r"(?m)^\[linux\] 42 from the guest$", 60)
        # A reboot with acpi=off goes through the i8042's reset pulse: only this VM ends.
        g.send("reboot -f\r")
        g.expect(r"monovisor: vm linux stopped: reset by the guest \(keyboard controller pulse\)", 60)
        check_workloads(g.buf, "linux")
        check("PCI: System does not support PCI" in "\n".join(vm_lines(g.buf, "linux")), "pci=off did not take")
        g.expect(r"-- console: monovisor shell; Ctrl-\] switches --", 30)   # the VM ended: focus returns
        g.expect(r"monovisor: all autostart VMs have run", 30)     # then the watcher redraws the prompt
        out = g.command("exits linux", 60)
        check(re.search(r"^exception/NMI\s+\d+", out, re.M) and re.search(r"^I/O instruction\s+\d+", out, re.M),
              f"exit table of the Linux boot:\n{out}")
        print("  exit table of a Linux boot:\n" + "\n".join("    " + l for l in out.strip().splitlines()), flush=True)
        out = g.command("ports linux", 60)
        for rx in (r"^0x0020 out pic\s+\d+", r"^0x0021 out pic\s+\d+", r"^0x03f8 out com1\s+\d+",
                   r"^0x0043 out pit\s+\d+", r"^0x0071 in\s+rtc\s+\d+"):
            check(re.search(rx, out, re.M), f"no /{rx}/ row in the Linux port table:\n{out}")
        top = [l for l in out.splitlines() if re.match(r"^0x[0-9a-f]{4} ", l)]
        top.sort(key=lambda l: -int(l.split()[3]))
        print("  busiest ports:\n" + "\n".join("    " + l for l in top[:8]), flush=True)
        halt(g)


@test("bochs")
def linux_boots_with_defaults_apic_acpi():
    """The kernel's own defaults (console=ttyS0 and nothing else): ACPI finds the tables at
    0xE0000, the MADT's LAPIC and I/O APIC take over from the 8259 ("symmetric I/O mode"), the
    LAPIC's TSC-deadline timer is the clock event device, and `poweroff` ends the VM through
    ACPI S5 (PM1a_CNT SLP_TYP/SLP_EN)."""
    iso = make_iso("linux-apic.iso", [("lxapic", CMDLINE_DEFAULT, "")])
    with Guest("run-bochs", "--iso", iso, timeout=600, log=log_path("linux-apic")) as g:
        g.expect(r"monovisor: vm lxapic stopped: powered off \(ACPI S5\)", 540)
        out = g.buf
        check_workloads(out, "lxapic", apic=True)
        lines = "\n".join(vm_lines(out, "lxapic"))
        check("ACPI: Interpreter enabled" in lines and "ACPI: PM: (supports S0 S5)" in lines,
              "the DSDT was not loaded, or \\_S5 not found")
        check(re.search(r"pci 0000:00:00\.0: \[8086:1237\]", lines), "no host bridge on the ACPI PCI0 bus")
        bad = [l for l in lines.splitlines() if re.search(r"ACPI (Error|Warning)|ACPI BIOS (Error|Warning)|"
                                                        r"\[Firmware Bug\]|soft lockup", l)]
        check(not bad, "the kernel complained:\n  " + "\n  ".join(bad))
        out = g.command("exits lxapic", 60)
        print("  exit table of a Linux boot in APIC mode:\n" + "\n".join("    " + l for l in out.strip().splitlines()),
              flush=True)
        halt(g)


@test("bochs")
def linux_generic_finds_the_ioapic_in_the_mp_table():
    """Debian's generic kernel with ACPI off finds the I/O APIC through the Intel MP table in the
    BIOS area (MP spec 1.4: floating pointer, processor, buses, I/O APIC, interrupt entries),
    not the MADT, and runs in symmetric I/O mode on it: the PIT on pin 2 (the table's ISA IRQ0
    entry), COM1 on pin 4, the LAPIC timer ticking."""
    iso = make_iso("linux-mptable.iso", [("lxmp", "console=ttyS0 acpi=off", "")], kernel=GENERIC_KERNEL)
    with Guest("run-bochs", "--iso", iso, timeout=600, log=log_path("linux-mptable")) as g:
        # acpi=off: the kernel has no power-off method and halts (see scripts/mklinux).
        g.expect(r"monovisor: vm lxmp halted", 540)
        out = g.buf
        lines = "\n".join(vm_lines(out, "lxmp"))
        check("Intel MultiProcessor Specification v1.4" in lines, "the kernel did not find the MP table")
        check(re.search(r"MPTABLE: OEM ID: MONOVI", lines), "the MP configuration table header was not read")
        check(re.search(r"IOAPIC\[0\]: apic_id \d+, version 17, address 0xfec00000, GSI 0-23", lines),
              "no I/O APIC (82093AA, 24 pins) from the MP table")
        check(not re.search(r"ACPI: (RSDP|MADT|APIC)", lines), "ACPI tables used although acpi=off")
        check_workloads(out, "lxmp", apic=True, acpi=False)
        bad = [l for l in lines.splitlines() if re.search(r"MPTABLE.*(bad|error|checksum)|\[Firmware Bug\]|"
                                                        r"soft lockup|BIOS bug", l, re.I)]
        check(not bad, "the kernel complained:\n  " + "\n  ".join(bad))
        halt(g)
