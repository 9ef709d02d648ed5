"""Trace facility acceptance, in Bochs: the trace_mix guest does a known number of reads of an
unused port, Linux-style 8259 ack sequences and CPUIDs under `trace start`; the dump is parsed
offline by scripts/mvtrace and must show exactly those counts, and per-reason and per-port
costs equal to the VMM's own always-on aggregates."""
import json, os, re, subprocess
from harness import Guest, test, check, halt, log_path, REPO, TestFailure

GUEST = os.path.join(REPO, "build", "guests", "trace_mix.elf")
ISO = os.path.join(REPO, "build", "trace.iso")
EXPECTED_PORTS = {(0x22E, "in"): 1000, (0x21, "out"): 200, (0x20, "out"): 200,
                  (0xA1, "out"): 200, (0xA0, "out"): 100}


def table_rows(text):
    """Rows of an `exits`/`ports` table: name -> (count, avg, min, max)."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^(.+?)\s+(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s+(\d+)\s*$", line)
        if m:
            rows[m.group(1).strip()] = tuple(int(m.group(i)) for i in (2, 3, 4, 5))
    return rows


@test("bochs")
def trace_dump_matches_guest_and_vmm_aggregates():
    if not os.path.exists(GUEST):
        raise TestFailure(f"{GUEST} missing: run `make guests`")
    subprocess.run([os.path.join(REPO, "scripts", "mkiso"), "-o", ISO, "--module",
                    f"{GUEST} vm=trace_mix mem=16M autostart=no"], check=True)
    log = log_path("trace")
    with Guest("run-bochs", "--iso", ISO, timeout=400, log=log) as g:
        g.expect(r"trace: \d+-record buffer, (\d+) cycles per record \(self-calibrated\)", 120)
        g.expect(r"monovisor> ", 120)
        g.pos -= len("monovisor> ")
        check("classes: exit io msr cr pf inject sched dev mmio" in g.command("trace start"),
              "trace start did not enable every class", g)
        g.command("vm run trace_mix", 300)
        g.command("trace stop")
        exits = g.command("exits trace_mix")
        ports = g.command("ports trace_mix")
        g.command("trace dump", 300)
        halt(g)
    p = subprocess.run([os.path.join(REPO, "scripts", "mvtrace"), "--format", "json",
                        "--report", "summary,reasons,ports,buckets", "--vm", "trace_mix", log],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"mvtrace failed ({p.returncode}): {p.stderr}")
    rep = json.loads(p.stdout)["reports"]
    summ = rep["summary"]
    check(summ.get("lost", 0) == 0, f"records were lost: {summ}")

    # Exactly the guest's accesses, per port and direction.
    got = {(r["port"], r["dir"]): r["count"] for r in rep["ports"]}
    for key, n in EXPECTED_PORTS.items():
        check(got.get(key) == n, f"port {key[0]:#x} {key[1]}: parser counted {got.get(key)}, guest did {n}")

    # The parser's per-reason and per-port tables equal the VMM's loss-free aggregates.
    vmm = table_rows(exits)
    check(vmm, f"cannot read the VMM's exits table:\n{exits}")
    by_name = {r["name"]: r for r in rep["reasons"]}
    for name, (count, avg, mn, mx) in vmm.items():
        r = by_name.get(name)
        check(r is not None, f"reason '{name}' missing from the parsed trace")
        check((r["count"], r["min"], r["max"]) == (count, mn, mx) and abs(r["avg"] - avg) <= 1,
              f"{name}: trace {r['count']}/{r['avg']}/{r['min']}/{r['max']} vs VMM {count}/{avg}/{mn}/{mx}")
    check(by_name["CPUID"]["count"] >= 500, f"CPUID count {by_name['CPUID']['count']} < 500")
    vmm_ports = table_rows(ports)
    for (port, d), n in EXPECTED_PORTS.items():
        row = next((v for k, v in vmm_ports.items() if k.startswith(f"{port:#06x} {d}")), None)
        check(row and row[0] == n, f"VMM port table for {port:#x} {d}: {row}")
    # The seed's cost buckets account for every access.
    for b in rep["buckets"]:
        key = (b["port"], b["dir"])
        if key in EXPECTED_PORTS:
            total = sum(v for k, v in b.items() if k not in ("port", "dir", "name", "owner", "count"))
            check(total == EXPECTED_PORTS[key], f"bucket counts for {key}: {b}")
    print(f"  {summ.get('exits', summ.get('records'))} exits traced; parser and VMM agree", flush=True)
