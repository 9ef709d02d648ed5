"""scripts/mvdisk, the reader of `drive-dump`: it rebuilds images from both dump modes, and
refuses a dump that a serial line cut short or garbled. The dumps here are made the way
vm/vm_disks.c prints them. Run: python3 -m unittest discover -s tests/py"""
import base64, os, subprocess, sys, tempfile, unittest, zlib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MVDISK = os.path.join(REPO, "scripts", "mvdisk")
SECTOR = 512


def dump(img, mode="all", written=()):
    """What drive-dump prints for img (bytes)."""
    n = len(img) // SECTOR
    out = ["monovisor> drive-dump t hda " + ("written" if mode == "written" else ""),
           "MVDISK BEGIN vm=t drive=hda sectors=%d mode=%s" % (n, mode)]
    lines = dumped = crc = 0
    lba = 0
    while lba < n:
        s = img[lba * SECTOR:(lba + 1) * SECTOR]
        if mode == "written" and lba not in written:
            lba += 1
            continue
        if mode == "all" and s == bytes(SECTOR):
            k = 1
            while lba + k < n and img[(lba + k) * SECTOR:(lba + k + 1) * SECTOR] == bytes(SECTOR):
                k += 1
            out.append("MVZ %d %d" % (lba, k))
            lines += 1
            lba += k
            continue
        out.append("MVS %d %s %08x" % (lba, base64.b64encode(s).decode(), zlib.crc32(s)))
        crc = zlib.crc32(s, crc)
        lines += 1
        dumped += 1
        lba += 1
    out.append("MVDISK END lines=%d sectors=%d crc=%08x" % (lines, dumped, crc))
    return "\n".join(out) + "\nmonovisor> \n"


def run(text, *args):
    with tempfile.TemporaryDirectory() as d:
        log, out = os.path.join(d, "log"), os.path.join(d, "out.img")
        with open(log, "w") as f:
            f.write(text)
        p = subprocess.run([sys.executable, MVDISK, log, "-o", out, *args], capture_output=True, text=True)
        data = open(out, "rb").read() if os.path.exists(out) else None
        return p.returncode, p.stdout + p.stderr, data


class MvdiskCase(unittest.TestCase):
    def setUp(self):
        self.img = bytearray(64 * SECTOR)
        for lba in (0, 1, 7, 40, 63):
            self.img[lba * SECTOR:(lba + 1) * SECTOR] = bytes((lba + i) & 0xFF for i in range(SECTOR))
        self.img = bytes(self.img)

    def test_all_mode_round_trips(self):
        rc, msg, data = run("boot noise\n" + dump(self.img))
        self.assertEqual(rc, 0, msg)
        self.assertEqual(data, self.img)
        self.assertIn("5 dumped", msg)

    def test_written_mode_lays_over_the_base(self):
        new = bytearray(self.img)
        new[3 * SECTOR:4 * SECTOR] = b"\x5a" * SECTOR
        new[40 * SECTOR:41 * SECTOR] = bytes(SECTOR)      # a written sector may be zero
        with tempfile.NamedTemporaryFile() as base:
            base.write(self.img)
            base.flush()
            rc, msg, data = run(dump(bytes(new), "written", {3, 40}), "--base", base.name)
        self.assertEqual(rc, 0, msg)
        self.assertEqual(data, bytes(new))
        rc, msg, _ = run(dump(bytes(new), "written", {3}))
        self.assertEqual(rc, 1)
        self.assertIn("needs --base", msg)

    def test_damaged_dumps_are_refused(self):
        text = dump(self.img)
        cut = text[:text.index("MVDISK END")]
        rc, msg, data = run(cut)
        self.assertEqual((rc, data), (1, None))
        self.assertIn("cut short", msg)
        lines = text.split("\n")
        i = next(k for k, l in enumerate(lines) if l.startswith("MVS 7 "))
        f = lines[i].split()
        raw = bytearray(base64.b64decode(f[2]))
        raw[100] ^= 1                                   # one flipped bit, CRC left alone
        lines[i] = "MVS 7 %s %s" % (base64.b64encode(bytes(raw)).decode(), f[3])
        rc, msg, _ = run("\n".join(lines))
        self.assertEqual(rc, 1)
        self.assertIn("line %d" % (i + 1), msg)
        dropped = "\n".join(l for l in text.split("\n") if not l.startswith("MVS 40 "))
        rc, msg, _ = run(dropped)
        self.assertEqual(rc, 1)
        self.assertIn("damaged", msg)
        rc, msg, _ = run("nothing here\n")
        self.assertEqual(rc, 1)
        self.assertIn("no MVDISK BEGIN", msg)


if __name__ == "__main__":
    unittest.main()
