"""Disks in the VMM, driven by Debian's unmodified drivers nested in Bochs: the PIIX3 IDE
function (ata_piix: bus-master DMA, an ATAPI CD on the secondary channel) and legacy
virtio-blk (virtio_pci + virtio_blk). The test material (an ext2 image of known files, an ISO)
comes from scripts/mklinux at test time; what the guest writes is read back after a VM
restart and from the VMM's own dump of the drive (scripts/mvdisk + debugfs)."""
import hashlib, os, re, subprocess, tempfile
from harness import Guest, test, check, halt, log_path, REPO
from test_linux import vm_lines, KERNEL, LINUX_DIR

INITRD_DISK = os.path.join(LINUX_DIR, "initramfs-disk.cpio.gz")
DISK = os.path.join(LINUX_DIR, "disk.img")
CD = os.path.join(LINUX_DIR, "cd.iso")
SUMS = os.path.join(LINUX_DIR, "disk.sha256")
MEM = "160M"


def sums():
    out = {}
    with open(SUMS) as f:
        for line in f:
            h, name = line.split()
            out[name] = h
    return out


def make_iso(name, vm, cmdline, opts, drives):
    """drives: [(file, "drive=... [media=...]")]"""
    for f in (KERNEL, INITRD_DISK, DISK, CD, SUMS):
        check(os.path.isfile(f), f"{f} missing: run scripts/mklinux (make check does)")
    iso = os.path.join(REPO, "build", name)
    mods = ["--module", f"{KERNEL} vm={vm} kind=linux mem={MEM} {opts} -- {cmdline}",
            "--module", f"{INITRD_DISK} attach={vm}"]
    for f, spec in drives:
        mods += ["--module", f"{f} attach={vm} {spec}"]
    subprocess.run([os.path.join(REPO, "scripts", "mkiso"), "-o", iso, *mods], check=True)
    return iso


def check_disk_phase(lines, vm, disk, token, previous):
    s = sums()
    check(f"MVLINUX: disk dev {disk} sectors={os.path.getsize(DISK) // 512}" in lines,
          f"{vm}: /dev/{disk} missing or of the wrong size")
    for name in ("big.bin", "tree.tar", "tree"):
        m = re.search(rf"MVLINUX: disk sha256 {name} (\w+)", lines)
        check(m and m.group(1) == s[name], f"{vm}: {name} read back wrong: {m and m.group(1)} != {s[name]}")
    check(f"MVLINUX: disk previous {previous}" in lines, f"{vm}: expected previous={previous}")
    check(f"MVLINUX: disk wrote {token} sha256 copy.bin {s['copy.bin']}" in lines, f"{vm}: the write failed")
    check("MVLINUX: disk done" in lines, f"{vm}: the disk phase did not end (umount)")
    m = re.search(r"MVLINUX: disk modules loaded elapsed_cs=(\d+)", lines)
    print(f"  {vm}: driver chain loaded and /dev/{disk} up in {int(m.group(1)) / 100:.2f} s of guest time",
          flush=True)


def check_dump(g, vm, drive, token):
    """The VMM's dump of what the guest wrote, laid over the original image, is an ext2 image
    in which debugfs finds the guest's files."""
    out = g.command(f"drive-dump {vm} {drive} written", 300)
    with tempfile.TemporaryDirectory() as d:
        log, img = os.path.join(d, "dump.log"), os.path.join(d, "after.img")
        with open(log, "w") as f:
            f.write(out)
        p = subprocess.run([os.path.join(REPO, "scripts", "mvdisk"), log, "--base", DISK, "-o", img],
                           capture_output=True, text=True)
        check(p.returncode == 0, f"mvdisk: {p.stdout}{p.stderr}")
        debugfs = "/sbin/debugfs" if os.path.exists("/sbin/debugfs") else "debugfs"
        cat = lambda path: subprocess.run([debugfs, "-R", f"cat {path}", img], capture_output=True).stdout
        check(cat("/written.txt") == (token + "\n").encode(), f"the dump's written.txt: {cat('/written.txt')!r}")
        check(hashlib.sha256(cat("/copy.bin")).hexdigest() == sums()["copy.bin"], "the dump's copy.bin differs")
        fsck = subprocess.run(["/sbin/e2fsck" if os.path.exists("/sbin/e2fsck") else "e2fsck", "-fn", img],
                              capture_output=True, text=True)
        check(fsck.returncode == 0, f"e2fsck of the dumped image:\n{fsck.stdout}{fsck.stderr}")
    print(f"  {vm}: dump of {drive}: {p.stdout.strip()}", flush=True)


@test("bochs")
def linux_ide_disk_and_cd_across_a_restart():
    """ata_piix finds the IDE disk (hda, bus-master DMA) and the ATAPI CD (hdc); Linux mounts the
    ext2 filesystem and reads files of known checksums, writes a file, and powers off; after
    `vm start` the same VM reads that file back. The CD's file reads back too, a module of
    garbage is just a disk without a filesystem, and the VMM's dump of the written sectors
    turns into an image that e2fsck finds clean, holding what the guest wrote."""
    garbage = os.path.join(REPO, "build", "garbage.img")
    with open(garbage, "wb") as f:
        f.write(hashlib.sha256(b"garbage").digest() * (1 << 15))        # 1 MiB
    iso = make_iso("linux-ide.iso", "lxide", "console=ttyS0 mvdisk=sda mvdisk_token=first mvcd=sr0", "",
                   [(DISK, "drive=hda"), (garbage, "drive=hdb"), (CD, "drive=hdc media=cdrom")])
    with Guest("run-bochs", "--iso", iso, timeout=900, log=log_path("linux-ide")) as g:
        g.expect(r"monovisor: vm lxide: drive hda is module \d+ \(24576 KiB\)", 120)
        g.expect(r"monovisor: vm lxide stopped: powered off \(ACPI S5\)", 600)
        lines = "\n".join(vm_lines(g.buf, "lxide"))
        check(re.search(r"ata1\.00: ATA-6: MONOVISOR HARDDISK", lines), "ata_piix did not identify hda")
        # PIIX3: multiword DMA mode 2 at most (ata_piix's piix_pata_mwdma), for the disk and the CD.
        check("MVLINUX: ata dev1.0 ata XFER_MW_DMA_2" in lines, "hda not in DMA mode (PIIX3: MWDMA2)")
        check("MVLINUX: ata dev2.0 atapi XFER_MW_DMA_2" in lines, "hdc not in DMA mode")
        check(re.search(r"ata2\.00: ATAPI: MONOVISOR DVD-ROM", lines), "no ATAPI drive on the secondary channel")
        check(re.search(r"sd 0:0:1:0: \[sdb\] 2048 512-byte logical blocks", lines), "the garbage disk is not sdb")
        check(re.search(r"sr 1:0:0:0: \[sr0\]", lines), "no sr0")
        check(f"MVLINUX: cd sha256 cd.bin {sums()['cd.bin']}" in lines, "the CD's file read back wrong")
        bad = [l for l in lines.splitlines() if re.search(r"ata\d.*(timeout|failed command|exception Emask|BMDMA stat)"
                                                        r"|I/O error|EXT4-fs error", l)]
        check(not bad, "the drivers complained:\n  " + "\n  ".join(bad))
        check_disk_phase(lines, "lxide", "sda", "first", "none")
        g.expect(r"monovisor: all autostart VMs have run", 60)
        start = len(g.buf)
        out = g.command("vm start lxide", 30)
        g.expect(r"monovisor: vm lxide stopped: powered off \(ACPI S5\)", 600)
        lines2 = "\n".join(vm_lines(g.output_since(start), "lxide"))
        check_disk_phase(lines2, "lxide", "sda", "first", "first")
        g.pos = len(g.buf)
        g.send("\r")
        out = g.command("drives lxide", 30)
        row = re.search(r"^lxide\s+hda\s+disk\s+24\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", out, re.M)
        check(row and int(row.group(2)) > 0 and int(row.group(5)) == 0, f"drives:\n{out}")
        check(re.search(r"^lxide\s+hdc\s+cdrom", out, re.M), f"drives lacks the CD:\n{out}")
        m = re.search(r"^lxide\s+ide0: (\d+) DMA transfers", out, re.M)
        check(m and int(m.group(1)) > 100, f"the primary channel moved no data by DMA:\n{out}")
        print("  " + "\n  ".join(out.strip().splitlines()), flush=True)
        check_dump(g, "lxide", "hda", "first")
        halt(g)


@test("bochs")
def linux_virtio_disk_synchronous_model():
    """virtio_pci (legacy, I/O BAR) and virtio_blk drive vda; the VM completes its requests
    inside the exits (diskio=sync, the seed's original model) and still reads and writes
    correctly; its interrupt comes through the _PRT's GSI."""
    iso = make_iso("linux-virtio.iso", "lxvd", "console=ttyS0 mvdisk=vda mvdisk_token=virtio", "diskio=sync",
                   [(DISK, "drive=vda")])
    with Guest("run-bochs", "--iso", iso, timeout=600, log=log_path("linux-virtio")) as g:
        g.expect(r"monovisor: vm lxvd stopped: powered off \(ACPI S5\)", 540)
        lines = "\n".join(vm_lines(g.buf, "lxvd"))
        check(re.search(r"virtio_blk virtio0: \[vda\] 49152 512-byte logical blocks", lines), "no vda")
        check_disk_phase(lines, "lxvd", "vda", "virtio", "none")
        g.expect(r"monovisor: all autostart VMs have run", 60)
        out = g.command("drives lxvd", 30)
        check(re.search(r"diskio=sync .*: 0 requests by the disk thread, [1-9]\d* inside exits", out),
              f"the sync model was not used:\n{out}")
        print("  " + "\n  ".join(out.strip().splitlines()), flush=True)
        check_dump(g, "lxvd", "vda", "virtio")
        halt(g)
