"""Boots the ISO in Bochs, whose CPU models emulate VMX: the capability report must match
what each model offers, and the shell must work there too."""
import re
from harness import Guest, test, check, boot_to_prompt, halt, log_path



def boot(g):
    m, = boot_to_prompt(g, r"GRUB \S+ \(Multiboot2\)", r"tsc: (\d+)\.\d+ MHz", timeout=120)
    check(90 <= int(m.group(1)) <= 110, f"Bochs TSC should be ~100 MHz (ips), got {m.group(0)}", g)


@test("bochs")
def skylake_vmx_report_and_shell():
    with Guest("run-bochs", "--cpu", "corei7_skylake_x", timeout=150,
               log=log_path("bochs-skylake")) as g:
        boot(g)
        check(re.search(r"VMX: revision 0x[0-9a-f]+, EPT yes, VPID yes, unrestricted guest yes, "
                        r"preemption timer yes", g.buf), "boot VMX summary wrong", g)
        out = g.command("info")
        check("GenuineIntel" in out, f"not an Intel CPU?\n{out}")
        check(re.search(r"IA32_FEATURE_CONTROL: 0x[0-9a-f]+ \(locked, VMX outside SMX enabled\)", out)
              or re.search(r"IA32_FEATURE_CONTROL: 0x[0-9a-f]+ \(unlocked", out),
              f"feature control not reported:\n{out}")
        check("VMX: present" in out, f"VMX not reported present:\n{out}")
        check(re.search(r"VMCS revision: 0x[0-9a-f]+, VMCS size \d+ bytes", out), f"no revision:\n{out}")
        for feat in ("EPT: yes", "VPID: yes", "unrestricted guest: yes", "preemption timer: yes"):
            check(feat in out, f"'{feat}' missing:\n{out}")
        out = g.command("help")
        check(re.search(r"^\s+mem\b", out, re.M), f"help incomplete:\n{out}")
        out = g.command("mem")
        m = re.search(r"free pages: (\d+) \((\d+) MiB\)", out)
        check(m and int(m.group(2)) >= 400, f"mem wrong:\n{out}")
        out = g.command("nonsense")
        check("error: unknown command 'nonsense'" in out, f"unknown command:\n{out}")
        g.send("reboot\r")
        g.expect(r"monovisor: rebooting the machine: the operator typed reboot")
        boot(g)
        halt(g)


@test("bochs")
def lynnfield_has_vmx_without_unrestricted_guest():
    with Guest("run-bochs", "--cpu", "corei5_lynnfield_750", timeout=150,
               log=log_path("bochs-lynnfield")) as g:
        boot(g)
        out = g.command("info")
        check("VMX: present" in out, f"VMX missing:\n{out}")
        check("unrestricted guest: no" in out, f"lynnfield must lack unrestricted guest:\n{out}")
        check(re.search(r"VMCS revision: 0x[0-9a-f]+", out), f"no revision:\n{out}")
        halt(g)
