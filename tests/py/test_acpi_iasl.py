"""The ACPI tables vm/acpi_tables.c builds, as ACPICA's own tool sees them: the unit test
tests/unit/test_acpi_tables.c writes them to build/unit/acpi/*.dat (4 vCPUs); here `iasl -d`
disassembles each with no error or warning, and recompiling the disassembly gives back the same
bytes (the DSDT's AML exactly, the data tables but for the compiler fields iasl puts its own
name in). The RSDP, which iasl does not take as a file, is checked by hand. Skipped when iasl
(Debian package acpica-tools) is not installed. Run: python3 -m unittest discover -s tests/py"""
import os, re, shutil, struct, subprocess, tempfile, unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ACPI_DIR = os.path.join(REPO, "build", "unit", "acpi")
UNIT_BIN = os.path.join(REPO, "build", "unit", "test_acpi_tables")
TABLES = ["dsdt", "facp", "apic", "facs", "rsdt", "xsdt"]
HDR_SIZE = 36                       # ACPI 6.0 5.2.6: the system description table header
HDR_CHECKSUM = 9
HDR_COMPILER = slice(28, 36)        # creator ID and revision: iasl writes its own
SUMMARY = re.compile(r"(\d+) Errors, (\d+) Warnings, (\d+) Remarks")


def iasl(*args, cwd):
    p = subprocess.run(["iasl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def problems(output):
    """iasl's error, warning and remark lines (its summary line aside)."""
    return [l for l in output.splitlines()
            if re.search(r"\b(Error|Warning|Remark)\b", l) and not SUMMARY.search(l)]


class IaslCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("iasl"):
            raise unittest.SkipTest("iasl not installed (Debian package acpica-tools): "
                                    "the ACPI tables are not disassembled")
        missing = [t for t in TABLES + ["rsdp"] if not os.path.exists(os.path.join(ACPI_DIR, t + ".dat"))]
        if missing and os.access(UNIT_BIN, os.X_OK):
            subprocess.run([UNIT_BIN], capture_output=True, timeout=300)   # it writes them
            missing = [t for t in missing if not os.path.exists(os.path.join(ACPI_DIR, t + ".dat"))]
        if missing:
            raise unittest.SkipTest(f"no {', '.join(missing)}.dat in {ACPI_DIR}: build and run "
                                    "build/unit/test_acpi_tables first")

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        for t in TABLES:
            shutil.copy(os.path.join(ACPI_DIR, t + ".dat"), self.tmp.name)

    def disassemble(self, table):
        rc, out = iasl("-d", table + ".dat", cwd=self.tmp.name)
        self.assertEqual(rc, 0, out)
        self.assertEqual(problems(out), [], out)
        with open(os.path.join(self.tmp.name, table + ".dsl")) as f:
            return f.read()

    def recompile(self, table):
        rc, out = iasl("-p", "re_" + table, table + ".dsl", cwd=self.tmp.name)
        self.assertEqual(rc, 0, out)
        m = SUMMARY.search(out)
        self.assertIsNotNone(m, out)
        self.assertEqual(m.groups(), ("0", "0", "0"), out)
        with open(os.path.join(self.tmp.name, "re_" + table + ".aml"), "rb") as f:
            return f.read()

    def original(self, table):
        with open(os.path.join(self.tmp.name, table + ".dat"), "rb") as f:
            return f.read()

    def test_every_table_disassembles_cleanly(self):
        for t in TABLES:
            with self.subTest(table=t):
                self.disassemble(t)

    def test_dsdt_round_trips_to_the_same_aml(self):
        dsl = self.disassemble("dsdt")
        for want in ('Name (_S5, Package (0x04)', 'Method (_PIC, 1', 'Device (PCI0)',
                     'EisaId ("PNP0A03")', 'Name (_PRT, Package (0x7C)', 'WordBusNumber',
                     'EisaId ("PNP0B00")', 'EisaId ("PNP0303")', 'EisaId ("PNP0501")',
                     '"ACPI0007"'):
            self.assertIn(want, dsl)
        self.assertEqual(self.recompile("dsdt")[HDR_SIZE:], self.original("dsdt")[HDR_SIZE:])

    def test_data_tables_round_trip(self):
        for t in TABLES[1:]:
            with self.subTest(table=t):
                self.disassemble(t)
                new, old = bytearray(self.recompile(t)), bytearray(self.original(t))
                self.assertEqual(len(new), len(old))
                if t != "facs":         # the FACS has no header of this kind
                    for b in (new, old):
                        b[HDR_CHECKSUM] = 0
                        b[HDR_COMPILER] = bytes(8)
                self.assertEqual(new, old)

    def test_fadt_fields_as_iasl_reads_them(self):
        dsl = self.disassemble("facp")
        for field, value in (("PM1A Event Block Address", "0000B000"),
                             ("PM1A Control Block Address", "0000B004"),
                             ("PM Timer Block Address", "0000B008"),
                             ("SCI Interrupt", "0009"), ("RTC Century Index", "32"),
                             ("Value to cause reset", "06"), ("Revision", "06")):
            self.assertRegex(dsl, rf"{re.escape(field)} : {value}\b")
        self.assertRegex(dsl, r"32-bit PM Timer \(V1\) : 0")
        self.assertRegex(dsl, r"Reset Register Supported \(V2\) : 1")

    def test_rsdp(self):
        with open(os.path.join(ACPI_DIR, "rsdp.dat"), "rb") as f:
            r = f.read()
        self.assertEqual(len(r), 36)
        self.assertEqual(r[:8], b"RSD PTR ")
        self.assertEqual(sum(r[:20]) & 0xFF, 0)
        self.assertEqual(sum(r) & 0xFF, 0)
        rev, rsdt, length, xsdt = struct.unpack_from("<BIIQ", r, 15)
        self.assertEqual((rev, length), (2, 36))
        for addr in (rsdt, xsdt):       # both in the BIOS area, past the RSDP's 36 bytes
            self.assertTrue(0xE0000 <= addr < 0x100000, hex(addr))
        self.assertNotEqual(rsdt, xsdt)


if __name__ == "__main__":
    unittest.main()
