"""The test guests run as VMs inside monovisor inside Bochs (emulated VMX): every guest's
verdicts must match what it printed natively under QEMU, and the guests designed to misbehave
(halt forever, triple fault, touch memory outside the VM) must stop only their own VM."""
import os, re, subprocess
from harness import Guest, test, check, boot_to_prompt, halt, log_path, REPO, TestFailure

ISO = os.path.join(REPO, "build", "guests.iso")
# Guests that end through the exit port with all their TEST lines passing.
PASSING = ["cpuid", "portio", "paging", "longmode", "exceptions", "msr_tsc"]


def guest_lines(out, name):
    return [l[len(name) + 3:] for l in out.splitlines() if l.startswith(f"[{name}] ")]


def run_suite(cpu):
    if not os.path.exists(ISO):
        raise TestFailure(f"{ISO} missing: run `make guests-iso`")
    with Guest("run-bochs", "--iso", ISO, "--cpu", cpu, timeout=600,
               log=log_path(f"nested-{cpu}")) as g:
        g.expect(r"monovisor: VMX enabled", 120)
        g.expect(r"monovisor: all autostart VMs have run", 480)
        boot_to_prompt_seen = g.expect(r"monovisor> ", 60)
        # The timer guest runs alone, so its tick counts measure the timer path, not sharing.
        g.pos = boot_to_prompt_seen.start()
        idle_rx = r"idle: \d+ ms, (\d+) halts \(timer: ([^)]+)\); wake-ups: (\d+) timer"
        before = re.search(idle_rx, g.command("sched"))
        g.command("vm run pit_tick", 300)
        # pit_tick halts between its 1000 ticks: each one is a host timer wake-up (the vCPU
        # thread blocks until the guest PIT's next edge, the CPU halts meanwhile).
        after_out = g.command("sched")
        after = re.search(idle_rx, after_out)
        check(before and after, f"sched lacks the idle line:\n{after_out}")
        wakes = int(after.group(3)) - int(before.group(3))
        halts = int(after.group(1)) - int(before.group(1))
        check(wakes >= 900 and halts >= 900, f"a halting timer guest should make the host halt and "
              f"wake ~1000 times: {halts} halts, {wakes} timer wake-ups\n{after_out}")
        print(f"  host idle during pit_tick: {halts} halts, {wakes} timer wake-ups ({after.group(2)})", flush=True)
        g.command("vm run irq_devices", 300)
        g.command("vm run apic", 300)
        out = g.buf
        failures = []
        for name in PASSING + ["pit_tick", "irq_devices", "apic"]:
            lines = guest_lines(out, name)
            tests = [l for l in lines if l.startswith("TEST ")]
            # SKIP is a guest's own verdict on a feature this CPU model lacks (e.g. 1 GiB pages).
            bad = [l for l in tests if not re.search(r" (PASS|SKIP\b)", l)]
            summary = [l for l in lines if re.match(rf"SUMMARY {name}: \d+ passed, 0 failed", l)]
            stopped = re.search(rf"monovisor: vm {name} stopped: exited with code 0 \(port 0xf4\) "
                                rf"\(after (\d+) exits\)", out)
            if not tests or bad or not summary or not stopped:
                failures.append(f"{name}: {len(tests)} TEST lines, failing {bad}, summary {summary}, "
                                f"clean exit {bool(stopped)}")
            else:
                skipped = sum(" SKIP" in l for l in tests)
                print(f"  {name}: {len(tests) - skipped} tests passed"
                      f"{f', {skipped} skipped' if skipped else ''}, {stopped.group(1)} exits", flush=True)
        # The LAPIC is emulated whatever the CPU model: nothing in the apic guest may skip.
        apic_skips = [l for l in guest_lines(out, "apic") if l.startswith("TEST ") and " SKIP" in l]
        if apic_skips:
            failures.append(f"apic: skipped under monovisor: {apic_skips}")
        if not re.search(r"\[hlt_noirq\] TEST hlt_noirq WAITING", out) or \
           not re.search(r"monovisor: vm hlt_noirq halted: halted with interrupts disabled", out):
            failures.append("hlt_noirq: expected the VM to be stopped as halted with IF=0")
        if not re.search(r"\[triple_fault\] TEST triple_fault TRIGGERING", out) or \
           not re.search(r"monovisor: vm triple_fault failed: triple fault", out):
            failures.append("triple_fault: expected 'vm triple_fault failed: triple fault'")
        if not re.search(r"monovisor: vm outside_memory failed: access to guest-physical 0x[0-9a-f]+ "
                         r"\(linear 0x[0-9a-f]+\), outside the VM's \d+ MiB", out):
            failures.append("outside_memory: expected the VM stopped for touching memory outside it")
        if "[outside_memory] TEST outside_memory PASS" in out:
            failures.append("outside_memory: the guest ran on after touching foreign memory")
        # The VMM is alive and still answers, whatever the guests did.
        table = g.command("vms")
        for name in PASSING + ["pit_tick", "irq_devices", "apic"]:
            check(re.search(rf"^{name}\s+stopped\s+0\s+\d+", table, re.M), f"vms row for {name}:\n{table}")
        exits = g.command("exits cpuid")
        check(re.search(r"^CPUID\s+\d+\s+\d+", exits, re.M), f"no CPUID row in exit table:\n{exits}")
        check(re.search(r"^I/O instruction\s+\d+", exits, re.M), f"no I/O row in exit table:\n{exits}")
        print("  exit table of cpuid:\n" + "\n".join("    " + l for l in exits.strip().splitlines()), flush=True)
        for name in PASSING + ["pit_tick", "irq_devices"]:    # the per-guest tables, kept in the log for the record
            g.command(f"exits {name}")
            g.command(f"ports {name}")
        ports = g.command("ports portio")
        check(re.search(r"^0x022e in\s+none\s+\d+\s+[\d.]+%", ports, re.M), f"no row for unused port 0x22e:\n{ports}")
        check(re.search(r"^0x03f8 out com1\s+\d+", ports, re.M), f"no row for COM1:\n{ports}")
        print("  port table of portio:\n" + "\n".join("    " + l for l in ports.strip().splitlines()), flush=True)
        # The PIT and PIC in the VMM: the guest's Linux-style handler EOIs through port 0x20
        # and masks/unmasks through 0x21 once per tick; its counts were checked by the guest.
        ports = g.command("ports pit_tick")
        for rx in (r"^0x0020 out pic\s+\d+", r"^0x0021 out pic\s+\d+", r"^0x0061 in\s+port61\s+\d+",
                   r"^0x0043 out pit\s+\d+"):
            check(re.search(rx, ports, re.M), f"no /{rx}/ row in the pit_tick port table:\n{ports}")
        ticks = re.search(r"\[pit_tick\] PIT_TICK ticks=(\d+) in 1 s", out)
        print(f"  pit_tick: {ticks.group(1) if ticks else '?'} timer interrupts in one guest second", flush=True)
        check("[irq_devices] IRQ_DEVICES sent by THRE interrupts" in out,
              "the line sent by COM1 transmitter-empty interrupts did not reach the console")
        regs = g.command("regs triple_fault")
        check("RIP" in regs and "guest CR0" in regs, f"regs output:\n{regs}")
        halt(g)
        if failures:
            raise TestFailure("\n  ".join(failures))


@test("bochs")
def nested_guests_skylake():
    run_suite("corei7_skylake_x")


@test("bochs")
def nested_guests_lynnfield_no_unrestricted_guest():
    run_suite("corei5_lynnfield_750")


@test("bochs")
def bad_vm_configurations_are_refused_others_run():
    """Bad configurations, images that are not Multiboot kernels or bzImages, and a Linux kernel
    too large for its VM give a clear error and no VM; so do drive modules that are empty, not
    whole sectors, or a second drive at one position. The good VM beside them still runs."""
    junk = os.path.join(REPO, "build", "test-logs", "junk.bin")
    os.makedirs(os.path.dirname(junk), exist_ok=True)
    with open(junk, "wb") as f:
        f.write(bytes((i * 7 + 3) & 0xFF for i in range(20000)))     # no Multiboot header
    empty, odd = os.path.join(REPO, "build", "test-logs", "empty.img"), os.path.join(REPO, "build", "test-logs", "odd.img")
    open(empty, "wb").close()
    with open(odd, "wb") as f:
        f.write(b"\xee" * 1000)                      # not a whole 512-byte sector
    garbage = os.path.join(REPO, "build", "test-logs", "garbage20k.img")
    with open(garbage, "wb") as f:
        f.write(bytes((i * 13 + 5) & 0xFF for i in range(20480)))     # 40 sectors: a fine disk
    iso = os.path.join(REPO, "build", "badcfg.iso")
    cpuid = os.path.join(REPO, "build", "guests", "cpuid.elf")
    vmlinuz = os.path.join(REPO, "build", "linux", "vmlinuz")     # from scripts/mklinux
    subprocess.run([os.path.join(REPO, "scripts", "mkiso"), "-o", iso,
                    "--module", f"{junk} vm=junk mem=16M",
                    "--module", f"{cpuid} vm=bad/name",
                    "--module", f"{cpuid} vm=tiny mem=1M",
                    "--module", f"{cpuid} vm=huge mem=3G",
                    "--module", f"{cpuid} vm=good mem=16M",
                    "--module", f"{cpuid} vm=good mem=16M",
                    "--module", f"{junk} attach=nobody",
                    # kind=linux: not a bzImage; Debian's kernel in too small a VM
                    "--module", f"{cpuid} vm=notbz kind=linux mem=16M",
                    "--module", f"{vmlinuz} vm=lxsmall kind=linux mem=32M",
                    "--module", f"{empty} attach=good drive=hda",
                    "--module", f"{odd} attach=good drive=hdb",
                    "--module", f"{odd} attach=good drive=hdc media=cdrom",
                    "--module", f"{garbage} attach=good drive=vda",
                    "--module", f"{garbage} attach=good drive=vda",
                    "--module", f"{garbage} attach=good drive=vdb media=cdrom"], check=True)
    with Guest("run-bochs", "--iso", iso, timeout=300, log=log_path("nested-badcfg")) as g:
        g.expect(r"monovisor: all autostart VMs have run", 240)
        out = g.buf
        for rx in (r"vm junk not created: no Multiboot1 header in the first 8192 bytes: not a Multiboot kernel",
                   r"module 1: bad VM configuration: bad VM name 'bad/name'",
                   r"module 2: bad VM configuration: memory size 1M out of range",
                   r"vm huge not created: not enough host memory for 3072 MiB",
                   r"vm good not created: a VM named 'good' already exists",
                   r"module 6: cannot attach to vm 'nobody' \(no such VM\)",
                   r"vm notbz not created: no boot flag 0xAA55 at 0x1fe: not a Linux kernel image",
                   r"vm lxsmall not created: the kernel needs \d+ MiB of RAM to decompress, the VM has 32 MiB",
                   r"module 9: no drive hda for vm good: the module is empty: a drive needs at least one 512-byte sector",
                   r"module 10: no drive hdb for vm good: the module is 1000 bytes, not a multiple of the 512-byte disk sector",
                   r"module 11: no drive hdc for vm good: the module is 1000 bytes, not a multiple of the 2048-byte CD sector",
                   r"vm good: drive vda is module 12 \(20 KiB\)",
                   r"module 13: no drive vda for vm good: vm good already has a drive vda \(module 12\)",
                   r"module 14: bad VM configuration: a cdrom is an IDE drive \(hda-hdd\), not vdb",
                   r"\[good\] SUMMARY cpuid: 6 passed, 0 failed",
                   r"monovisor: vm good stopped: exited with code 0"):
            check(re.search(rx, out), f"expected /{rx}/ in the boot log", g)
        g.expect(r"monovisor> ")
        g.pos -= len("monovisor> ")
        table = g.command("vms")
        check(re.search(r"^good\s+stopped\s+0", table, re.M) and "junk" not in table,
              f"only the good VM should exist:\n{table}")
        halt(g)


@test("bochs")
def two_vms_share_the_cpu_fairly():
    """Two CPU-bound VMs at once (each counts work over 2 s of its own PIT time) get about the
    same work done, and each about half of what one VM alone gets; the shell answers meanwhile."""
    iso = os.path.join(REPO, "build", "share.iso")
    elf = os.path.join(REPO, "build", "guests", "cpu_share.elf")
    subprocess.run([os.path.join(REPO, "scripts", "mkiso"), "-o", iso,
                    "--module", f"{elf} vm=share1 mem=8M",
                    "--module", f"{elf} vm=share2 mem=8M",
                    "--module", f"{elf} vm=solo mem=8M autostart=no"], check=True)
    with Guest("run-bochs", "--iso", iso, timeout=300, log=log_path("nested-share")) as g:
        g.expect(r"monovisor: all autostart VMs have run", 240)
        g.command("vm start solo")
        threads = g.command("sched")             # the shell answers while a CPU-bound guest runs
        check(re.search(r"^vcpu0:solo\s+vcpu\s+(running|runnable|blocked)", threads, re.M),
              f"sched should list the running vCPU thread:\n{threads}", g)
        g.expect(r"monovisor: vm solo stopped", 240)
        out = g.buf
        # Both ran at once: each printed its first line before either finished.
        first_done = min(out.find("[share1] CPU_SHARE"), out.find("[share2] CPU_SHARE"))
        check(0 <= out.find("[share1] GUEST") < first_done and 0 <= out.find("[share2] GUEST") < first_done,
              "share1 and share2 did not run concurrently", g)
        work = {}
        for name in ("share1", "share2", "solo"):
            m = re.search(rf"\[{name}\] CPU_SHARE work=(\d+) ticks=(\d+)", out)
            check(m and re.search(rf"\[{name}\] SUMMARY cpu_share: 1 passed, 0 failed", out),
                  f"{name} did not finish its run", g)
            work[name] = int(m.group(1))
        ratio = work["share1"] / work["share2"]
        share = (work["share1"] + work["share2"]) / 2 / work["solo"]
        print(f"  work done in 2 s of guest time: share1 {work['share1']}, share2 {work['share2']}, "
              f"alone {work['solo']}: ratio {ratio:.3f}, each {share:.1%} of alone", flush=True)
        check(0.85 <= ratio <= 1.0 / 0.85, f"unequal shares: {work}", g)
        check(0.4 <= share <= 0.6, f"each VM should get about half the CPU: {work}", g)
        halt(g)
