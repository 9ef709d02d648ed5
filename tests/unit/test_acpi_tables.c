/* ACPI tables and MP table: built for 1 and 4 vCPUs and read back as an OS would, from the
 * RSDP scan down to every table (ACPI 6.0: RSDP 5.2.5, RSDT/XSDT 5.2.7-8, FADT 5.2.9, FACS
 * 5.2.10, MADT 5.2.12, AML chapter 20, resource descriptors 6.4), and the MP floating pointer
 * and configuration table (MP spec 1.4, chapter 4). The DSDT is parsed by an AML walker of
 * this file's own, which checks every PkgLength and integer encoding. The offsets and codes
 * here are written from the specs, not taken from the builder, so the two check each other.
 * The built tables land in build/unit/acpi/ for `iasl -d` (tests/py/test_acpi_iasl.py). */
#define _POSIX_C_SOURCE 200809L
#include "test.h"
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <libgen.h>
#include <limits.h>
#include "vm/acpi_tables.h"
#include "vm/mptable.h"
#include "dev/acpi_pm.h"

#define BIOS_BASE       0xE0000u        /* the 128 KiB the e820 map reserves below 1 MiB */
#define BIOS_SIZE       0x20000u
#define ACPI_BASE       0xE0000u        /* where this test puts the ACPI tables ... */
#define MP_BASE         0xF0000u        /* ... and the MP tables */
#define PCI_MEM_BASE    0xC0000000u
#define PCI_MEM_LIMIT   0xFEBFFFFFu
#define PM_BASE         0xB000
#define SCI_IRQ         9

static uint8_t bios[BIOS_SIZE];        /* guest memory 0xE0000-0xFFFFF */

/* ---- little-endian reads of guest memory ---- */
static bool in_bios(uint64_t gpa, size_t n) { return gpa >= BIOS_BASE && gpa + n <= BIOS_BASE + BIOS_SIZE; }
static const uint8_t *at(uint64_t gpa) { return bios + (gpa - BIOS_BASE); }
static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static unsigned r8(const uint8_t *t, size_t o) { return t[o]; }
static unsigned r16(const uint8_t *t, size_t o) { return (unsigned)le(t + o, 2); }
static uint32_t r32(const uint8_t *t, size_t o) { return (uint32_t)le(t + o, 4); }
static uint64_t r64(const uint8_t *t, size_t o) { return le(t + o, 8); }
static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static struct acpi_config config(unsigned ncpus)
{
    return (struct acpi_config){
        .ncpus = ncpus, .lapic_addr = FW_LAPIC_ADDR_DEFAULT, .ioapic_addr = FW_IOAPIC_ADDR_DEFAULT,
        .ioapic_id = (uint8_t)ncpus, .pm_base = PM_BASE, .sci_irq = SCI_IRQ, .vga_present = false,
        .pci_mem_base = PCI_MEM_BASE, .pci_mem_limit = PCI_MEM_LIMIT,
    };
}

/* ---- Spec layouts ---- */
/* 5.2.6 system description table header */
#define H_LENGTH 4
#define H_REVISION 8
#define H_OEMID 10
#define H_OEMTABLEID 16
#define H_CREATOR 28
#define H_SIZE 36
/* 5.2.5.3 RSDP */
#define RSDP_REV 15
#define RSDP_RSDT 16
#define RSDP_LEN 20
#define RSDP_XSDT 24
/* 5.2.9 FADT, table 5-34 */
#define F_FACS 36
#define F_DSDT 40
#define F_SCI_INT 46
#define F_SMI_CMD 48
#define F_ACPI_ENABLE 52
#define F_PM1A_EVT 56
#define F_PM1B_EVT 60
#define F_PM1A_CNT 64
#define F_PM1B_CNT 68
#define F_PM2_CNT 72
#define F_PM_TMR 76
#define F_GPE0 80
#define F_GPE1 84
#define F_PM1_EVT_LEN 88
#define F_PM1_CNT_LEN 89
#define F_PM2_CNT_LEN 90
#define F_PM_TMR_LEN 91
#define F_GPE0_LEN 92
#define F_GPE1_LEN 93
#define F_CST_CNT 95
#define F_P_LVL2_LAT 96
#define F_P_LVL3_LAT 98
#define F_DAY_ALRM 106
#define F_MON_ALRM 107
#define F_CENTURY 108
#define F_BOOT_ARCH 109
#define F_FLAGS 112
#define F_RESET_REG 116
#define F_RESET_VALUE 128
#define F_X_FACS 132
#define F_X_DSDT 140
#define F_X_PM1A_EVT 148
#define F_X_PM1B_EVT 160
#define F_X_PM1A_CNT 172
#define F_X_PM1B_CNT 184
#define F_X_PM2_CNT 196
#define F_X_PM_TMR 208
#define F_X_GPE0 220
#define F_X_GPE1 232
#define F_SLEEP_CTL 244
#define F_SLEEP_STS 256
#define FADT_V6_LEN 276
#define GAS_LEN 12
/* FADT flags (table 5-35) and IA-PC boot architecture flags (table 5-36) */
#define FF_WBINVD (1u << 0)
#define FF_WBINVD_FLUSH (1u << 1)
#define FF_PROC_C1 (1u << 2)
#define FF_P_LVL2_UP (1u << 3)
#define FF_PWR_BUTTON (1u << 4)
#define FF_SLP_BUTTON (1u << 5)
#define FF_TMR_VAL_EXT (1u << 8)
#define FF_RESET_REG_SUP (1u << 10)
#define FF_HW_REDUCED (1u << 20)
#define BA_LEGACY (1u << 0)
#define BA_8042 (1u << 1)
#define BA_NO_VGA (1u << 2)
#define BA_NO_CMOS (1u << 5)
/* 5.2.10 FACS */
#define FACS_LEN 4
#define FACS_VER 32
/* 5.2.12 MADT */
#define M_LAPIC_ADDR 36
#define M_FLAGS 40
#define M_ENTRIES 44

struct tables {
    const uint8_t *rsdp, *rsdt, *xsdt, *fadt, *facs, *madt, *dsdt;
    uint64_t rsdp_gpa, facs_gpa, dsdt_gpa;
};

/* A system description table at gpa: in memory, checksummed, the OEM strings we use. */
static const uint8_t *sdt(uint64_t gpa, const char *sig)
{
    CHECK(in_bios(gpa, H_SIZE));
    if (!in_bios(gpa, H_SIZE))
        return NULL;
    const uint8_t *t = at(gpa);
    uint32_t len = r32(t, H_LENGTH);
    CHECK(!memcmp(t, sig, 4));
    CHECK(len >= H_SIZE && in_bios(gpa, len));
    if (len < H_SIZE || !in_bios(gpa, len))
        return NULL;
    CHECK_EQ(sum8(t, len), 0);
    CHECK(!memcmp(t + H_OEMID, "MONOVI", 6));
    CHECK(!memcmp(t + H_OEMTABLEID, "MONOVISR", 8));
    CHECK(!memcmp(t + H_CREATOR, "MNVS", 4));
    return t;
}

/* What an OS does: scan the BIOS area on 16-byte boundaries for a valid RSDP, follow the
 * XSDT (revision 2), check the RSDT says the same, find each table by signature. */
static bool find_tables(struct tables *tb)
{
    memset(tb, 0, sizeof(*tb));
    for (uint64_t gpa = ACPI_RSDP_SCAN_BASE; gpa < ACPI_RSDP_SCAN_END; gpa += 16) {
        const uint8_t *p = at(gpa);
        if (!memcmp(p, "RSD PTR ", 8) && sum8(p, 20) == 0) {
            tb->rsdp = p;
            tb->rsdp_gpa = gpa;
            break;
        }
    }
    CHECK(tb->rsdp);
    if (!tb->rsdp)
        return false;
    const uint8_t *p = tb->rsdp;
    CHECK_EQ(r8(p, RSDP_REV), 2);
    CHECK_EQ(r32(p, RSDP_LEN), 36);
    CHECK_EQ(sum8(p, 36), 0);               /* the extended checksum */
    CHECK(!memcmp(p + 9, "MONOVI", 6));
    tb->xsdt = sdt(r64(p, RSDP_XSDT), "XSDT");
    tb->rsdt = sdt(r32(p, RSDP_RSDT), "RSDT");
    if (!tb->xsdt || !tb->rsdt)
        return false;
    CHECK_EQ(r8(tb->xsdt, H_REVISION), 1);
    CHECK_EQ(r8(tb->rsdt, H_REVISION), 1);
    unsigned n = (r32(tb->xsdt, H_LENGTH) - H_SIZE) / 8;
    CHECK_EQ(r32(tb->xsdt, H_LENGTH), H_SIZE + 8 * n);
    CHECK_EQ(r32(tb->rsdt, H_LENGTH), H_SIZE + 4 * n);
    CHECK_EQ(n, 2);
    for (unsigned i = 0; i < n; i++) {
        uint64_t gpa = r64(tb->xsdt, H_SIZE + 8 * i);
        CHECK_EQ(r32(tb->rsdt, H_SIZE + 4 * i), gpa);
        CHECK(in_bios(gpa, H_SIZE));
        if (!in_bios(gpa, H_SIZE))
            return false;
        if (!memcmp(at(gpa), "FACP", 4))
            tb->fadt = sdt(gpa, "FACP");
        else if (!memcmp(at(gpa), "APIC", 4))
            tb->madt = sdt(gpa, "APIC");
        else
            CHECK(!"unexpected table in the XSDT");
    }
    CHECK(tb->fadt && tb->madt);
    if (!tb->fadt || !tb->madt)
        return false;
    /* DSDT: the FADT's X_DSDT, which must agree with DSDT. FACS: FIRMWARE_CTRL only. */
    tb->dsdt_gpa = r64(tb->fadt, F_X_DSDT);
    CHECK_EQ(r32(tb->fadt, F_DSDT), tb->dsdt_gpa);
    tb->dsdt = sdt(tb->dsdt_gpa, "DSDT");
    tb->facs_gpa = r32(tb->fadt, F_FACS);
    CHECK_EQ(r64(tb->fadt, F_X_FACS), 0);  /* 5.2.9: at most one of the two is non-zero */
    CHECK(in_bios(tb->facs_gpa, 64));
    if (!tb->dsdt || !in_bios(tb->facs_gpa, 64))
        return false;
    tb->facs = at(tb->facs_gpa);
    return true;
}

static uint8_t *build(unsigned ncpus, struct acpi_config *out, size_t *used)
{
    struct acpi_config c = config(ncpus);
    memset(bios, 0, sizeof(bios));
    size_t n = acpi_build(&c, ACPI_BASE, bios + (ACPI_BASE - BIOS_BASE), BIOS_SIZE - (ACPI_BASE - BIOS_BASE));
    CHECK(n > 0);
    if (out)
        *out = c;
    if (used)
        *used = n;
    return bios;
}

/* ---- FADT ---- */
static void check_gas_io(const uint8_t *g, unsigned bits, uint64_t port)
{
    CHECK_EQ(g[0], 1);                      /* System I/O space */
    CHECK_EQ(g[1], bits);
    CHECK_EQ(g[2], 0);                      /* bit offset */
    CHECK(g[3] >= 1 && g[3] <= 3);          /* byte/word/dword access */
    CHECK_EQ(r64(g, 4), port);
}

static bool gas_zero(const uint8_t *g)
{
    for (unsigned i = 0; i < GAS_LEN; i++)
        if (g[i])
            return false;
    return true;
}

static void check_fadt(const struct tables *tb, const struct acpi_config *c)
{
    const uint8_t *f = tb->fadt;
    CHECK(r8(f, H_REVISION) >= 3);
    CHECK_EQ(r8(f, H_REVISION), 6);
    CHECK_EQ(r32(f, H_LENGTH), FADT_V6_LEN);
    CHECK_EQ(r16(f, F_SCI_INT), c->sci_irq);
    CHECK_EQ(r32(f, F_SMI_CMD), 0);         /* no SMI port: ACPI mode is fixed */
    CHECK_EQ(r8(f, F_ACPI_ENABLE), 0);
    CHECK_EQ(r32(f, F_PM1A_EVT), c->pm_base);
    CHECK_EQ(r32(f, F_PM1A_CNT), c->pm_base + 4);
    CHECK_EQ(r32(f, F_PM_TMR), c->pm_base + 8);
    CHECK_EQ(r32(f, F_PM1B_EVT), 0);
    CHECK_EQ(r32(f, F_PM1B_CNT), 0);
    CHECK_EQ(r32(f, F_PM2_CNT), 0);
    CHECK_EQ(r32(f, F_GPE0), 0);
    CHECK_EQ(r32(f, F_GPE1), 0);
    CHECK_EQ(r8(f, F_PM1_EVT_LEN), 4);
    CHECK_EQ(r8(f, F_PM1_CNT_LEN), 2);
    CHECK_EQ(r8(f, F_PM2_CNT_LEN), 0);
    CHECK_EQ(r8(f, F_PM_TMR_LEN), 4);
    CHECK_EQ(r8(f, F_GPE0_LEN), 0);
    CHECK_EQ(r8(f, F_GPE1_LEN), 0);
    CHECK_EQ(r8(f, F_CST_CNT), 0);
    CHECK(r16(f, F_P_LVL2_LAT) > 100);      /* 5.2.9: > 100 means no C2 */
    CHECK(r16(f, F_P_LVL3_LAT) > 1000);     /* > 1000 means no C3 */
    CHECK_EQ(r8(f, F_DAY_ALRM), 0);
    CHECK_EQ(r8(f, F_MON_ALRM), 0);
    CHECK_EQ(r8(f, F_CENTURY), 0x32);
    unsigned ba = r16(f, F_BOOT_ARCH);
    CHECK(ba & BA_LEGACY);
    CHECK(ba & BA_8042);
    CHECK_EQ(!!(ba & BA_NO_VGA), !c->vga_present);
    CHECK(!(ba & BA_NO_CMOS));
    uint32_t fl = r32(f, F_FLAGS);
    CHECK(fl & FF_WBINVD);
    CHECK(fl & FF_PROC_C1);
    CHECK(!(fl & FF_P_LVL2_UP));
    CHECK_EQ(!!(fl & FF_PWR_BUTTON), !c->fixed_power_button);
    CHECK(fl & FF_SLP_BUTTON);
    CHECK(fl & FF_RESET_REG_SUP);
    CHECK(!(fl & FF_TMR_VAL_EXT));          /* 24-bit PM timer */
    CHECK(!(fl & FF_HW_REDUCED));
    check_gas_io(f + F_RESET_REG, 8, 0xCF9);
    CHECK_EQ(f[F_RESET_REG + 3], 1);        /* byte access: Linux wants an 8-bit register */
    CHECK_EQ(r8(f, F_RESET_VALUE), 0x06);
    /* The X_ blocks agree with the 32-bit fields and the lengths (ACPICA warns otherwise). */
    check_gas_io(f + F_X_PM1A_EVT, 8 * r8(f, F_PM1_EVT_LEN), r32(f, F_PM1A_EVT));
    check_gas_io(f + F_X_PM1A_CNT, 8 * r8(f, F_PM1_CNT_LEN), r32(f, F_PM1A_CNT));
    check_gas_io(f + F_X_PM_TMR, 8 * r8(f, F_PM_TMR_LEN), r32(f, F_PM_TMR));
    CHECK(gas_zero(f + F_X_PM1B_EVT));
    CHECK(gas_zero(f + F_X_PM1B_CNT));
    CHECK(gas_zero(f + F_X_PM2_CNT));
    CHECK(gas_zero(f + F_X_GPE0));
    CHECK(gas_zero(f + F_X_GPE1));
    CHECK(gas_zero(f + F_SLEEP_CTL));
    CHECK(gas_zero(f + F_SLEEP_STS));
    /* The FACS: 64-byte aligned, signed, version 2 for ACPI 6.0. */
    CHECK_EQ(tb->facs_gpa % 64, 0);
    CHECK(!memcmp(tb->facs, "FACS", 4));
    CHECK_EQ(r32(tb->facs, FACS_LEN), 64);
    CHECK_EQ(r8(tb->facs, FACS_VER), 2);
    CHECK_EQ(r8(tb->dsdt, H_REVISION), 2);  /* 64-bit AML integers */
}

/* ---- MADT ---- */
static void check_madt(const struct tables *tb, const struct acpi_config *c)
{
    const uint8_t *m = tb->madt;
    uint32_t len = r32(m, H_LENGTH);
    CHECK_EQ(r8(m, H_REVISION), 4);
    CHECK_EQ(r32(m, M_LAPIC_ADDR), c->lapic_addr);
    CHECK_EQ(r32(m, M_FLAGS), 1);           /* PCAT_COMPAT */
    unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
    bool iso_irq0 = false, iso_sci = false;
    int last_type = -1;
    size_t o = M_ENTRIES;
    while (o < len) {
        CHECK(o + 2 <= len);
        unsigned type = m[o], elen = m[o + 1];
        CHECK(elen >= 2 && o + elen <= len);
        if (elen < 2 || o + elen > len)
            return;
        CHECK((int)type >= last_type);      /* grouped by type, processors first */
        last_type = (int)type;
        switch (type) {
        case 0:                             /* Processor Local APIC */
            CHECK_EQ(elen, 8);
            CHECK_EQ(m[o + 2], lapics);     /* ACPI processor UID */
            CHECK_EQ(m[o + 3], lapics);     /* APIC ID */
            CHECK_EQ(r32(m, o + 4), 1);     /* enabled */
            lapics++;
            break;
        case 1:                             /* I/O APIC */
            CHECK_EQ(elen, 12);
            CHECK_EQ(m[o + 2], c->ioapic_id);
            CHECK_EQ(r32(m, o + 4), c->ioapic_addr);
            CHECK_EQ(r32(m, o + 8), 0);     /* GSI base */
            ioapics++;
            break;
        case 2:                             /* Interrupt Source Override */
            CHECK_EQ(elen, 10);
            CHECK_EQ(m[o + 2], 0);          /* ISA */
            if (m[o + 3] == 0) {
                CHECK_EQ(r32(m, o + 4), 2);
                CHECK_EQ(r16(m, o + 8), 0); /* conforming */
                iso_irq0 = true;
            } else if (m[o + 3] == c->sci_irq) {
                CHECK_EQ(r32(m, o + 4), c->sci_irq);
                CHECK_EQ(r16(m, o + 8), 0xD);   /* level (11b << 2), active high (01b) */
                iso_sci = true;
            } else
                CHECK(!"unexpected override");
            isos++;
            break;
        case 4:                             /* Local APIC NMI */
            CHECK_EQ(elen, 6);
            CHECK_EQ(m[o + 2], 0xFF);       /* all processors */
            CHECK_EQ(r16(m, o + 3), 0);
            CHECK_EQ(m[o + 5], 1);          /* LINT1 */
            nmis++;
            break;
        default:
            CHECK(!"unexpected MADT entry");
        }
        o += elen;
    }
    CHECK_EQ(o, len);
    CHECK_EQ(lapics, c->ncpus);
    CHECK_EQ(ioapics, 1);
    CHECK_EQ(isos, 2);
    CHECK(iso_irq0 && iso_sci);
    CHECK_EQ(nmis, 1);
}

/* ---- AML walker (chapter 20) ---- */
enum { V_INT, V_STR, V_BUF, V_PKG, V_NONE };
struct val {
    int kind;
    uint64_t i;
    const uint8_t *p;                       /* string, buffer bytes, first package element */
    size_t len;                             /* bytes of those */
    unsigned nelem;
};

#define MAX_OBJS 1024
#define PATH_MAX_LEN 96
enum { O_NAME, O_DEVICE, O_SCOPE, O_METHOD };
struct obj {
    char path[PATH_MAX_LEN];
    int kind;
    struct val v;
    unsigned nargs;
};

struct walker {
    const uint8_t *aml;
    bool ok;
    struct obj objs[MAX_OBJS];
    unsigned nobjs;
    unsigned pkglen_sizes[5];               /* how many PkgLengths of 1-4 bytes */
};

static void fail(struct walker *w, const char *why, size_t pos)
{
    if (w->ok)
        fprintf(stderr, "  AML walker: %s at offset %zu\n", why, pos);
    w->ok = false;
    test_failed_checks++;
}

/* PkgLength at pos: sets *pkg_end (the end of what it covers) and returns the position after
 * it. Checks the encoding (bits 5:4 zero when multi-byte), that it is the shortest, and that
 * the package ends inside its parent. */
static size_t pkglength(struct walker *w, size_t pos, size_t end, size_t *pkg_end)
{
    *pkg_end = end;
    if (pos >= end) {
        fail(w, "PkgLength past the end", pos);
        return end;
    }
    unsigned lead = w->aml[pos], follow = lead >> 6;
    size_t len;
    if (pos + 1 + follow > end) {
        fail(w, "PkgLength bytes past the end", pos);
        return end;
    }
    if (!follow)
        len = lead & 0x3F;
    else {
        if (lead & 0x30)
            fail(w, "PkgLength lead byte bits 5:4 set", pos);
        len = lead & 0x0F;
        for (unsigned i = 0; i < follow; i++)
            len |= (size_t)w->aml[pos + 1 + i] << (4 + 8 * i);
        /* one byte fewer would have held len - 1 */
        size_t shorter_max = follow == 1 ? 0x3F : follow == 2 ? 0xFFF : 0xFFFFF;
        if (len - 1 <= shorter_max)
            fail(w, "PkgLength not in its shortest encoding", pos);
    }
    w->pkglen_sizes[follow + 1]++;
    if (len < follow + 1u || pos + len > end) {
        fail(w, "PkgLength outside its parent", pos);
        return end;
    }
    *pkg_end = pos + len;
    return pos + 1 + follow;
}

static bool lead_char(uint8_t c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
static bool name_char(uint8_t c) { return lead_char(c) || (c >= '0' && c <= '9'); }

/* NameString at pos, resolved against scope into an absolute path "\\_SB_.PCI0". */
static size_t namestring(struct walker *w, size_t pos, size_t end, const char *scope, char *out)
{
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof(path), "%s", scope);
    if (pos < end && w->aml[pos] == '\\') {
        snprintf(path, sizeof(path), "\\");
        pos++;
    }
    while (pos < end && w->aml[pos] == '^') {
        char *dot = strrchr(path, '.');
        if (dot)
            *dot = 0;
        else
            snprintf(path, sizeof(path), "\\");
        pos++;
    }
    unsigned nsegs;
    if (pos >= end) {
        fail(w, "NameString past the end", pos);
        return end;
    }
    if (w->aml[pos] == 0x00) {
        nsegs = 0;
        pos++;
    } else if (w->aml[pos] == 0x2E) {
        nsegs = 2;
        pos++;
    } else if (w->aml[pos] == 0x2F) {
        nsegs = pos + 1 < end ? w->aml[pos + 1] : 0;
        pos += 2;
    } else
        nsegs = 1;
    for (unsigned s = 0; s < nsegs; s++) {
        if (pos + 4 > end) {
            fail(w, "NameSeg past the end", pos);
            return end;
        }
        const uint8_t *g = w->aml + pos;
        if (!lead_char(g[0]) || !name_char(g[1]) || !name_char(g[2]) || !name_char(g[3]))
            fail(w, "bad NameSeg", pos);
        size_t l = strlen(path);
        snprintf(path + l, sizeof(path) - l, "%s%.4s", l > 1 ? "." : "", (const char *)g);
        pos += 4;
    }
    snprintf(out, PATH_MAX_LEN, "%s", path);
    return pos;
}

static size_t data_object(struct walker *w, size_t pos, size_t end, struct val *v);

static size_t integer(struct walker *w, size_t pos, size_t end, struct val *v, unsigned n, uint64_t min)
{
    if (pos + n > end) {
        fail(w, "integer past the end", pos);
        return end;
    }
    v->kind = V_INT;
    v->i = le(w->aml + pos, n);
    if (v->i < min)
        fail(w, "integer not in its shortest encoding", pos);
    return pos + n;
}

static size_t data_object(struct walker *w, size_t pos, size_t end, struct val *v)
{
    memset(v, 0, sizeof(*v));
    v->kind = V_NONE;
    if (pos >= end) {
        fail(w, "data object past the end", pos);
        return end;
    }
    uint8_t op = w->aml[pos++];
    size_t pend;
    switch (op) {
    case 0x00: v->kind = V_INT; v->i = 0; return pos;           /* ZeroOp */
    case 0x01: v->kind = V_INT; v->i = 1; return pos;           /* OneOp */
    case 0xFF: v->kind = V_INT; v->i = UINT64_MAX; return pos;  /* OnesOp */
    case 0x0A: return integer(w, pos, end, v, 1, 2);
    case 0x0B: return integer(w, pos, end, v, 2, 0x100);
    case 0x0C: return integer(w, pos, end, v, 4, 0);            /* EISAIDs are always DWords */
    case 0x0E: return integer(w, pos, end, v, 8, 0x100000000ull);
    case 0x0D: {                                                /* String */
        size_t s = pos;
        while (pos < end && w->aml[pos]) {
            if (w->aml[pos] > 0x7F)
                fail(w, "non-ASCII string", pos);
            pos++;
        }
        if (pos >= end) {
            fail(w, "unterminated string", s);
            return end;
        }
        v->kind = V_STR;
        v->p = w->aml + s;
        v->len = pos - s;
        return pos + 1;
    }
    case 0x11: {                                                /* Buffer */
        pos = pkglength(w, pos, end, &pend);
        struct val size;
        pos = data_object(w, pos, pend, &size);
        if (size.kind != V_INT || size.i != pend - pos)
            fail(w, "buffer size differs from its contents", pos);
        v->kind = V_BUF;
        v->p = w->aml + pos;
        v->len = pend - pos;
        return pend;
    }
    case 0x12: {                                                /* Package */
        pos = pkglength(w, pos, end, &pend);
        if (pos >= pend) {
            fail(w, "package without NumElements", pos);
            return pend;
        }
        unsigned n = w->aml[pos++], count = 0;
        v->kind = V_PKG;
        v->p = w->aml + pos;
        v->nelem = n;
        while (pos < pend && w->ok) {
            struct val e;
            pos = data_object(w, pos, pend, &e);
            count++;
        }
        if (pos != pend || count != n)
            fail(w, "package elements do not fill it", pos);
        v->len = pend - (size_t)(v->p - w->aml);
        return pend;
    }
    default:
        fail(w, "unknown data object", pos - 1);
        return end;
    }
}

static void add(struct walker *w, const char *path, int kind, const struct val *v, unsigned nargs)
{
    if (w->nobjs == MAX_OBJS) {
        fail(w, "too many objects", 0);
        return;
    }
    for (unsigned i = 0; i < w->nobjs; i++)
        if (!strcmp(w->objs[i].path, path) && kind != O_SCOPE && w->objs[i].kind != O_SCOPE)
            fail(w, "name defined twice", 0);
    struct obj *o = &w->objs[w->nobjs++];
    snprintf(o->path, sizeof(o->path), "%s", path);
    o->kind = kind;
    if (v)
        o->v = *v;
    o->nargs = nargs;
}

/* A method body: only Store(ArgN/LocalN/data, Name) statements are expected. */
static void method_body(struct walker *w, size_t pos, size_t end, const char *scope)
{
    while (pos < end && w->ok) {
        if (w->aml[pos] != 0x70) {
            fail(w, "unexpected opcode in a method", pos);
            return;
        }
        pos++;
        if (pos < end && w->aml[pos] >= 0x60 && w->aml[pos] <= 0x6E)
            pos++;                          /* Local0-7, Arg0-6 */
        else {
            struct val v;
            pos = data_object(w, pos, end, &v);
        }
        char target[PATH_MAX_LEN];
        pos = namestring(w, pos, end, scope, target);
    }
    if (pos != end)
        fail(w, "method body overruns", pos);
}

static void term_list(struct walker *w, size_t pos, size_t end, const char *scope)
{
    while (pos < end && w->ok) {
        uint8_t op = w->aml[pos++];
        char path[PATH_MAX_LEN];
        size_t pend;
        struct val v;
        if (op == 0x08) {                   /* NameOp */
            pos = namestring(w, pos, end, scope, path);
            pos = data_object(w, pos, end, &v);
            add(w, path, O_NAME, &v, 0);
        } else if (op == 0x10) {            /* ScopeOp */
            pos = pkglength(w, pos, end, &pend);
            pos = namestring(w, pos, pend, scope, path);
            add(w, path, O_SCOPE, NULL, 0);
            term_list(w, pos, pend, path);
            pos = pend;
        } else if (op == 0x5B && pos < end && w->aml[pos] == 0x82) {   /* DeviceOp */
            pos = pkglength(w, pos + 1, end, &pend);
            pos = namestring(w, pos, pend, scope, path);
            add(w, path, O_DEVICE, NULL, 0);
            term_list(w, pos, pend, path);
            pos = pend;
        } else if (op == 0x14) {            /* MethodOp */
            pos = pkglength(w, pos, end, &pend);
            pos = namestring(w, pos, pend, scope, path);
            if (pos >= pend) {
                fail(w, "method without flags", pos);
                return;
            }
            unsigned flags = w->aml[pos++];
            add(w, path, O_METHOD, NULL, flags & 7);
            method_body(w, pos, pend, scope);
            pos = pend;
        } else {
            fail(w, "unknown term", pos - 1);
            return;
        }
    }
    if (w->ok && pos != end)
        fail(w, "term list overruns its package", pos);
}

static const struct obj *find(const struct walker *w, const char *path)
{
    for (unsigned i = 0; i < w->nobjs; i++)
        if (!strcmp(w->objs[i].path, path))
            return &w->objs[i];
    return NULL;
}

/* Elements of a package value, in order (only integers and packages are kept). */
static unsigned elements(struct walker *w, const struct val *pkg, struct val *out, unsigned max)
{
    size_t pos = (size_t)(pkg->p - w->aml), end = pos + pkg->len;
    unsigned n = 0;
    while (pos < end && n < max && w->ok)
        pos = data_object(w, pos, end, &out[n++]);
    return n;
}

/* Compressed EISA ID back to text, independently of the builder: 5-bit letters, 4 nibbles. */
static void eisaid_text(uint32_t dword_le, char out[8])
{
    uint32_t v = __builtin_bswap32(dword_le);
    out[0] = (char)('@' + ((v >> 26) & 0x1F));
    out[1] = (char)('@' + ((v >> 21) & 0x1F));
    out[2] = (char)('@' + ((v >> 16) & 0x1F));
    snprintf(out + 3, 5, "%04X", v & 0xFFFF);
}

static void check_hid(const struct walker *w, const char *dev, const char *hid)
{
    char path[PATH_MAX_LEN], text[8] = "";
    snprintf(path, sizeof(path), "%s._HID", dev);
    const struct obj *o = find(w, path);
    CHECK(o && o->v.kind == V_INT);
    if (o && o->v.kind == V_INT)
        eisaid_text((uint32_t)o->v.i, text);
    CHECK_STR(text, hid);
}

static void walk_dsdt(struct walker *w, const uint8_t *dsdt)
{
    memset(w, 0, sizeof(*w));
    w->aml = dsdt;
    w->ok = true;
    term_list(w, H_SIZE, r32(dsdt, H_LENGTH), "\\");
}

/* ---- resource templates (6.4) ---- */
struct window { unsigned type; uint64_t min, max, len; };
struct resources {
    unsigned nio, nirq, nwin;
    uint16_t io_min[8], io_max[8];
    uint8_t io_len[8];
    uint16_t irq_mask[4];
    struct window win[8];
    bool ended;
};

static void parse_resources(const struct val *buf, struct resources *r)
{
    memset(r, 0, sizeof(*r));
    CHECK(buf->kind == V_BUF);
    const uint8_t *p = buf->p;
    size_t o = 0, n = buf->len;
    while (o < n && !r->ended) {
        uint8_t tag = p[o];
        if (!(tag & 0x80)) {                /* small item: type 6:3, length 2:0 */
            unsigned type = tag >> 3 & 0xF, len = tag & 7;
            CHECK(o + 1 + len <= n);
            if (o + 1 + len > n)
                return;
            if (type == 0x8 && len == 7 && r->nio < 8) {        /* I/O port */
                CHECK_EQ(p[o + 1], 1);      /* 16-bit decode */
                r->io_min[r->nio] = (uint16_t)r16(p, o + 2);
                r->io_max[r->nio] = (uint16_t)r16(p, o + 4);
                r->io_len[r->nio++] = p[o + 7];
            } else if (type == 0x4 && len == 2 && r->nirq < 4) { /* IRQ, no flags */
                r->irq_mask[r->nirq++] = (uint16_t)r16(p, o + 1);
            } else if (type == 0xF && len == 1) {               /* end tag */
                r->ended = true;
                CHECK_EQ(o + 2, n);         /* last thing in the buffer */
            } else
                CHECK(!"unexpected small resource");
            o += 1 + len;
        } else {                            /* large item: 16-bit length */
            CHECK(o + 3 <= n);
            unsigned len = r16(p, o + 1);
            CHECK(o + 3 + len <= n);
            if (o + 3 + len > n)
                return;
            unsigned w = tag == 0x88 ? 2 : tag == 0x87 ? 4 : 0;
            CHECK(w && len == 3 + 5 * w);
            if (w && len == 3 + 5 * w && r->nwin < 8) {
                struct window *win = &r->win[r->nwin++];
                win->type = p[o + 3];
                CHECK_EQ(p[o + 4], 0x0C);   /* producer, min and max fixed, positive decode */
                CHECK_EQ(le(p + o + 6, w), 0);              /* granularity */
                win->min = le(p + o + 6 + w, w);
                win->max = le(p + o + 6 + 2 * w, w);
                CHECK_EQ(le(p + o + 6 + 3 * w, w), 0);      /* translation */
                win->len = le(p + o + 6 + 4 * w, w);
                CHECK_EQ(win->len, win->max - win->min + 1);
            }
            o += 3 + len;
        }
    }
    CHECK(r->ended);
}

static bool has_window(const struct resources *r, unsigned type, uint64_t min, uint64_t max)
{
    for (unsigned i = 0; i < r->nwin; i++)
        if (r->win[i].type == type && r->win[i].min == min && r->win[i].max == max)
            return true;
    return false;
}

static void check_isa_dev(const struct walker *w, const char *path, const char *hid,
                          uint16_t port0, uint8_t len0, int port1, unsigned irq)
{
    char p[PATH_MAX_LEN];
    check_hid(w, path, hid);
    snprintf(p, sizeof(p), "%s._CRS", path);
    const struct obj *crs = find(w, p);
    CHECK(crs);
    if (!crs)
        return;
    struct resources r;
    parse_resources(&crs->v, &r);
    CHECK_EQ(r.nirq, 1);
    CHECK_EQ(r.irq_mask[0], 1u << irq);
    if (!len0) {
        CHECK_EQ(r.nio, 0);
        return;
    }
    CHECK_EQ(r.nio, port1 >= 0 ? 2 : 1);
    CHECK_EQ(r.io_min[0], port0);
    CHECK_EQ(r.io_max[0], port0);
    CHECK_EQ(r.io_len[0], len0);
    if (port1 >= 0)
        CHECK_EQ(r.io_min[1], port1);
}

static void check_dsdt(const struct tables *tb, const struct acpi_config *c)
{
    static struct walker w;
    walk_dsdt(&w, tb->dsdt);
    CHECK(w.ok);
    if (!w.ok)
        return;
    CHECK(w.pkglen_sizes[1] > 0);
    CHECK(w.pkglen_sizes[2] > 0);           /* _PRT, PCI0 and \_SB need two bytes */

    /* \_S5_: SLP_TYPa/b are the value the PM1 block powers off on. */
    const struct obj *s5 = find(&w, "\\_S5_");
    CHECK(s5 && s5->v.kind == V_PKG);
    if (s5 && s5->v.kind == V_PKG) {
        struct val e[4];
        unsigned n = elements(&w, &s5->v, e, 4);
        CHECK(n >= 2);
        CHECK(e[0].kind == V_INT && e[0].i == ACPI_SLP_TYP_S5);
        CHECK(e[1].kind == V_INT && e[1].i == ACPI_SLP_TYP_S5);
    }
    CHECK(!find(&w, "\\_S1_") && !find(&w, "\\_S3_") && !find(&w, "\\_S4_"));
    const struct obj *pic = find(&w, "\\_PIC");
    CHECK(pic && pic->kind == O_METHOD && pic->nargs == 1);

    /* Processor devices, one per vCPU, their _UID the MADT's processor UID. */
    unsigned cpus = 0;
    for (unsigned i = 0; i < w.nobjs; i++) {
        const struct obj *o = &w.objs[i];
        if (o->kind == O_NAME && strstr(o->path, "._HID") && o->v.kind == V_STR &&
            o->v.len == 8 && !memcmp(o->v.p, "ACPI0007", 8)) {
            char uid[PATH_MAX_LEN];
            snprintf(uid, sizeof(uid), "%.*s._UID", (int)(strlen(o->path) - 5), o->path);
            const struct obj *u = find(&w, uid);
            CHECK(u && u->v.kind == V_INT && u->v.i == cpus);
            cpus++;
        }
    }
    CHECK_EQ(cpus, c->ncpus);

    /* PCI0: a PCI host bridge, bus 0, and its windows. */
    const struct obj *pci0 = find(&w, "\\_SB_.PCI0");
    CHECK(pci0 && pci0->kind == O_DEVICE);
    check_hid(&w, "\\_SB_.PCI0", "PNP0A03");
    const struct obj *bbn = find(&w, "\\_SB_.PCI0._BBN"), *uid = find(&w, "\\_SB_.PCI0._UID");
    CHECK(bbn && bbn->v.kind == V_INT && bbn->v.i == 0);
    CHECK(uid && uid->v.kind == V_INT && uid->v.i == 0);
    CHECK(!find(&w, "\\_SB_.PCI0._ADR"));     /* 6.1: _HID or _ADR, not both (iasl warns) */
    const struct obj *crs = find(&w, "\\_SB_.PCI0._CRS");
    CHECK(crs);
    if (crs) {
        struct resources r;
        parse_resources(&crs->v, &r);
        CHECK(has_window(&r, 2, 0, 0xFF));             /* bus numbers */
        CHECK(has_window(&r, 1, 0, 0xCF7));            /* I/O below the config ports */
        CHECK(has_window(&r, 1, 0xD00, 0xFFFF));
        CHECK(has_window(&r, 0, 0xA0000, 0xBFFFF));    /* VGA */
        CHECK(has_window(&r, 0, c->pci_mem_base, c->pci_mem_limit));
        CHECK_EQ(r.nwin, 5);
        CHECK_EQ(r.nio, 1);                            /* 0xCF8-0xCFF, the bridge's own */
        CHECK_EQ(r.io_min[0], 0xCF8);
        CHECK_EQ(r.io_len[0], 8);
    }

    /* _PRT: slots 1-31 x INTA-D, GSI 16 + ((slot + pin) & 3), each exactly once. */
    const struct obj *prt = find(&w, "\\_SB_.PCI0._PRT");
    CHECK(prt && prt->v.kind == V_PKG);
    if (prt && prt->v.kind == V_PKG) {
        static struct val e[256];
        unsigned n = elements(&w, &prt->v, e, 256);
        CHECK_EQ(n, 31 * 4);
        CHECK_EQ(prt->v.nelem, 31 * 4);
        bool seen[32][4] = { { false } };
        unsigned per_gsi[4] = { 0 };
        for (unsigned i = 0; i < n; i++) {
            struct val f[4];
            CHECK(e[i].kind == V_PKG && e[i].nelem == 4);
            if (e[i].kind != V_PKG || elements(&w, &e[i], f, 4) != 4)
                continue;
            unsigned slot = (unsigned)(f[0].i >> 16), pin = (unsigned)f[1].i;
            CHECK_EQ(f[0].i & 0xFFFF, 0xFFFF);          /* any function */
            CHECK(slot >= 1 && slot < 32 && pin < 4);
            CHECK_EQ(f[2].i, 0);                        /* GSI form */
            CHECK_EQ(f[3].i, 16 + ((slot + pin) & 3));
            if (slot < 32 && pin < 4) {
                CHECK(!seen[slot][pin]);
                seen[slot][pin] = true;
            }
            if (f[3].i >= 16 && f[3].i < 20)
                per_gsi[f[3].i - 16]++;
        }
        for (unsigned g = 0; g < 4; g++)
            CHECK_EQ(per_gsi[g], 31);
    }

    /* The ISA bridge at 00:01.0 and the legacy devices behind it. */
    const struct obj *isa = find(&w, "\\_SB_.PCI0.ISA_._ADR");
    CHECK(isa && isa->v.kind == V_INT && isa->v.i == 0x00010000);
    check_isa_dev(&w, "\\_SB_.PCI0.ISA_.RTC_", "PNP0B00", 0x70, 2, -1, 8);
    check_isa_dev(&w, "\\_SB_.PCI0.ISA_.KBD_", "PNP0303", 0x60, 1, 0x64, 1);
    check_isa_dev(&w, "\\_SB_.PCI0.ISA_.MOU_", "PNP0F13", 0, 0, -1, 12);
    check_isa_dev(&w, "\\_SB_.PCI0.ISA_.COM1", "PNP0501", 0x3F8, 8, -1, 4);
    check_isa_dev(&w, "\\_SB_.PCI0.ISA_.COM2", "PNP0501", 0x2F8, 8, -1, 3);
    const struct obj *u1 = find(&w, "\\_SB_.PCI0.ISA_.COM1._UID"), *u2 = find(&w, "\\_SB_.PCI0.ISA_.COM2._UID");
    CHECK(u1 && u2 && u1->v.i != u2->v.i);
}

static void check_all(unsigned ncpus)
{
    struct acpi_config c;
    size_t used;
    build(ncpus, &c, &used);
    CHECK(used <= ACPI_TABLES_MAX_SIZE);
    struct tables tb;
    if (!find_tables(&tb))
        return;
    CHECK_EQ(tb.rsdp_gpa, ACPI_BASE);
    CHECK_EQ(tb.rsdp_gpa % 16, 0);
    check_fadt(&tb, &c);
    check_madt(&tb, &c);
    check_dsdt(&tb, &c);
    /* Every table lies inside what acpi_build says it used. */
    const uint8_t *t[] = { tb.rsdt, tb.xsdt, tb.fadt, tb.madt, tb.dsdt };
    for (unsigned i = 0; i < ARRAY_SIZE(t); i++)
        CHECK((size_t)(t[i] - bios) + r32(t[i], H_LENGTH) <= (ACPI_BASE - BIOS_BASE) + used);
}

TEST(acpi_one_cpu_walk_as_an_os_would) { check_all(1); }
TEST(acpi_four_cpus_walk_as_an_os_would) { check_all(4); }
TEST(acpi_max_cpus_fits) { check_all(ACPI_MAX_CPUS); }

TEST(acpi_config_flags_reach_the_fadt)
{
    struct acpi_config c = config(2);
    c.vga_present = true;
    c.fixed_power_button = true;
    c.sci_irq = 11;
    c.pm_base = 0x600;
    memset(bios, 0, sizeof(bios));
    CHECK(acpi_build(&c, ACPI_BASE, bios, BIOS_SIZE) > 0);
    struct tables tb;
    if (find_tables(&tb)) {
        check_fadt(&tb, &c);
        check_madt(&tb, &c);
        CHECK(!(r16(tb.fadt, F_BOOT_ARCH) & BA_NO_VGA));
        CHECK(!(r32(tb.fadt, F_FLAGS) & FF_PWR_BUTTON));
    }
}

TEST(acpi_rejects_bad_config_and_small_buffers)
{
    struct acpi_config c = config(1);
    static uint8_t buf[ACPI_TABLES_MAX_SIZE];
    size_t need = acpi_build(&c, ACPI_BASE, buf, sizeof(buf));
    CHECK(need > 0);
    CHECK_EQ(acpi_build(&c, ACPI_BASE, buf, need - 1), 0);
    CHECK_EQ(acpi_build(&c, ACPI_BASE, buf, 0), 0);
    CHECK_EQ(acpi_build(&c, ACPI_BASE + 8, buf, sizeof(buf)), 0);  /* RSDP off a 16-byte boundary */
    CHECK_EQ(acpi_build(&c, 0x100000000ull - need + 16, buf, sizeof(buf)), 0);  /* crosses 4 GiB */
    CHECK_EQ(acpi_build(&c, 0x100000000ull - ((need + 15) & ~15ull), buf, sizeof(buf)), need);
    struct acpi_config bad = c;
    bad.ncpus = 0;
    CHECK_EQ(acpi_build(&bad, ACPI_BASE, buf, sizeof(buf)), 0);
    bad = c;
    bad.ncpus = ACPI_MAX_CPUS + 1;
    CHECK_EQ(acpi_build(&bad, ACPI_BASE, buf, sizeof(buf)), 0);
    bad = c;
    bad.pci_mem_base = bad.pci_mem_limit + 1;
    CHECK_EQ(acpi_build(&bad, ACPI_BASE, buf, sizeof(buf)), 0);
    bad = c;
    bad.sci_irq = 16;
    CHECK_EQ(acpi_build(&bad, ACPI_BASE, buf, sizeof(buf)), 0);
    bad = c;
    bad.pm_base = 0xFFF8;                   /* the PM timer would leave the port space */
    CHECK_EQ(acpi_build(&bad, ACPI_BASE, buf, sizeof(buf)), 0);
}

/* Random configs and capacities: never a byte past cap (ASan: the buffer is exactly cap),
 * and whatever is built is whole: checksums and the AML structure hold. */
TEST(acpi_fuzz_configs_and_capacities)
{
    static struct walker w;
    for (unsigned iter = 0; iter < 400; iter++) {
        struct acpi_config c = {
            .ncpus = (unsigned)(xorshift() % 300), .lapic_addr = (uint32_t)xorshift(),
            .ioapic_addr = (uint32_t)xorshift(), .ioapic_id = (uint8_t)xorshift(),
            .pm_base = (uint16_t)xorshift(), .sci_irq = (uint8_t)(xorshift() % 20),
            .vga_present = xorshift() & 1, .fixed_power_button = xorshift() & 1,
            .pci_mem_base = (uint32_t)xorshift(), .pci_mem_limit = (uint32_t)xorshift(),
        };
        size_t cap = xorshift() % (ACPI_TABLES_MAX_SIZE + 64);
        uint64_t base = xorshift() & 1 ? ACPI_BASE : xorshift() & 0x1FFFFFFFFull;
        uint8_t *buf = malloc(cap ? cap : 1);
        size_t n = acpi_build(&c, base, buf, cap);
        CHECK(n <= cap);
        if (n) {
            CHECK_EQ(base % 16, 0);
            CHECK_EQ(sum8(buf, 20), 0);
            CHECK_EQ(sum8(buf, 36), 0);
            uint64_t dsdt = 0;
            for (unsigned i = 0; i < 2; i++) {   /* XSDT entries, then the FADT's DSDT */
                uint64_t x = r64(buf, RSDP_XSDT) - base;
                uint64_t t = r64(buf + x, H_SIZE + 8 * i) - base;
                CHECK(t + H_SIZE <= n && t + r32(buf + t, H_LENGTH) <= n);
                CHECK_EQ(sum8(buf + t, r32(buf + t, H_LENGTH)), 0);
                if (!memcmp(buf + t, "FACP", 4))
                    dsdt = r64(buf + t, F_X_DSDT) - base;
            }
            CHECK(dsdt + H_SIZE <= n && dsdt + r32(buf + dsdt, H_LENGTH) <= n);
            CHECK_EQ(sum8(buf + dsdt, r32(buf + dsdt, H_LENGTH)), 0);
            walk_dsdt(&w, buf + dsdt);
            CHECK(w.ok);
        }
        free(buf);
    }
}

/* ---- AML emitter ---- */
TEST(aml_pkglength_encodings_1_to_4_bytes)
{
    /* body sizes at each boundary: PkgLength counts itself (20.2.4) */
    static const struct { size_t body; unsigned bytes; } cases[] = {
        { 0, 1 }, { 62, 1 }, { 63, 2 }, { 4093, 2 }, { 4094, 3 },
        { 0xFFFFC, 3 }, { 0xFFFFD, 4 }, { 0x2000000, 4 },
    };
    size_t cap = 0x2000000 + 16;
    uint8_t *buf = malloc(cap);
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        struct aml a;
        aml_init(&a, buf, cap);
        size_t m = aml_open(&a);
        for (size_t j = 0; j < cases[i].body; j++)
            aml_byte(&a, (uint8_t)(j * 7));
        aml_close(&a, m);
        CHECK(!a.error);
        CHECK_EQ(a.len, cases[i].body + cases[i].bytes);
        unsigned n = (buf[0] >> 6) + 1;
        CHECK_EQ(n, cases[i].bytes);
        size_t total = n == 1 ? (size_t)(buf[0] & 0x3F) : (size_t)(buf[0] & 0xF);
        for (unsigned k = 1; k < n; k++)
            total |= (size_t)buf[k] << (4 + 8 * (k - 1));
        CHECK_EQ(total, a.len);             /* covers itself and the body */
        if (n > 1)
            CHECK_EQ(buf[0] & 0x30, 0);
        bool same = true;                   /* the body moved intact */
        for (size_t j = 0; j < cases[i].body; j++)
            same &= buf[n + j] == (uint8_t)(j * 7);
        CHECK(same);
    }
    free(buf);
}

TEST(aml_nested_packages_and_room)
{
    uint8_t buf[64];
    struct aml a;
    aml_init(&a, buf, sizeof(buf));
    size_t outer = aml_open(&a);
    aml_byte(&a, 0xAA);
    size_t inner = aml_open(&a);
    aml_byte(&a, 0xBB);
    aml_close(&a, inner);
    aml_close(&a, outer);
    static const uint8_t want[] = { 4, 0xAA, 2, 0xBB };
    CHECK(!a.error);
    CHECK_EQ(a.len, sizeof(want));
    CHECK(!memcmp(buf, want, sizeof(want)));
    /* Out of room: error, nothing written past cap (ASan would see it). */
    uint8_t *tiny = malloc(3);
    aml_init(&a, tiny, 3);
    aml_integer(&a, 0x12345678);
    CHECK(a.error);
    CHECK(a.len <= 3);
    aml_init(&a, tiny, 3);
    size_t m = aml_open(&a);
    aml_byte(&a, 1);
    aml_byte(&a, 2);
    aml_byte(&a, 3);
    aml_close(&a, m);                       /* no room for the PkgLength byte */
    CHECK(a.error);
    free(tiny);
}

TEST(aml_integers_use_the_shortest_prefix)
{
    static const struct { uint64_t v; uint8_t bytes[9]; unsigned n; } cases[] = {
        { 0, { 0x00 }, 1 }, { 1, { 0x01 }, 1 }, { 2, { 0x0A, 2 }, 2 }, { 0xFF, { 0x0A, 0xFF }, 2 },
        { 0x100, { 0x0B, 0x00, 0x01 }, 3 }, { 0xFFFF, { 0x0B, 0xFF, 0xFF }, 3 },
        { 0x10000, { 0x0C, 0, 0, 1, 0 }, 5 }, { 0xFFFFFFFF, { 0x0C, 0xFF, 0xFF, 0xFF, 0xFF }, 5 },
        { 0x100000000ull, { 0x0E, 0, 0, 0, 0, 1, 0, 0, 0 }, 9 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t buf[16];
        struct aml a;
        aml_init(&a, buf, sizeof(buf));
        aml_integer(&a, cases[i].v);
        CHECK_EQ(a.len, cases[i].n);
        CHECK(!memcmp(buf, cases[i].bytes, cases[i].n));
    }
}

TEST(aml_namestrings_strings_and_eisaids)
{
    uint8_t buf[64];
    struct aml a;
    aml_init(&a, buf, sizeof(buf));
    aml_namestring(&a, "\\_SB.PCI0");
    CHECK_EQ(a.len, 10);
    CHECK(!memcmp(buf, "\\\x2E_SB_PCI0", 10));      /* RootChar, DualNamePrefix */
    aml_init(&a, buf, sizeof(buf));
    aml_namestring(&a, "A.B.C");
    CHECK(!memcmp(buf, "\x2F\x03" "A___B___C___", 14));   /* MultiNamePrefix, count */
    aml_init(&a, buf, sizeof(buf));
    aml_namestring(&a, "^^RTC");
    CHECK(!memcmp(buf, "^^RTC_", 6));
    aml_init(&a, buf, sizeof(buf));
    aml_namestring(&a, "");
    CHECK(!a.error && a.len == 1 && buf[0] == 0);   /* NullName */
    static const char *bad[] = { "1ABC", "ABCDE", "A..B", "A.", "a", "A-B" };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        aml_init(&a, buf, sizeof(buf));
        aml_namestring(&a, bad[i]);
        if (!a.error)
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        CHECK(a.error);
    }
    aml_init(&a, buf, sizeof(buf));
    aml_string(&a, "ACPI0007");
    CHECK_EQ(a.len, 10);
    CHECK(buf[0] == 0x0D && !memcmp(buf + 1, "ACPI0007", 9));
    /* Compressed EISA IDs as iasl's EISAID() stores them. */
    static const struct { const char *id; uint8_t b[4]; } ids[] = {
        { "PNP0A03", { 0x41, 0xD0, 0x0A, 0x03 } }, { "PNP0B00", { 0x41, 0xD0, 0x0B, 0x00 } },
        { "PNP0303", { 0x41, 0xD0, 0x03, 0x03 } }, { "PNP0501", { 0x41, 0xD0, 0x05, 0x01 } },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(ids); i++) {
        aml_init(&a, buf, sizeof(buf));
        aml_eisaid(&a, ids[i].id);
        CHECK(!a.error && a.len == 5 && buf[0] == 0x0C);
        CHECK(!memcmp(buf + 1, ids[i].b, 4));
        char text[8];
        eisaid_text((uint32_t)le(buf + 1, 4), text);
        CHECK_STR(text, ids[i].id);
    }
    static const char *bad_ids[] = { "PNP0A0", "PNP0A033", "pnp0a03", "PNP0A0G", "P1P0A03" };
    for (unsigned i = 0; i < ARRAY_SIZE(bad_ids); i++) {
        aml_init(&a, buf, sizeof(buf));
        aml_eisaid(&a, bad_ids[i]);
        CHECK(a.error);
        CHECK_EQ(aml_eisaid_value(bad_ids[i]), 0);
    }
}

/* Random trees of packages of random integers, into random small buffers: no overrun, and
 * what fits parses back to the same integers in the same order. */
TEST(aml_fuzz_random_package_trees)
{
    static struct walker w;
    for (unsigned iter = 0; iter < 2000; iter++) {
        size_t cap = 1 + xorshift() % 6000;
        uint8_t *buf = malloc(cap);
        uint64_t ints[4096];
        unsigned nints = 0;
        struct aml a;
        aml_init(&a, buf, cap);
        size_t marks[8];
        unsigned depth = 0, elems[8] = { 0 };
        size_t count_pos[8];
        unsigned steps = (unsigned)(xorshift() % 600);
        /* Root: one package, so the walker has one data object to parse. */
        aml_byte(&a, 0x12);
        marks[0] = aml_open(&a);
        count_pos[0] = a.len;
        aml_byte(&a, 0);
        depth = 1;
        for (unsigned s = 0; s < steps && !a.error; s++) {
            uint64_t r = xorshift();
            if (r % 5 == 0 && depth < 8 && elems[depth - 1] < 255) {
                elems[depth - 1]++;
                aml_byte(&a, 0x12);
                marks[depth] = aml_open(&a);
                count_pos[depth] = a.len;
                aml_byte(&a, 0);
                elems[depth++] = 0;
            } else if (r % 5 == 1 && depth > 1) {
                depth--;
                if (!a.error)
                    buf[count_pos[depth]] = (uint8_t)elems[depth];
                aml_close(&a, marks[depth]);
            } else if (elems[depth - 1] < 255 && nints < ARRAY_SIZE(ints)) {
                uint64_t v = xorshift() >> (xorshift() % 64);
                elems[depth - 1]++;
                ints[nints++] = v;
                aml_integer(&a, v);
            }
        }
        while (depth > 0 && !a.error) {
            depth--;
            buf[count_pos[depth]] = (uint8_t)elems[depth];
            aml_close(&a, marks[depth]);
        }
        CHECK(a.len <= cap);
        if (!a.error) {
            /* Flatten the tree back to its integers. */
            memset(&w, 0, sizeof(w));
            w.aml = buf;
            w.ok = true;
            struct val root;
            CHECK_EQ(data_object(&w, 0, a.len, &root), a.len);
            CHECK(w.ok);
            unsigned k = 0;
            struct { size_t pos, end; } stack[16];
            unsigned sp = 0;
            stack[sp].pos = (size_t)(root.p - buf);
            stack[sp++].end = stack[0].pos + root.len;
            bool same = w.ok;
            while (sp && same) {
                if (stack[sp - 1].pos >= stack[sp - 1].end) {
                    sp--;
                    continue;
                }
                struct val v;
                size_t next = data_object(&w, stack[sp - 1].pos, stack[sp - 1].end, &v);
                stack[sp - 1].pos = next;
                if (v.kind == V_PKG && sp < 16) {
                    stack[sp].pos = (size_t)(v.p - buf);
                    stack[sp].end = stack[sp].pos + v.len;
                    sp++;
                } else if (v.kind == V_INT)
                    same = k < nints && ints[k++] == v.i;
                else
                    same = false;
            }
            CHECK(same && k == nints);
        }
        free(buf);
    }
}

/* ---- MP table ---- */
static struct mptable_config mp_config(unsigned ncpus)
{
    return (struct mptable_config){
        .ncpus = ncpus, .lapic_addr = FW_LAPIC_ADDR_DEFAULT, .lapic_version = MP_LAPIC_VERSION_P6,
        .cpu_signature = 0x000306A9, .cpu_features = 0x178BFBFF,
        .ioapic_addr = FW_IOAPIC_ADDR_DEFAULT, .ioapic_id = (uint8_t)ncpus, .sci_irq = SCI_IRQ,
    };
}

/* MP spec 4.1 and 4.2: find the floating pointer as Linux does (16-byte steps in the BIOS
 * ROM area), then check the configuration table. Returns the entry counts by type. */
static void check_mp(const struct mptable_config *c, unsigned counts[5], unsigned *pci_ints)
{
    const uint8_t *f = NULL;
    for (uint64_t gpa = MP_SCAN_BIOS_BASE; gpa < MP_SCAN_BIOS_END; gpa += 16)
        if (!memcmp(at(gpa), "_MP_", 4) && sum8(at(gpa), 16) == 0) {
            f = at(gpa);
            CHECK_EQ(gpa, MP_BASE);
            break;
        }
    CHECK(f);
    if (!f)
        return;
    CHECK_EQ(f[8], 1);                      /* length in paragraphs */
    CHECK_EQ(f[9], 4);                      /* spec 1.4 */
    CHECK_EQ(f[11], 0);                     /* a configuration table is present */
    CHECK_EQ(f[12] & 0x80, 0);              /* IMCRP clear: virtual wire */
    uint32_t ct_gpa = r32(f, 4);
    CHECK(in_bios(ct_gpa, 44));
    if (!in_bios(ct_gpa, 44))
        return;
    const uint8_t *h = at(ct_gpa);
    unsigned len = r16(h, 4);
    CHECK(!memcmp(h, "PCMP", 4));
    CHECK(in_bios(ct_gpa, len));
    CHECK_EQ(sum8(h, len), 0);
    CHECK_EQ(h[6], 4);
    CHECK(!memcmp(h + 8, "MONOVI  ", 8));
    CHECK_EQ(r32(h, 28), 0);                /* no OEM table */
    CHECK_EQ(r32(h, 36), c->lapic_addr);
    CHECK_EQ(r16(h, 40), 0);                /* no extended entries */
    CHECK_EQ(h[42], 0);
    unsigned n = r16(h, 34), last = 0;
    size_t o = 44;
    memset(counts, 0, 5 * sizeof(unsigned));
    *pci_ints = 0;
    bool isa_irq[16] = { false };
    for (unsigned i = 0; i < n; i++) {
        CHECK(o < len);
        if (o >= len)
            return;
        unsigned type = h[o], size = type == 0 ? 20 : 8;
        CHECK(type <= 4);
        CHECK(type >= last);                /* sorted by type (4.3) */
        last = type;
        if (type > 4)
            return;
        counts[type]++;
        const uint8_t *e = h + o;
        switch (type) {
        case 0:
            CHECK_EQ(e[1], counts[0] - 1);  /* LAPIC ID */
            CHECK_EQ(e[2], c->lapic_version);
            CHECK_EQ(e[3] & 1, 1);          /* enabled */
            CHECK_EQ(!!(e[3] & 2), counts[0] == 1);     /* BSP: CPU 0 only */
            CHECK_EQ(r32(e, 4), c->cpu_signature);
            CHECK_EQ(r32(e, 8), c->cpu_features);
            break;
        case 1:
            CHECK(!memcmp(e + 2, e[1] == 0 ? "PCI   " : "ISA   ", 6));
            CHECK(e[1] <= 1);
            break;
        case 2:
            CHECK_EQ(e[1], c->ioapic_id);
            CHECK_EQ(e[2], 0x11);
            CHECK_EQ(e[3] & 1, 1);
            CHECK_EQ(r32(e, 4), c->ioapic_addr);
            break;
        case 3:
            CHECK_EQ(e[1], 0);              /* INT */
            CHECK_EQ(e[6], c->ioapic_id);
            if (e[4] == 1) {                /* ISA */
                unsigned irq = e[5];
                CHECK(irq < 16 && irq != 2 && !isa_irq[irq]);
                if (irq < 16)
                    isa_irq[irq] = true;
                CHECK_EQ(e[7], irq == 0 ? 2 : irq);
                CHECK_EQ(r16(e, 2), irq == c->sci_irq ? 0xD : 0);
            } else {                        /* PCI: slot 6:2, pin 1:0; level, active low */
                CHECK_EQ(e[4], 0);
                unsigned slot = e[5] >> 2, pin = e[5] & 3;
                CHECK_EQ(e[7], 16 + ((slot + pin) & 3));
                CHECK_EQ(r16(e, 2), 0xF);
                CHECK(!c->pci_slots || (c->pci_slots >> slot & 1));
                (*pci_ints)++;
            }
            break;
        case 4:
            CHECK_EQ(e[1], counts[4] == 1 ? 3 : 1);     /* ExtINT first, then NMI */
            CHECK_EQ(e[6], 0xFF);                       /* all local APICs */
            CHECK_EQ(e[7], counts[4] == 1 ? 0 : 1);     /* LINT0, LINT1 */
            break;
        }
        o += size;
    }
    CHECK_EQ(o, len);
}

TEST(mptable_one_and_four_cpus)
{
    for (unsigned ncpus = 1; ncpus <= 4; ncpus += 3) {
        struct mptable_config c = mp_config(ncpus);
        memset(bios, 0, sizeof(bios));
        size_t n = mptable_build(&c, MP_BASE, bios + (MP_BASE - BIOS_BASE), BIOS_BASE + BIOS_SIZE - MP_BASE);
        CHECK(n > 0);
        unsigned counts[5], pci;
        check_mp(&c, counts, &pci);
        CHECK_EQ(counts[0], ncpus);
        CHECK_EQ(counts[1], 2);
        CHECK_EQ(counts[2], 1);
        CHECK_EQ(counts[3], 15 + 32 * 4);
        CHECK_EQ(pci, 32 * 4);
        CHECK_EQ(counts[4], 2);
        CHECK_EQ(n, 16 + 44 + 20 * ncpus + 8 * (2 + 1 + 15 + 128 + 2));
    }
}

TEST(mptable_named_slots_and_bad_input)
{
    struct mptable_config c = mp_config(2);
    c.pci_slots = (1u << 1) | (1u << 3) | (1u << 31);
    memset(bios, 0, sizeof(bios));
    size_t n = mptable_build(&c, MP_BASE, bios + (MP_BASE - BIOS_BASE), 0x10000);
    CHECK(n > 0);
    unsigned counts[5], pci;
    check_mp(&c, counts, &pci);
    CHECK_EQ(pci, 12);
    static uint8_t buf[4096];
    CHECK_EQ(mptable_build(&c, MP_BASE, buf, n - 1), 0);
    CHECK_EQ(mptable_build(&c, MP_BASE + 4, buf, sizeof(buf)), 0);
    c.ncpus = 0;
    CHECK_EQ(mptable_build(&c, MP_BASE, buf, sizeof(buf)), 0);
    c = mp_config(2);
    c.lapic_addr = 0;
    CHECK_EQ(mptable_build(&c, MP_BASE, buf, sizeof(buf)), 0);
}

TEST(mptable_fuzz)
{
    for (unsigned iter = 0; iter < 500; iter++) {
        struct mptable_config c = {
            .ncpus = (unsigned)(xorshift() % 300), .lapic_addr = (uint32_t)xorshift(),
            .lapic_version = (uint8_t)xorshift(), .cpu_signature = (uint32_t)xorshift(),
            .cpu_features = (uint32_t)xorshift(), .ioapic_addr = (uint32_t)xorshift(),
            .ioapic_id = (uint8_t)xorshift(), .sci_irq = (uint8_t)(xorshift() % 20),
            .pci_slots = (uint32_t)xorshift(),
        };
        size_t cap = xorshift() % 8192;
        uint64_t base = xorshift() & 1 ? MP_BASE : xorshift() & 0x1FFFFFFFFull;
        uint8_t *buf = malloc(cap ? cap : 1);
        size_t n = mptable_build(&c, base, buf, cap);
        CHECK(n <= cap);
        if (n) {
            CHECK_EQ(sum8(buf, 16), 0);
            CHECK_EQ(r32(buf, 4), base + 16);
            unsigned len = r16(buf, 16 + 4);
            CHECK_EQ(16 + len, n);
            CHECK_EQ(sum8(buf + 16, len), 0);
        }
        free(buf);
    }
}

/* ---- the tables as files, for iasl ---- */
static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f);
    if (!f)
        return;
    CHECK_EQ(fwrite(p, 1, n, f), n);
    fclose(f);
}

TEST(acpi_tables_written_for_disassembly)
{
    char exe[PATH_MAX], dir[PATH_MAX];
    ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    CHECK(l > 0);
    if (l <= 0)
        return;
    exe[l] = 0;
    snprintf(dir, sizeof(dir), "%s/acpi", dirname(exe));    /* build/unit/acpi */
    mkdir(dir, 0755);
    build(4, NULL, NULL);
    struct tables tb;
    if (!find_tables(&tb))
        return;
    write_file(dir, "rsdp.dat", tb.rsdp, 36);
    write_file(dir, "rsdt.dat", tb.rsdt, r32(tb.rsdt, H_LENGTH));
    write_file(dir, "xsdt.dat", tb.xsdt, r32(tb.xsdt, H_LENGTH));
    write_file(dir, "facp.dat", tb.fadt, r32(tb.fadt, H_LENGTH));
    write_file(dir, "facs.dat", tb.facs, 64);
    write_file(dir, "apic.dat", tb.madt, r32(tb.madt, H_LENGTH));
    write_file(dir, "dsdt.dat", tb.dsdt, r32(tb.dsdt, H_LENGTH));
}
