"""Hostile guests, nested in Bochs, each beside the well-behaved canary VM (tests/guests/
canary.c): whatever the hostile VM does, the VMM and the canary carry on, the shell answers,
and what the VMM says about the hostile VM is checked."""
import os, re, subprocess, time
from harness import Guest, test, check, halt, log_path, REPO

GUESTS = os.path.join(REPO, "build", "guests")


def elf(name):
    path = os.path.join(GUESTS, name + ".elf")
    check(os.path.exists(path), f"{path} missing: run `make guests`")
    return path


def make_iso(name, *modules):
    iso = os.path.join(REPO, "build", name + ".iso")
    args = [os.path.join(REPO, "scripts", "mkiso"), "-o", iso]
    for m in modules:
        args += ["--module", m]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return iso


def guest_verdicts(out, vm, guest):
    """A guest's TEST lines must all pass and its VM exit with code 0 through port 0xf4."""
    lines = [l[len(vm) + 3:] for l in out.splitlines() if l.startswith(f"[{vm}] ")]
    tests = [l for l in lines if l.startswith("TEST ")]
    bad = [l for l in tests if not l.endswith(" PASS")]
    check(tests and not bad, f"{vm}: failing or skipped sub-tests {bad} of {len(tests)}")
    check(re.search(rf"^SUMMARY {guest}: {len(tests)} passed, 0 failed$", "\n".join(lines), re.M),
          f"{vm}: no clean summary")
    check(re.search(rf"monovisor: vm {vm} stopped: exited with code 0 \(port 0xf4\)", out),
          f"{vm}: did not exit with code 0")
    return lines


def canary_ok(out, vm="canary"):
    lines = guest_verdicts(out, vm, "canary")
    done = [l for l in lines if l.startswith("CANARY done")]
    check(done, f"{vm}: no CANARY done line")
    return done[0]


@test("bochs")
def tsc_moved_by_a_guest_leaves_device_time_alone():
    """Issue 18: a guest that writes its TSC back to 176, forward by 2^63 and back to 0 while
    its PIT (every mode), RTC (periodic interrupt, update cycle) and PM timer run. The VMM
    used to divide by zero in the PIT model; now device time is the platform's, the guest's
    devices keep their rates against the PM timer, and the canary beside it finishes."""
    iso = make_iso("hostile-tsc", f"{elf('canary')} vm=canary mem=16M -- seconds=8",
                   f"{elf('tsc_jump')} vm=tsc_jump mem=16M")
    with Guest("run-bochs", "--iso", iso, timeout=300, log=log_path("hostile-tsc")) as g:
        g.expect(r"monovisor: all autostart VMs have run", 240)
        out = g.buf
        check("PANIC" not in out and "FATAL" not in out, "the VMM stopped", g)
        lines = guest_verdicts(out, "tsc_jump", "tsc_jump")
        check("TEST tsc_write PASS" in lines, "the guest's TSC writes did not take effect", g)
        for l in lines:
            if l.startswith("TSC_JUMP"):
                print("  " + l, flush=True)
        print("  " + canary_ok(out), flush=True)
        table = g.command("vms")
        check(re.search(r"^tsc_jump\s+stopped\s+0", table, re.M), f"vms:\n{table}", g)
        halt(g)
