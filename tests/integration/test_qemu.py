"""Boots the real image in QEMU TCG (no VMX) through every boot path and drives the shell."""
import os, re
from harness import Guest, test, check, boot_to_prompt, halt, log_path, LOGDIR

NO_VMX = r"monovisor: VMX not available on this CPU"


def log(name):
    return log_path("qemu-" + name)     # also creates LOGDIR


@test("qemu")
def kernel_boot_and_shell():
    """QEMU -kernel (Multiboot1), two modules, the whole shell."""
    os.makedirs(LOGDIR, exist_ok=True)
    m1 = os.path.join(LOGDIR, "mod-a.bin")
    m2 = os.path.join(LOGDIR, "mod-b.bin")
    with open(m1, "wb") as f:
        f.write(b"A" * 5000)
    with open(m2, "wb") as f:
        f.write(b"B" * 123)
    with Guest("run-qemu", "--mode", "kernel", "--append", "console=com1 answer=42",
               "--initrd", f"{m1} name=first mem=64M", "--initrd", m2,
               timeout=60, log=log("kernel")) as g:
        boot_to_prompt(g, r"qemu \(Multiboot1\)", NO_VMX)
        check("command line: " in g.buf and "answer=42" in g.buf, "command line not shown", g)

        out = g.command("help")
        for cmd in ("help", "info", "mem", "modules", "reboot", "halt"):
            check(re.search(rf"^\s+{cmd}\b", out, re.M), f"help does not list '{cmd}':\n{out}")

        out = g.command("info")
        check(re.search(r"cpu: \S+ .*family 0x[0-9a-f]+ model", out), f"info lacks CPU line:\n{out}")
        m = re.search(r"tsc: (\d+) Hz", out)
        check(m and int(m.group(1)) > 100_000_000, f"TSC rate missing or absurd:\n{out}")
        check("VMX: not present" in out, f"info should report no VMX under TCG:\n{out}")

        out = g.command("mem")
        check(re.search(r"memory map \(Multiboot1, \d+ entries\)", out), f"mem lacks map:\n{out}")
        check(re.search(r"0000000000100000-\S+ +\d+ KiB  available", out), f"no RAM at 1 MiB:\n{out}")
        m = re.search(r"free pages: (\d+) \((\d+) MiB\) of (\d+) usable", out)
        check(m and 400 <= int(m.group(2)) <= 512, f"free pages wrong for 512 MiB:\n{out}")

        out = g.command("modules")
        check("2 modules" in out, f"expected 2 modules:\n{out}")
        check(re.search(r"0: 0x[0-9a-f]+-0x[0-9a-f]+ 5000 bytes .*name=first mem=64M", out),
              f"module 0 wrong:\n{out}")
        check(re.search(r"1: 0x[0-9a-f]+-0x[0-9a-f]+ 123 bytes", out), f"module 1 wrong:\n{out}")

        # The machine's own PCI functions, found through mechanism #1 (QEMU's i440FX board:
        # the 82441FX host bridge, the PIIX3 ISA bridge and IDE, and its default NIC, an e1000).
        check(re.search(r"^pci: \d+ functions on 1 buses$", g.buf, re.M), "no PCI summary at boot", g)
        out = g.command("pci")
        for rx in (r"^00:00\.0  8086:1237 060000 \S+  bridge ", r"^00:01\.0  8086:7000 060100 ",
                   r"^00:01\.1  8086:7010 0101\w\w ", r"^00:03\.0  8086:100e 020000 \S+  network .* 0:0x[0-9a-f]+ 1:0x[0-9a-f]+1\b"):
            check(re.search(rx, out, re.M), f"pci lacks /{rx}/:\n{out}")
        check(re.search(r"^\d+ functions on 1 buses; 0 not listed; 0 bridges not followed$", out, re.M), f"pci:\n{out}")
        check_uplink(g)
        check_idle_halts(g)
        out = g.command("frobnicate now")
        check("error: unknown command 'frobnicate'" in out, f"unknown command not refused:\n{out}")
        check(out.count("\n") <= 2, f"unknown command should give one line:\n{out}")

        out = g.command("hxx\x7f\x7felp")        # line editing: two DELs
        check("commands:" in out, f"backspace editing failed:\n{out}")
        out = g.command("")
        check(out.strip() == "", f"empty line should print nothing:\n{out}")

        g.send("reboot\r")
        g.expect(r"monovisor: rebooting the machine: the operator typed reboot")
        boot_to_prompt(g, r"qemu \(Multiboot1\)", NO_VMX)  # the machine really reset and booted again
        halt(g)


def check_uplink(g):
    """The VMM drives QEMU's e1000 (user-mode networking: 10.0.2.2 is its gateway) as its
    uplink, interrupt-driven through the PIIX3's PCI line and the 8259's slave: an ARP request
    from the VMM is answered, one for an address nobody has is not."""
    check(re.search(r"^uplink: e1000 82540EM at 00:03\.0, MAC 52:54:00:12:34:56, IRQ 11, link up, switch port 0$",
                    g.buf, re.M), "no uplink on QEMU's e1000", g)
    # (QEMU's e1000 takes frames in only once its link has come up again after the VMM's
    # reset, about a second: the first answer may wait that long, or need the second request.)
    out = g.command("uplink-arp 10.0.2.2 10.0.2.15", 10)
    m = re.search(r"^uplink-arp: 10\.0\.2\.2 is at 52:55:0a:00:02:02 \(\d+ us after request ([12])\)$", out, re.M)
    check(m, f"the gateway did not answer:\n{out}")
    requests = int(m.group(1))
    out = g.command("uplink-arp 10.0.2.3", 10)      # QEMU's DNS, asked by an RFC 5227 probe
    check(re.search(r"^uplink-arp: 10\.0\.2\.3 is at 52:55:0a:00:02:03 \(\d+ us after request 1\)$", out, re.M),
          f"the DNS address did not answer:\n{out}")
    out = g.command("uplink-arp 10.0.2.99 10.0.2.15", 10)
    check("uplink-arp: no answer from 10.0.2.99 to 3 requests, 1000 ms apart" in out,
          f"an absent host answered:\n{out}")
    for bad in ("uplink-arp 10.0.2", "uplink-arp 10.0.2.256", "uplink-arp"):
        out = g.command(bad, 10)
        check("usage: uplink-arp TARGET-IP [SOURCE-IP]" in out, f"'{bad}' not refused:\n{out}")
    out = g.command("net uplink", 10)
    m = re.search(r"host e1000 82540EM: link up, rx (\d+) frames \d+ bytes, rx errors 0, overruns 0, "
                  r"tx (\d+) frames .* interrupts (\d+)", out)
    check(m and int(m.group(1)) >= 2 and int(m.group(2)) == requests + 1 + 3 and int(m.group(3)) >= 2,
          f"the uplink's counters do not show {requests + 4} requests and interrupt-driven answers:\n{out}")
    m = re.search(r"frames for the VMM itself: (\d+)", out)
    check(m and int(m.group(1)) >= 2, f"the answers were not taken by the VMM:\n{out}")


def check_idle_halts(g):
    """With nothing to run the CPU halts, and typed input wakes it by the COM1 interrupt."""
    out = g.command("sched")
    m = re.search(r"idle: (\d+) ms, (\d+) halts \(timer: ([^)]+)\); wake-ups: (\d+) timer, (\d+) console", out)
    check(m, f"sched lacks the idle line:\n{out}")
    check(int(m.group(2)) > 0, f"the idle CPU never halted:\n{out}")
    check(int(m.group(5)) > 0, f"console input never raised the host COM1 interrupt:\n{out}")
    check(not m.group(3).startswith("none"), f"no host timer:\n{out}")


def simple_boot(mode, loader_rx, *extra, expect=None):
    with Guest("run-qemu", "--mode", mode, *extra, timeout=120, log=log(mode)) as g:
        boot_to_prompt(g, loader_rx, NO_VMX, timeout=110)
        if expect:
            check(re.search(expect, g.buf), f"boot did not print /{expect}/", g)
        out = g.command("info")
        check("VMX: not present" in out, f"info should report no VMX:\n{out}")
        check_idle_halts(g)
        halt(g)


@test("qemu")
def iso_cd_boot():
    simple_boot("cd", r"GRUB \S+ \(Multiboot2\)")


@test("qemu")
def iso_usb_stick_boot():
    """Also a machine without a network card: the VMM runs without an uplink and says so."""
    simple_boot("usb", r"GRUB \S+ \(Multiboot2\)", "--no-nic",
                expect=r"\nuplink: none \(no supported NIC: Intel 8254x copper\)\n")


@test("qemu")
def uefi_boot():
    with Guest("run-qemu", "--mode", "uefi", timeout=120, log=log("uefi")) as g:
        boot_to_prompt(g, r"GRUB \S+ \(Multiboot2\)", NO_VMX, timeout=110)
        out = g.command("mem")
        check("Multiboot2" in out and "available" in out, f"UEFI memory map missing:\n{out}")
        check_idle_halts(g)
        halt(g)


@test("qemu")
def pxe_boot():
    simple_boot("pxe", r"iPXE \S+ \(Multiboot1\)")


def crash(kind, *expect):
    with Guest("run-qemu", "--mode", "kernel", timeout=60, log=log(f"crash-{kind}")) as g:
        boot_to_prompt(g, r"qemu", NO_VMX)
        g.send(f"crash {kind}\r")
        start = g.expect(r"monovisor: PANIC: CPU exception in the VMM").start()
        g.expect(r"monovisor: system halted")
        rc = g.wait(30)
        dump = g.output_since(start)
        for rx in (*expect, r"RIP [0-9a-f]{16}  CS 0008", r"RSP [0-9a-f]{16}",
                   r"RAX [0-9a-f]{16} RBX", r"R15 [0-9a-f]{16}",
                   r"CR0 [0-9a-f]{16} CR2 [0-9a-f]{16} CR3", r"stack trace",
                   r"#0  0x[0-9a-f]+"):
            check(re.search(rx, dump), f"dump lacks /{rx}/:\n{dump}")
        check(rc == 1, f"a VMM panic must give verdict 1, got {rc}", g)


@test("qemu")
def vmm_fault_invalid_opcode_dumps():
    crash("ud", r"vector 6 \(#UD invalid opcode\)")


@test("qemu")
def vmm_fault_page_fault_dumps_cr2():
    crash("pf", r"vector 14 \(#PF page fault\), error code 0x0", r"CR2 00000dead0000000")


@test("qemu")
def vmm_stack_overflow_hits_guard_page():
    crash("stack", r"vector 8 \(#DF double fault\)",
          r"cause: VMM stack overflow \(hit the guard page below the boot stack\)")


@test("qemu")
def vmm_fault_bogus_msr_is_gp():
    crash("gp", r"vector 13 \(#GP general protection\), error code 0x0")
