"""Network in the VMM, driven by Debian's unmodified drivers nested in Bochs: two Linux VMs on
the VMM's switch, each with four NICs (an e1000 moving frames in its exits, an e1000 polled
every 5 ms, a virtio-net in its exits, a virtio-net polled every 100 ms: the seed paper's
models side by side). The client pings the server on each NIC's subnet and sends it a file
with busybox nc; the server's checksum of what arrived must be the file's. Bochs' own e1000, on
its slirp backend, is the VMM's uplink: the client also fetches a file with busybox wget from an
HTTP server this test runs on the loopback, and sends one with busybox nc to a listener there
(slirp's 10.0.2.2; nothing leaves this machine).
Test material (net.bin in the initramfs) comes from scripts/mklinux at test time."""
import hashlib, os, re, subprocess
from harness import Guest, test, check, halt, log_path, REPO
from loopback import LoopbackHttp, LoopbackSink, GUEST_IP
from test_linux import vm_lines, check_workloads

LINUX_DIR = os.path.join(REPO, "build", "linux-generic")     # the cloud kernel has no e1000
KERNEL = os.path.join(LINUX_DIR, "vmlinuz")
INITRD_NET = os.path.join(LINUX_DIR, "initramfs-net.cpio.gz")
NET_BIN = os.path.join(LINUX_DIR, "net.bin")
MEM = "128M"
# NIC n of each VM, and what the client sends over it (KiB): the polled NICs move less, as
# they are slow by design (the seed's 30-290 KB/s).
NICS = [("e1000", "event", 1024), ("e1000", "poll5", 256), ("virtio", "event", 1024), ("virtio", "poll100", 64)]
DRIVER = {"e1000": "e1000", "virtio": "virtio_net"}


def nic_option(nics=NICS):
    return "nic=" + ",".join(f"{m}:{mode}" for m, mode, _ in nics)


def make_iso(name, vms):
    """vms: [(vm name, kernel command line, vm options)], in VM id order."""
    for f in (KERNEL, INITRD_NET, NET_BIN):
        check(os.path.isfile(f), f"{f} missing: run scripts/mklinux --flavour generic (make check does)")
    iso = os.path.join(REPO, "build", name)
    mods = []
    for vm, cmdline, opts in vms:
        mods += ["--module", f"{KERNEL} vm={vm} kind=linux mem={MEM} {opts} -- {cmdline}",
                 "--module", f"{INITRD_NET} attach={vm}"]
    subprocess.run([os.path.join(REPO, "scripts", "mkiso"), "-o", iso, *mods], check=True)
    return iso


def expected_sha(kb):
    with open(NET_BIN, "rb") as f:
        return hashlib.sha256(f.read()[:kb * 1024]).hexdigest()


# The machine's NIC: Bochs' 82540EM on slirp (its network 10.0.2.0/24, this machine's loopback
# is 10.0.2.2). The firmware puts it at 00:02.0 on IRQ 9 (run-bochs' default slots).
UPLINK_MAC = "52:54:00:12:34:57"
UPLINK_NIC = f"e1000: enabled=1, mac={UPLINK_MAC}, ethmod=slirp"
UPLINK_KB = 256


def net_cmdlines(nics=NICS):
    idx = ",".join(str(i) for i in range(len(nics)))
    kbs = ",".join(str(kb) for _, _, kb in nics)
    return (f"console=ttyS0 mvnet=client mvnet_peer=1 mvnet_nics={idx} mvnet_kb={kbs}",
            f"console=ttyS0 mvnet=server mvnet_nics={idx}")


def check_interfaces(lines, vm, vm_id, nics=NICS):
    for n, (model, _, _) in enumerate(nics):
        mac = f"02:4d:56:00:{vm_id:02x}:{n:02x}"
        m = re.search(rf"MVLINUX: net if (\w+) mac={mac} ip=192\.168\.{100 + n}\.{vm_id + 1} driver=(\w+) carrier=(\d)",
                      lines)
        check(m, f"{vm}: no interface with {mac}")
        check(m.group(2) == DRIVER[model], f"{vm}: NIC {n} is driven by {m.group(2)}, not {DRIVER[model]}")
        check(m.group(3) == "1", f"{vm}: NIC {n} ({m.group(1)}) has no carrier")


def check_transfers(client, server, nics=NICS):
    """Returns [(nic, KB/s)]."""
    rates = []
    for n, (model, mode, kb) in enumerate(nics):
        m = re.search(rf"MVLINUX: net ping nic={n} received=(\d+)", client)
        check(m and m.group(1) == "3", f"ping over NIC {n} ({model} {mode}): {m and m.group(1)} of 3 replies")
        m = re.search(rf"MVLINUX: net received nic={n} bytes=(\d+) sha256=(\w+)", server)
        check(m, f"the server received nothing over NIC {n}")
        check(int(m.group(1)) == kb * 1024 and m.group(2) == expected_sha(kb),
              f"NIC {n} ({model} {mode}): {m.group(1)} bytes arrived, sha256 {m.group(2)}, "
              f"not {kb * 1024} bytes {expected_sha(kb)}")
        m = re.search(rf"MVLINUX: net sent nic={n} bytes=(\d+) cs=(\d+)", client)
        check(m, f"the client did not finish sending over NIC {n}")
        rates.append((n, kb * 1024 / 1024 / max(int(m.group(2)), 1) * 100))
    return rates


def net_rows(out):
    """The `net` command's port rows: {(vm, nic): dict}."""
    rows = {}
    for m in re.finditer(r"^(\S+)\s+(\d)\s+(e1000|virtio)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)"
                         r"\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", out, re.M):
        keys = ("model", "mac", "mode", "port", "in", "in_bytes", "out", "out_bytes", "filt", "held", "drop", "bklog")
        rows[(m.group(1), int(m.group(2)))] = dict(zip(keys, m.groups()[2:]))
    return rows


@test("bochs")
def linux_vms_move_files_over_e1000_and_virtio_event_and_polled():
    """Two generic-kernel VMs, four NICs each on the switch: e1000 and virtio-net, each both
    event-driven and polled. Every ping is answered, every file arrives intact, the polled
    ports held frames for their polls while the event-driven ones delivered at once, and the
    switch learned every NIC's address. The two VMs also stand for any two Linux VMs at once:
    each in its own memory, both with the kernel's defaults (ACPI, APIC, PCI through ACPI's
    PCI0), both reach their markers and power off through ACPI."""
    client_cmd, server_cmd = net_cmdlines()
    data = hashlib.shake_256(b"monovisor uplink").digest(UPLINK_KB * 1024)
    with LoopbackHttp(data) as http, LoopbackSink() as sink:
        client_cmd += (f" mvnet_uplink_ip={GUEST_IP} mvnet_get={http.url}"
                       f" mvnet_put={sink.addr} mvnet_put_kb={UPLINK_KB}")
        iso = make_iso("linux-net.iso", [("lxc", client_cmd, nic_option()), ("lxs", server_cmd, nic_option())])
        with Guest("run-bochs", "--iso", iso, "--bochsrc-line", UPLINK_NIC, timeout=1200,
                   log=log_path("linux-net")) as g:
            run_net_vms(g, http, sink)


def run_net_vms(g, http, sink):
    g.expect(rf"\nuplink: e1000 82540EM at 00:02\.0, MAC {UPLINK_MAC}, IRQ 9, link up, switch port 0\n", 120)
    g.expect(r"monovisor: all autostart VMs have run", 1100)
    out = g.buf
    for vm in ("lxc", "lxs"):
        check(re.search(rf"monovisor: vm {vm} stopped: powered off \(ACPI S5\)", out), f"{vm} did not power off")
    client, server = "\n".join(vm_lines(out, "lxc")), "\n".join(vm_lines(out, "lxs"))
    check("MVLINUX: net done" in client and "MVLINUX: net done" in server, "the network phase did not end")
    # Sharing the CPU: a tickless kernel arms each LAPIC tick from the last one it handled.
    # While the other VM holds the CPU (5 ms turns, longer than the 4 ms tick) a due tick
    # waits, and the kernel then skips the periods that passed instead of replaying them:
    # fewer ticks per guest second than HZ, never more. Early in boot the PIT's ticks that
    # merged meanwhile leave jiffies behind the TSC, and the clocksource watchdog may mark
    # the TSC unstable, so the clocksource may be acpi_pm.
    for vm, lines in (("lxc", client), ("lxs", server)):
        check_workloads(out, vm, apic=True, shared=True)
        check(re.search(r"PCI: Using configuration type 1", lines) and
              re.search(r"pci 0000:00:00\.0: \[8086:1237\]", lines),
              f"{vm} did not find the i440FX host bridge through configuration mechanism #1")
    check_interfaces(client, "lxc", 0)
    check_interfaces(server, "lxs", 1)
    bad = [l for l in (client + "\n" + server).splitlines()
           if re.search(r"e1000.*(Hang|Reset adapter|EEPROM|PHY)|virtio_net.*(error|unexpected)|"
                        r"NETDEV WATCHDOG|insmod .* failed|nc: ", l)]
    check(not bad, "the drivers complained:\n  " + "\n  ".join(bad))
    rates = check_transfers(client, server)
    for n, rate in rates:
        model, mode, kb = NICS[n]
        print(f"  NIC {n} {model:6} {mode:7}: {kb:5} KiB at {rate:8.1f} KiB/s of guest time", flush=True)
    m = re.search(r"MVLINUX: net get rc=(\d+) bytes=(\d+) sha256=(\w+) cs=(\d+)", client)
    want = hashlib.sha256(http.data).hexdigest()
    check(m and m.group(1) == "0" and int(m.group(2)) == len(http.data) and m.group(3) == want,
          f"wget through the uplink: {m and m.group(0)}, not rc=0 bytes={len(http.data)} sha256={want}")
    reqs = http.requests()
    check(reqs == [("127.0.0.1", "200")], f"the loopback HTTP server saw {reqs}, not one GET from 127.0.0.1")
    print(f"  uplink wget: {UPLINK_KB} KiB at {UPLINK_KB * 100 / max(int(m.group(4)), 1):8.1f} KiB/s of guest time",
          flush=True)
    m = re.search(r"MVLINUX: net put rc=(\d+) bytes=(\d+) cs=(\d+)", client)
    check(m and m.group(1) == "0" and int(m.group(2)) == UPLINK_KB * 1024, f"nc out through the uplink: {m and m.group(0)}")
    check(sink.peer == "127.0.0.1" and sink.received == UPLINK_KB * 1024 and sink.sha256 == expected_sha(UPLINK_KB),
          f"the loopback listener got {sink.received} bytes from {sink.peer}, sha256 {sink.sha256}, "
          f"not {UPLINK_KB * 1024} bytes {expected_sha(UPLINK_KB)} from 127.0.0.1")
    print(f"  uplink nc:   {UPLINK_KB} KiB at {UPLINK_KB * 100 / max(int(m.group(3)), 1):8.1f} KiB/s of guest time",
          flush=True)
    table = g.command("net", 30)
    rows = net_rows(table)
    for vm in ("lxc", "lxs"):
        for n, (model, mode, _) in enumerate(NICS):
            r = rows.get((vm, n))
            check(r, f"`net` has no row for {vm} NIC {n}:\n{table}")
            check(r["mode"] == mode and r["port"] == "-", f"{vm} NIC {n}: {r}:\n{table}")
            check(int(r["in"]) > 0 and int(r["out"]) > 0 and r["drop"] == "0" or mode != "event",
                  f"{vm} NIC {n} ({model} {mode}) moved nothing or dropped frames: {r}")
            if mode.startswith("poll"):
                check(int(r["held"]) > 0, f"{vm} NIC {n} is polled but no frame waited for a poll: {r}")
    m = re.search(rf"^uplink\s+-\s+e1000\s+{UPLINK_MAC}\s+irq9\s+0\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", table, re.M)
    # in: from the machine's network into the switch (the fetched file, ACKs, slirp's replies);
    # out: what the VMs sent that way (the sent file, requests, ACKs, every flooded ARP)
    check(m and int(m.group(2)) >= len(http.data) and int(m.group(4)) >= UPLINK_KB * 1024,
          f"the uplink's port did not carry the fetch:\n{table}")
    check(re.search(r"host e1000 82540EM: link up, rx \d+ frames \d+ bytes, rx errors 0, overruns 0", table),
          f"the host e1000 lost frames:\n{table}")
    print("  " + "\n  ".join(table.strip().splitlines()), flush=True)
    halt(g)
