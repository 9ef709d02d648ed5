"""An unmodified Debian kernel with a busybox initramfs as a monovisor guest, nested in Bochs
(shadow paging, every device in the VMM). The kernel and busybox come from Debian packages at
test time (scripts/mklinux, run by `make check`)."""
import os, re, subprocess
from harness import Guest, test, check, halt, log_path, REPO

LINUX_DIR = os.path.join(REPO, "build", "linux")
KERNEL = os.path.join(LINUX_DIR, "vmlinuz")
INITRD = os.path.join(LINUX_DIR, "initramfs.cpio.gz")
# Legacy PIC + PIT only (the first target of the Linux issue); the second VM below drops pci=off.
CMDLINE = ("console=ttyS0 acpi=off noapic nolapic nosmp pci=off i8042.noaux i8042.nokbd "
           "i8042.nopnp 8250.nr_uarts=1 io_delay=none")
MEM = "160M"
HZ = 250                # Debian's CONFIG_HZ
FOCUS_KEY = "\x1d"      # Ctrl-]


def make_iso(name, vms):
    """vms: [(vm name, kernel command line, extra vm options)]"""
    for f in (KERNEL, INITRD):
        check(os.path.isfile(f), f"{f} missing: run scripts/mklinux (make check does)")
    iso = os.path.join(REPO, "build", name)
    mods = []
    for vm, cmdline, opts in vms:
        mods += ["--module", f"{KERNEL} vm={vm} kind=linux mem={MEM} {opts} -- {cmdline}".replace("  ", " "),
                 "--module", f"{INITRD} attach={vm}"]
    subprocess.run([os.path.join(REPO, "scripts", "mkiso"), "-o", iso, *mods], check=True)
    return iso


def vm_lines(out, vm):
    return [l[len(vm) + 3:] for l in out.splitlines() if l.startswith(f"[{vm}] ")]


def check_workloads(out, vm):
    """The init's markers, the CPU workload's result, and the tick rate while the CPU is busy."""
    lines = "\n".join(vm_lines(out, vm))
    for marker in ("MVLINUX: init started", "MVLINUX: done"):
        check(marker in lines, f"{vm}: no '{marker}'")
    check(re.search(r"Linux version \S+", lines), f"{vm}: no kernel banner")
    m = re.search(r"MVLINUX: cpu result=(\d+) expect=(\d+) elapsed_cs=(\d+) irq0=(\d+)", lines)
    check(m and m.group(1) == m.group(2), f"{vm}: CPU workload result wrong: {m and m.group(0)}")
    secs, ticks = int(m.group(3)) / 100, int(m.group(4))
    check(secs > 0.2, f"{vm}: CPU workload took {secs} s: too short to measure the tick")
    rate = ticks / secs
    check(0.8 * HZ <= rate <= 1.2 * HZ, f"{vm}: timer IRQ0 at {rate:.0f}/s while busy, expected ~{HZ}")
    check(re.search(r"^\s*0:\s+\d+\s+XT-PIC\s+timer", lines, re.M), f"{vm}: /proc/interrupts lacks the PIT")
    # (The console splits lines longer than 160 characters, such as the flags.)
    cpuinfo = lines.partition("MVLINUX: --- /proc/cpuinfo")[2].partition("MVLINUX: --- /proc/interrupts")[0]
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
          f"{secs:.2f} s, IRQ0 {rate:.0f}/s; {m.group(0)}", flush=True)


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
def two_linux_vms_at_once():
    """Two Linux VMs run concurrently, each in its own memory: one with pci=off, one probing the
    PCI host bridge. Both reach their markers and power off cleanly."""
    iso = make_iso("linux2.iso", [("lxa", CMDLINE, ""),
                                  ("lxb", CMDLINE.replace(" pci=off", ""), "")])
    with Guest("run-bochs", "--iso", iso, timeout=900, log=log_path("linux-two")) as g:
        g.expect(r"monovisor: all autostart VMs have run", 840)
        out = g.buf
        for vm in ("lxa", "lxb"):
            check(re.search(rf"monovisor: vm {vm} halted: halted with interrupts disabled", out),
                  f"{vm} did not power off cleanly")
            check_workloads(out, vm)
        lxb = "\n".join(vm_lines(out, "lxb"))
        check(re.search(r"PCI: Using configuration type 1", lxb) and re.search(r"pci 0000:00:00\.0: \[8086:1237\]", lxb),
              "lxb did not find the i440FX host bridge through configuration mechanism #1")
        check("PCI: System does not support PCI" in "\n".join(vm_lines(out, "lxa")), "lxa should have PCI off")
        halt(g)
