"""Tests of scripts/mvtrace (scripts/mvtrace_lib): dump extraction and checking, exact report
numbers, output formats, filters, corrupt dumps. Run: python3 -m unittest discover -s tests/py -v
(or tests/run-tests --py). Most tests call the CLI in-process; a few run the script itself."""
import base64, csv, io, json, os, re, subprocess, sys, tempfile, unittest
from unittest import mock

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MVTRACE = os.path.join(REPO, "scripts", "mvtrace")
sys.path.insert(0, os.path.join(REPO, "scripts"))
from mvtrace_lib import analysis, cli, dump, fmt  # noqa: E402
from mvtrace_lib.dump import io_rec, make_dump, msr_rec, rec  # noqa: E402

# ---- the known trace ------------------------------------------------------------------------
# 1 MHz TSC (one cycle = 1 us), records from T0 on. Costs are chosen so the exit cycles total
# 10,000,000 and the span (first exit to the end of the last) is 10,000,000 cycles = 10 s.
HZ = 1_000_000
T0 = 1_000_000_000
VMS = {0: ("alpha", 16), 1: ("beta", 32)}
RECS = [
    rec(T0 + 0, 10, 100), rec(T0 + 10_000, 10, 200), rec(T0 + 20_000, 10, 300),
    rec(T0 + 30_000, 10, 400),                                          # CPUID x4, vm 0
    io_rec(T0 + 40_000, 0x3f8, 1_000), io_rec(T0 + 50_000, 0x3f8, 3_000),
    msr_rec(T0 + 60_000, 0xc0000080, 500), msr_rec(T0 + 70_000, 0xc0000080, 700),
    msr_rec(T0 + 80_000, 0x277, 900, is_read=False),
    io_rec(T0 + 100_000, 0x71, 50_000, is_in=True, vm=1),               # exactly 50K
    io_rec(T0 + 200_000, 0x71, 499_999, is_in=True, vm=1),
    io_rec(T0 + 1_000_000, 0x71, 5_000_000, is_in=True, vm=1),          # exactly 5M
    rec(T0 + 5_500_000, 0, 0, fmt.EV_INJECT, vm=1, info=32),            # not an exit
    rec(T0 + 5_557_099, 12, 4_442_901, vm=1),                           # HLT, ends at T0+10M
]
N_EXITS = 13
TOTAL = 10_000_000


def known_dump(**kw):
    args = dict(tsc_hz=HZ, vms=VMS, overhead=150)
    args.update(kw)
    return make_dump(RECS, **args)


def crlf(lines):
    return "".join(l + "\r\n" for l in lines)


class CliCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, text, name="serial.log"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", newline="") as f:
            f.write(text)
        return path

    def run_cli(self, log_text, *args):
        """(exit status, stdout, stderr) of mvtrace ARGS LOG, run in-process."""
        path = self.write(log_text)
        out, err = io.StringIO(), io.StringIO()
        rc = cli.run([*args, path], out, err)
        return rc, out.getvalue(), err.getvalue()

    def json_reports(self, log_text, *args):
        rc, out, err = self.run_cli(log_text, "--format", "json", *args)
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    def rows(self, log_text, report, *args):
        return self.json_reports(log_text, "--report", report, *args)["reports"][report]


# ---- reports: exact numbers ----------------------------------------------------------------

class Percentile(unittest.TestCase):
    def test_nearest_rank(self):
        p = analysis.percentile
        self.assertEqual(p([1, 2, 3, 4], 50), 2)
        self.assertEqual(p(list(range(1, 21)), 95), 19)
        self.assertEqual(p(list(range(1, 21)), 5), 1)
        self.assertEqual(p([7], 5), 7)
        self.assertEqual(p([1, 2, 3], 100), 3)
        self.assertEqual(p([1, 2, 3], 0), 1)
        self.assertIsNone(p([], 50))


class Reports(CliCase):
    def test_reasons_exact(self):
        rows = self.rows(crlf(known_dump()), "reasons")
        self.assertEqual([r["reason"] for r in rows], [10, 12, 30, 31, 32])
        by = {r["reason"]: r for r in rows}
        cpuid = by[10]
        self.assertEqual((cpuid["name"], cpuid["count"], cpuid["cycles"]), ("CPUID", 4, 1000))
        self.assertAlmostEqual(cpuid["count_pct"], 100 * 4 / 13)
        self.assertAlmostEqual(cpuid["cycles_pct"], 0.01)
        self.assertEqual((cpuid["avg"], cpuid["min"], cpuid["max"]), (250, 100, 400))
        self.assertEqual((cpuid["p5"], cpuid["p50"], cpuid["p95"]), (100, 200, 400))
        io_ = by[30]
        self.assertEqual((io_["name"], io_["count"], io_["cycles"]), ("I/O instruction", 5, 5_553_999))
        self.assertAlmostEqual(io_["cycles_pct"], 55.53999)
        self.assertEqual((io_["p5"], io_["p50"], io_["p95"]), (1_000, 50_000, 5_000_000))
        self.assertAlmostEqual(io_["avg"], 5_553_999 / 5)
        rd = by[31]
        self.assertEqual((rd["name"], rd["count"], rd["p50"], rd["p95"], rd["avg"]), ("RDMSR", 2, 500, 700, 600))
        self.assertEqual((by[12]["name"], by[12]["count"], by[12]["p5"]), ("HLT", 1, 4_442_901))
        self.assertEqual(sum(r["count"] for r in rows), N_EXITS)
        self.assertAlmostEqual(sum(r["cycles_pct"] for r in rows), 100.0)

    def test_reasons_text_row(self):
        rc, out, err = self.run_cli(crlf(known_dump()), "--report", "reasons")
        self.assertEqual(rc, 0, err)
        self.assertIn("== exit reasons ==", out)
        row = next(l for l in out.splitlines() if "CPUID" in l).split()
        self.assertEqual(row, ["10", "CPUID", "4", "30.77", "1000", "0.01", "250.0", "100", "400",
                               "100", "200", "400"])
        header = next(l for l in out.splitlines() if l.lstrip().startswith("reason")).split()
        self.assertEqual(header, ["reason", "name", "count", "count%", "cycles", "cycles%", "avg",
                                  "min", "max", "p5", "p50", "p95"])

    def test_ports_exact(self):
        rows = self.rows(crlf(known_dump()), "ports")
        self.assertEqual([(r["port"], r["dir"]) for r in rows], [(0x71, "in"), (0x3f8, "out")])
        rtc, com1 = rows
        self.assertEqual((rtc["count"], rtc["cycles"], rtc["name"]), (3, 5_549_999, "RTC data"))
        self.assertAlmostEqual(rtc["access_pct"], 60.0)
        self.assertAlmostEqual(rtc["time_pct"], 55.49999)
        self.assertAlmostEqual(rtc["avg"], 5_549_999 / 3)
        self.assertAlmostEqual(rtc["per_s"], 0.3)      # 3 accesses over the 10 s span
        self.assertEqual((com1["count"], com1["cycles"], com1["avg"]), (2, 4_000, 2_000))
        self.assertAlmostEqual(com1["access_pct"], 40.0)
        self.assertAlmostEqual(com1["time_pct"], 0.04)
        self.assertAlmostEqual(com1["per_s"], 0.2)

    def test_buckets_default_bounds(self):
        rows = self.rows(crlf(known_dump()), "buckets")
        rtc, com1 = rows
        # Lower bounds are inclusive: 50,000 is in 50K-500K and 5,000,000 in >=5M.
        self.assertEqual([rtc[k] for k in ("<50K", "50K-500K", "500K-5M", ">=5M")], [0, 2, 0, 1])
        self.assertEqual([com1[k] for k in ("<50K", "50K-500K", "500K-5M", ">=5M")], [2, 0, 0, 0])

    def test_buckets_custom_bounds_text(self):
        rc, out, err = self.run_cli(crlf(known_dump()), "--report", "buckets", "--buckets", "1000,100000")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[1].split(), ["port", "dir", "name", "count", "<1K", "1K-100K", ">=100K"])
        self.assertEqual(lines[2].split(), ["0x71", "in", "RTC", "data", "3", "0", "1", "2"])
        self.assertEqual(lines[3].split(), ["0x3f8", "out", "COM1", "data", "2", "0", "2", "0"])

    def test_msrs(self):
        rows = self.rows(crlf(known_dump()), "msrs")
        self.assertEqual([(r["msr"], r["dir"], r["name"], r["count"], r["avg"]) for r in rows],
                         [(0x277, "wr", "PAT", 1, 900), (0xc0000080, "rd", "EFER", 2, 600)])

    def test_mmio(self):
        """Trapped MMIO exits grouped by the register's guest-physical address (qual)."""
        recs = [rec(T0, 0, 1_000, fmt.EV_MMIO, qual=0xc0000008), rec(T0 + 10_000, 0, 3_000, fmt.EV_MMIO, qual=0xc0000008),
                rec(T0 + 20_000, 0, 500, fmt.EV_MMIO, qual=0xc0003818), rec(T0 + 30_000, 10, 500)]
        rows = self.rows(crlf(make_dump(recs, tsc_hz=HZ, vms=VMS)), "mmio")
        self.assertEqual([(r["addr"], r["count"], r["cycles"], r["avg"]) for r in rows],
                         [(0xc0000008, 2, 4_000, 2_000), (0xc0003818, 1, 500, 500)])
        self.assertAlmostEqual(rows[0]["access_pct"], 200 / 3)
        self.assertEqual(self.rows(crlf(known_dump()), "mmio"), [])

    def test_summary(self):
        s = self.json_reports(crlf(known_dump()), "--report", "summary")["reports"]["summary"]
        self.assertEqual((s["records"], s["exits"], s["other_events"], s["lost"], s["dropped"]),
                         (14, N_EXITS, 1, 0, 0))
        self.assertEqual((s["tsc_hz"], s["overhead"], s["span_cycles"], s["exit_cycles"]), (HZ, 150, TOTAL, TOTAL))
        self.assertAlmostEqual(s["span_ms"], 10_000.0)
        self.assertAlmostEqual(s["exits_per_s"], 1.3)
        self.assertEqual((s["first_tsc"], s["cpu"], s["vmx_rev"]), (T0, "sample_cpu", "0x2b"))
        self.assertEqual(s["vms"], "0:alpha (16 MiB), 1:beta (32 MiB)")

    def test_timeline(self):
        t = self.json_reports(crlf(known_dump()), "--report", "timeline", "--slice-ms", "1000")
        rows = t["reports"]["timeline"]
        self.assertEqual([r["exits"] for r in rows], [11, 1, 0, 0, 0, 1])
        self.assertEqual([r["start_ms"] for r in rows], [0, 1000, 2000, 3000, 4000, 5000])
        self.assertEqual(rows[0]["CPUID"], 4)
        self.assertEqual(rows[5]["HLT"], 1)
        # Columns: reasons by total count, most frequent first, ties by reason number.
        self.assertEqual(list(rows[0])[3:], ["I/O instruction", "CPUID", "RDMSR", "HLT", "WRMSR"])

    def test_timeline_auto_slice(self):
        rc, out, err = self.run_cli(crlf(known_dump()), "--report", "timeline")
        self.assertEqual(rc, 0, err)
        self.assertIn("== exits per 500 ms slice ==", out)     # 10 s / 20 -> 500 ms

    def test_overhead_subtract(self):
        doc = self.json_reports(crlf(known_dump()), "--report", "reasons", "--overhead-subtract")
        self.assertEqual(doc["overhead_subtracted"], 150)
        self.assertIn("minus", doc["costs"])
        cpuid = doc["reports"]["reasons"][0]
        # 100,200,300,400 minus 150, floor 0 -> 0,50,150,250.
        self.assertEqual((cpuid["cycles"], cpuid["min"], cpuid["max"], cpuid["avg"]), (450, 0, 250, 112.5))
        rc, out, _ = self.run_cli(crlf(known_dump()), "--overhead-subtract")
        self.assertTrue(out.startswith("NOTE: costs minus the header's tracing overhead of 150 cycles/record"))
        rc, out, _ = self.run_cli(crlf(known_dump()), "--overhead-subtract", "--format", "csv", "--report", "ports")
        self.assertTrue(out.startswith("# costs minus"))
        rc, out, _ = self.run_cli(crlf(known_dump()), "--report", "reasons")
        self.assertIn("costs as recorded", out)


class Formats(CliCase):
    def test_csv_single_report_is_plain_csv(self):
        rc, out, err = self.run_cli(crlf(known_dump()), "--format", "csv", "--report", "ports")
        self.assertEqual(rc, 0, err)
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(rows[0], ["port", "dir", "name", "count", "access%", "cycles", "time%", "avg", "per_s"])
        self.assertEqual(rows[1], ["0x71", "in", "RTC data", "3", "60.0000", "5549999", "55.5000",
                                   "1849999.667", "0.300"])
        self.assertEqual(len(rows), 3)

    def test_csv_several_reports_are_blocks(self):
        rc, out, err = self.run_cli(crlf(known_dump()), "--format", "csv", "--report", "summary,reasons,buckets")
        self.assertEqual(rc, 0, err)
        blocks = out.split("\n\n")
        self.assertEqual([b.splitlines()[0] for b in blocks], ["# summary", "# reasons", "# buckets"])
        reasons = list(csv.reader(io.StringIO(blocks[1])))
        self.assertEqual(reasons[1], ["reason", "name", "count", "count%", "cycles", "cycles%", "avg",
                                      "min", "max", "p5", "p50", "p95"])
        self.assertEqual(len(reasons), 2 + 5)
        summary = dict(csv.reader(io.StringIO(blocks[0].split("\n", 1)[1])))
        self.assertEqual((summary["key"], summary["records"], summary["exits"]), ("value", "14", "13"))

    def test_json_structure(self):
        doc = self.json_reports(crlf(known_dump()), "--report", "summary,reasons,ports,buckets,msrs,timeline")
        self.assertEqual(set(doc), {"dump", "costs", "overhead_subtracted", "reports"})
        self.assertEqual(list(doc["reports"]), ["summary", "reasons", "ports", "buckets", "msrs", "timeline"])
        self.assertIsInstance(doc["reports"]["summary"], dict)
        self.assertEqual(set(doc["reports"]["ports"][0]),
                         {"port", "dir", "name", "count", "access_pct", "cycles", "time_pct", "avg", "per_s"})
        self.assertEqual(doc["dump"], 1)
        self.assertEqual(doc["overhead_subtracted"], 0)

    def test_empty_selection(self):
        rc, out, err = self.run_cli(crlf(known_dump()), "--from", str(T0 + 20_000_000), "--report",
                                    "summary,reasons,ports,timeline")
        self.assertEqual(rc, 0, err)
        self.assertIn("(no records)", out)
        self.assertRegex(out, r"exits_per_s\s+-")
        doc = self.json_reports(crlf(known_dump()), "--from", str(T0 + 20_000_000), "--report", "summary")
        self.assertIsNone(doc["reports"]["summary"]["exits_per_s"])

    def test_empty_dump(self):
        rc, out, err = self.run_cli(crlf(make_dump([], tsc_hz=HZ)), "--report", "summary,reasons")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"records\s+0")


# ---- filters -------------------------------------------------------------------------------

class Filters(CliCase):
    def exits(self, *args):
        return self.json_reports(crlf(known_dump()), "--report", "summary", *args)["reports"]["summary"]["exits"]

    def test_vm_by_name_and_id(self):
        self.assertEqual(self.exits("--vm", "beta"), 4)
        self.assertEqual(self.exits("--vm", "1"), 4)
        self.assertEqual(self.exits("--vm", "alpha"), 9)
        self.assertEqual(self.exits("--vm", "0"), 9)
        s = self.json_reports(crlf(known_dump()), "--vm", "beta", "--report", "summary")["reports"]["summary"]
        self.assertEqual(s["span_cycles"], 9_900_000)
        self.assertEqual(s["selection"], "vm=beta (id 1)")

    def test_unknown_vm(self):
        rc, _, err = self.run_cli(crlf(known_dump()), "--vm", "gamma")
        self.assertEqual(rc, 2)
        self.assertIn("--vm gamma", err)
        self.assertIn("alpha (0), beta (1)", err)

    def test_tsc_interval(self):
        # from <= tsc < to: the records at +10K..+40K, not the one at +50K.
        self.assertEqual(self.exits("--from", str(T0 + 10_000), "--to", str(T0 + 50_000)), 4)
        self.assertEqual(self.exits("--from", hex(T0 + 10_000)), N_EXITS - 1)

    def test_ms_interval_relative_to_first_record(self):
        self.assertEqual(self.exits("--from-ms", "10", "--to-ms", "50"), 4)
        # The origin is the dump's first record even with a VM filter: beta's exits before
        # 150 ms after vm 0's first record are just the one at +100 ms.
        self.assertEqual(self.exits("--vm", "beta", "--to-ms", "150"), 1)

    def test_interval_and_vm_in_reports(self):
        rows = self.rows(crlf(known_dump()), "reasons", "--vm", "alpha", "--to-ms", "45")
        self.assertEqual([(r["reason"], r["count"]) for r in rows], [(10, 4), (30, 1)])


# ---- reading logs ---------------------------------------------------------------------------

class Extraction(CliCase):
    def noisy_log(self):
        first = make_dump(RECS[:4], tsc_hz=HZ, vms=VMS)
        second = known_dump()
        second[0] = "monovisor> " + second[0]                       # prompt glued on
        second[2] = "\x1b[0m" + second[2]                           # an escape before a data line
        second.insert(3, "[beta] guest output between data lines")
        second.insert(4, "[beta] says MVTRACE is great, XMVT 9 not data")
        return ("\x1b[H\x1b[J\x1b[1;1H  Booting `monovisor'\n\r\n\r"
                + crlf(["monovisor 0.1 starting", "monovisor> trace dump\r"]) + crlf(first)
                + "[alpha] hello\n\r" + "monovisor> trace dump\r\r\n"
                + "".join(l + "\n\r" for l in second) + "monovisor> ")

    def test_last_dump_by_default(self):
        s = self.json_reports(self.noisy_log(), "--report", "summary")["reports"]["summary"]
        self.assertEqual((s["records"], s["exits"]), (14, N_EXITS))
        self.assertTrue(s["dump"].startswith("2 "))

    def test_pick_dump(self):
        for n in ("1", "-2"):
            s = self.json_reports(self.noisy_log(), "--dump", n, "--report", "summary")["reports"]["summary"]
            self.assertEqual(s["records"], 4)
        rc, _, err = self.run_cli(self.noisy_log(), "--dump", "3")
        self.assertEqual(rc, 2)
        self.assertIn("holds 2 dump(s)", err)

    def test_list(self):
        rc, out, err = self.run_cli(self.noisy_log(), "--list")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.splitlines()), 2)
        self.assertIn("dump 2:", out)
        self.assertIn("14 records decoded of 14", out)
        self.assertTrue(all(l.endswith(": ok") for l in out.splitlines()))

    def test_line_numbers_count_newlines(self):
        dumps = dump.parse_log(self.noisy_log())
        self.assertEqual([d.begin_line for d in dumps], [5, 11])

    def test_unicode_and_binary_noise(self):
        log = "héllo \xff\x00 garbage\n" + crlf(known_dump())
        path = self.write("")
        with open(path, "wb") as f:
            f.write(log.encode("utf-8") + b"\xfe\xfe\n")
        rc = cli.run(["--report", "summary", path], io.StringIO(), io.StringIO())
        self.assertEqual(rc, 0)


class Generator(unittest.TestCase):
    # Two lines exactly as the VMM printed them (Bochs, trace_mix): the generator must produce
    # the same text from the decoded records, so base64, CRC and layout agree with trace.c.
    REAL = ["MVT 0 dVvOFgAAAAAFAAAAAAAAAAAAAADJAwEAVgEQAAAAAABgX88WAAAAAAUAAAAAAAAAAAAAAOECAAAAMBAAAAAAAFpm"
            "zxYAAAAABQAAAAAAAAAAAAAA5QIAAABAEAAAAAAA c9331188",
            "MVT 943 3FwDFwAAAAACAAAAHgAQAPgDAADcbwYAAAD4AwAAAADyzAkXAAAAAAIAAAAeABEA/QMAAGgBAAAIAP0DAAAA"
            "AHfOCRcAAAAAAgAAAB4AQAD0AAAA+QMLAEMA9AAAAAAA 36403ee6"]

    def test_matches_vmm_output(self):
        for line in self.REAL:
            _, seq, b64, _ = line.split()
            recs = fmt.unpack_records(base64.b64decode(b64))
            self.assertEqual(dump.data_line(int(seq), b"".join(map(fmt.pack_record, recs))), line)
        recs = fmt.unpack_records(base64.b64decode(self.REAL[1].split()[2]))
        self.assertEqual(recs[0], io_rec(386096348, 0x3f8, 421852)._replace(qual=66584576))
        self.assertEqual(recs[2].info, 0xf4)
        self.assertEqual((recs[2].flags & fmt.F_SIZE_MASK) >> fmt.F_SIZE_SHIFT, 4)

    def test_make_dump_layout(self):
        lines = make_dump(RECS, tsc_hz=HZ, vms=VMS, overhead=15)
        self.assertEqual(lines[0], "MVTRACE BEGIN v=1 tsc_hz=1000000 cpu=sample_cpu vmx_rev=0x2b "
                                   "build=0123456789abcdef overhead=15 records=14 lost=0 vms=0:alpha:16,1:beta:32")
        self.assertEqual(len(lines), 1 + 5 + 1)                    # 14 records, 3 a line
        self.assertEqual(lines[-1], "MVTRACE END lines=5 records=14 lost=0")
        self.assertEqual(len(lines[1].split()[2]), 128)
        self.assertEqual(dump.parse_log("\n".join(lines))[0].records, RECS)

    def test_make_sample(self):
        with tempfile.TemporaryDirectory() as tmp:
            a, b = os.path.join(tmp, "a.log"), os.path.join(tmp, "b.log")
            err = io.StringIO()
            self.assertEqual(cli.run(["--make-sample", a], io.StringIO(), err), 0)
            cli.run(["--make-sample", b], io.StringIO(), io.StringIO())
            with open(a, "rb") as fa, open(b, "rb") as fb:
                self.assertEqual(fa.read(), fb.read())              # deterministic
            dumps = dump.parse_log(dump.read_log(a))
            self.assertEqual([bool(d.problems) for d in dumps], [False, False])
            self.assertEqual({r.vm for r in dumps[1].records}, {0, 1})
            out = io.StringIO()
            self.assertEqual(cli.run(["--report", "summary,reasons,ports,buckets,msrs,timeline", a], out,
                                     io.StringIO()), 0)
            self.assertIn(">=5M", out.getvalue())


class FormatContract(unittest.TestCase):
    """The Python mirror of trace/trace_format.h and of the VMM's exit-reason names."""

    def test_constants_match_header(self):
        with open(os.path.join(REPO, "trace", "trace_format.h")) as f:
            defs = dict(re.findall(r"#define\s+TRACE_(\w+)\s+(0x[0-9A-Fa-f]+|\d+)", f.read()))
        self.assertEqual(int(defs["FORMAT_VERSION"]), fmt.FORMAT_VERSION)
        self.assertEqual(int(defs["RECORD_SIZE"]), fmt.RECORD_SIZE)
        self.assertEqual(int(defs["DUMP_RECS_PER_LINE"]), fmt.RECS_PER_LINE)
        for name in ("EXIT", "IO", "MSR", "CR", "PF", "INJECT", "SCHED", "DEVICE", "MMIO", "MAX"):
            self.assertEqual(int(defs["EV_" + name]), getattr(fmt, "EV_" + name), name)
        for name in ("IN", "STRING", "REP", "SIZE_SHIFT", "SIZE_MASK"):
            self.assertEqual(int(defs["F_" + name], 0), getattr(fmt, "F_" + name), name)

    def test_reason_names_match_vmm(self):
        with open(os.path.join(REPO, "arch", "x86", "vmx", "exit.c")) as f:
            src = f.read()
        table = src[src.index("vmx_exit_reason_name"):]
        names = dict(re.findall(r"\[(\d+)\]\s*=\s*\"([^\"]+)\"", table[:table.index("};")]))
        self.assertGreater(len(names), 50)
        for num, name in names.items():
            self.assertEqual(fmt.reason_name(int(num)), name, num)
        self.assertEqual(fmt.reason_name(200), "reason 200")


# ---- corrupt dumps -------------------------------------------------------------------------

class Corrupt(CliCase):
    def assertRejected(self, lines, *patterns, args=()):
        """The dump is refused with exit status 2 and a message matching every pattern."""
        rc, out, err = self.run_cli(crlf(lines), *args)
        self.assertEqual(rc, 2, f"stdout: {out}\nstderr: {err}")
        self.assertEqual(out, "")
        for p in patterns:
            self.assertRegex(err, p)
        return err

    def test_valid_dump_is_accepted(self):
        rc, _, err = self.run_cli(crlf(known_dump()))
        self.assertEqual((rc, err), (0, ""))

    def test_bad_crc(self):
        lines = known_dump()
        lines[2] = lines[2][:-8] + "deadbeef"
        self.assertRejected(lines, r":3: dump 1: seq 1: CRC mismatch \(line says deadbeef, payload has [0-9a-f]{8}\)",
                            "--lenient reads what is intact")

    def test_payload_bit_flip(self):
        lines = known_dump()
        _, seq, b64, crc = lines[1].split()
        raw = bytearray(base64.b64decode(b64))
        raw[20] ^= 1                                                # a cost bit
        lines[1] = f"MVT {seq} {base64.b64encode(bytes(raw)).decode()} {crc}"
        self.assertRejected(lines, r":2: .*seq 0: CRC mismatch")

    def test_missing_line(self):
        lines = known_dump()
        del lines[2]
        self.assertRejected(lines, r":3: .*seq 2 where 1 was expected \(data line missing\)")

    def test_missing_last_line(self):
        lines = known_dump()
        del lines[-2]
        self.assertRejected(lines, r"END says lines=5 but 4 data lines were seen \(data lines missing at the end\)")

    def test_repeated_line(self):
        lines = known_dump()
        lines.insert(3, lines[2])
        self.assertRejected(lines, r":4: .*seq 1 where 2 was expected \(data line repeated or out of order\)")

    def test_truncated_no_end(self):
        self.assertRejected(known_dump()[:-1], r"no MVTRACE END \(the log ends at line 6: dump truncated\)")

    def test_truncated_by_next_dump(self):
        log = known_dump()[:4] + known_dump()
        self.assertRejected(log, r"dump 1: no MVTRACE END: a new MVTRACE BEGIN at line 5", args=("--dump", "1"))
        # The complete second dump is still usable; the broken first one is warned about.
        rc, _, err = self.run_cli(crlf(log), "--report", "summary")
        self.assertEqual(rc, 0)
        self.assertIn("warning: dump 1 (not the one analysed) has problems", err)

    def test_record_count_mismatch_header_vs_end(self):
        lines = known_dump()
        lines[0] = lines[0].replace("records=14", "records=15")
        self.assertRejected(lines, r":7: .*record count mismatch: END says records=14, header \(line 1\) says records=15")

    def test_record_count_mismatch_lines_vs_end(self):
        lines = known_dump()
        lines[0] = lines[0].replace("records=14", "records=15")
        lines[-1] = lines[-1].replace("records=14", "records=15")
        self.assertRejected(lines, r"record count mismatch: END says records=15, the data lines hold 14")

    def test_lines_count_mismatch(self):
        lines = known_dump()
        lines[-1] = lines[-1].replace("lines=5", "lines=6")
        self.assertRejected(lines, r"END says lines=6 but 5 data lines were seen")

    def test_lost_mismatch(self):
        lines = known_dump()
        lines[-1] = lines[-1].replace("lost=0", "lost=3")
        self.assertRejected(lines, r"lost count mismatch: END says lost=3, header says lost=0")

    def test_bad_base64(self):
        lines = known_dump()
        seq, b64, crc = lines[2].split()[1:]
        lines[2] = f"MVT {seq} {b64[:10]}!{b64[11:]} {crc}"
        self.assertRejected(lines, r":3: .*seq 1: bad base64 payload")

    def test_bad_base64_padding(self):
        lines = known_dump()
        seq, b64, crc = lines[5].split()[1:]                        # the last line: 2 records
        lines[5] = f"MVT {seq} {b64[:-1]} {crc}"
        self.assertRejected(lines, r":6: .*seq 4: bad base64 payload")

    def test_partial_record(self):
        lines = known_dump()
        lines[5] = dump.data_line(4, b"\0" * 33)
        self.assertRejected(lines, r"seq 4: payload of 33 bytes is not 1..3 whole 32-byte records")

    def test_malformed_data_line(self):
        lines = known_dump()
        lines[3] = "MVT 2 QUJD"
        self.assertRejected(lines, r":4: .*malformed data line")

    def test_malformed_crc_field(self):
        lines = known_dump()
        lines[3] = lines[3][:-8] + "xyz"
        self.assertRejected(lines, r":4: .*malformed CRC field 'xyz'")

    def test_wrong_version(self):
        lines = known_dump(version=2)
        self.assertRejected(lines, r":1: dump 1: unsupported trace format version v=2 \(this parser reads v=1\)")
        self.assertRejected(lines, r"unsupported trace format version", args=("--lenient",))

    def test_header_missing_field(self):
        lines = known_dump()
        lines[0] = lines[0].replace(" tsc_hz=1000000", "")
        self.assertRejected(lines, r"header lacks tsc_hz")

    def test_header_bad_number(self):
        lines = known_dump()
        lines[0] = lines[0].replace("overhead=150", "overhead=lots")
        self.assertRejected(lines, r"header overhead='lots' is not a number")

    def test_malformed_end(self):
        lines = known_dump()
        lines[-1] = "MVTRACE END lines=5"
        self.assertRejected(lines, r":7: .*malformed END line")

    def test_no_dump(self):
        self.assertRejected(["monovisor> help", "[vm] MVT 0 not a dump"], r"no MVTRACE BEGIN line")

    def test_end_without_begin(self):
        self.assertRejected(known_dump()[3:], r":4: dump 1: MVTRACE END without MVTRACE BEGIN")

    def test_every_problem_counted(self):
        lines = known_dump()
        lines[2] = lines[2][:-8] + "deadbeef"
        lines[4] = lines[4][:-8] + "deadbeef"
        self.assertRejected(lines, r"CRC mismatch.*\(and 1 more problem")


class Lenient(CliCase):
    def test_skips_bad_line_and_reports_drop(self):
        lines = known_dump()
        lines[2] = lines[2][:-8] + "deadbeef"                        # records 4..6 lost
        rc, out, err = self.run_cli(crlf(lines), "--lenient", "--format", "json", "--report", "summary,reasons")
        self.assertEqual(rc, 0, err)
        self.assertIn("lenient: 1 data line(s) skipped, 3 of 14 records dropped", err)
        self.assertRegex(err, r"lenient: .*:3: seq 1: CRC mismatch")
        s = json.loads(out)["reports"]["summary"]
        self.assertEqual((s["records"], s["dropped"]), (11, 3))

    def test_gap_and_missing_end(self):
        lines = known_dump()
        del lines[2]
        rc, out, err = self.run_cli(crlf(lines[:-1]), "--lenient", "--report", "summary")
        self.assertEqual(rc, 0, err)
        self.assertIn("no MVTRACE END", err)
        self.assertIn("3 of 14 records dropped", err)
        self.assertRegex(out, r"dropped\s+3")


# ---- command line ---------------------------------------------------------------------------

class CommandLine(CliCase):
    def test_usage_errors(self):
        log = crlf(known_dump())
        for args, msg in ((["--report", "reasons,bogus"], "unknown report(s) bogus"),
                          (["--from", "1", "--from-ms", "1"], "either in TSC"),
                          (["--buckets", "500,50"], "increasing positive"),
                          (["--slice-ms", "0"], "must be positive"),
                          (["--report", "timeline", "--slice-ms", "0.00001"], "over 100000 slices"),
                          (["--from", "zz"], "invalid tsc_value value")):
            rc, _, err = self.run_cli(log, *args)
            self.assertEqual(rc, 2, args)
            self.assertIn(msg, err)

    def test_missing_file(self):
        err = io.StringIO()
        self.assertEqual(cli.run([os.path.join(self.tmp.name, "nope.log")], io.StringIO(), err), 2)
        self.assertIn("No such file", err.getvalue())

    def test_script_end_to_end(self):
        """The executable itself: exit statuses 0 and 2, and --help."""
        good = self.write(crlf(known_dump()), "good.log")
        lines = known_dump()
        lines[2] = lines[2][:-8] + "00000000"
        bad = self.write(crlf(lines), "bad.log")
        self.assertTrue(os.access(MVTRACE, os.X_OK))
        p = subprocess.run([sys.executable, MVTRACE, good], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("== exit reasons ==", p.stdout)
        self.assertIn("== I/O ports ==", p.stdout)
        p = subprocess.run([sys.executable, MVTRACE, bad], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("CRC mismatch", p.stderr)
        p = subprocess.run([sys.executable, MVTRACE, "--help"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertIn("nearest-rank", p.stdout)

    def test_stdin(self):
        p = subprocess.run([sys.executable, MVTRACE, "--report", "summary", "-"], input=crlf(known_dump()),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"records\s+14")


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
        return True
    except Exception:
        return False


class Png(CliCase):
    @unittest.skipUnless(have_matplotlib(), "matplotlib not importable by this python3")
    def test_png_files(self):
        outdir = os.path.join(self.tmp.name, "png")
        rc, out, err = self.run_cli(crlf(known_dump()), "--png", outdir, "--report", "summary")
        self.assertEqual(rc, 0, err)
        for name in ("histogram.png", "timeline.png"):
            with open(os.path.join(outdir, name), "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_without_matplotlib(self):
        with mock.patch.dict(sys.modules, {"matplotlib": None, "matplotlib.pyplot": None}):
            rc, out, err = self.run_cli(crlf(known_dump()), "--png", os.path.join(self.tmp.name, "png"))
        self.assertEqual(rc, 1)
        self.assertIn("== exit reasons ==", out)                    # the reports still come out
        self.assertIn("no PNGs written: --png needs matplotlib", err)
        self.assertIn("python3-matplotlib", err)


if __name__ == "__main__":
    unittest.main()
