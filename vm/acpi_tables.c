/* ACPI tables for a VM: section numbers are the ACPI 6.0 specification's. Every table is
 * laid out by byte offset with explicit little-endian stores, never by casting a struct onto
 * guest memory, so the layout is the spec's whatever the compiler does. */
#include "vm/acpi_tables.h"
#include "dev/acpi_pm.h"
#include "dev/acpi_pmtimer.h"
#include "dev/sysreset.h"
#include "dev/mc146818.h"
#include "dev/i8042.h"
#include "dev/ns16550.h"
#include "dev/pci.h"
#include "vm/pc_platform.h"
#include "lib.h"

/* ---- AML encoding (chapter 20) ---- */
#define AML_ZERO_OP         0x00
#define AML_ONE_OP          0x01
#define AML_NAME_OP         0x08
#define AML_BYTE_PREFIX     0x0A
#define AML_WORD_PREFIX     0x0B
#define AML_DWORD_PREFIX    0x0C
#define AML_STRING_PREFIX   0x0D
#define AML_QWORD_PREFIX    0x0E
#define AML_SCOPE_OP        0x10
#define AML_BUFFER_OP       0x11
#define AML_PACKAGE_OP      0x12
#define AML_METHOD_OP       0x14
#define AML_DUAL_NAME       0x2E
#define AML_MULTI_NAME      0x2F
#define AML_EXT_OP          0x5B
#define AML_EXT_DEVICE_OP   0x82
#define AML_ROOT_CHAR       '\\'
#define AML_PARENT_CHAR     '^'
#define AML_NULL_NAME       0x00
#define AML_ARG0_OP         0x68
#define AML_STORE_OP        0x70
#define AML_NAMESEG_LEN     4
#define AML_MAX_SEGS        255
#define AML_METHOD_ARGS_MASK 0x07   /* MethodFlags 2:0; bit 3 = serialized, 7:4 = sync level */

/* PkgLength (20.2.4): one byte holds up to 63; otherwise bits 7:6 of the lead byte count the
 * bytes that follow, its bits 3:0 are the low nibble and each following byte 8 more bits. */
#define PKGLEN_1BYTE_MAX    0x3Fu
#define PKGLEN_MAX_BYTES    4
#define PKGLEN_COUNT_SHIFT  6
#define PKGLEN_LOW_MASK     0x0Fu
#define PKGLEN_LOW_BITS     4
#define PKGLEN_MAX          0x0FFFFFFFu     /* 28 bits */

/* Compressed EISA ID: three letters of 5 bits ('A' = 1) and four hex digits, stored MSB first. */
#define EISAID_LEN          7
#define EISAID_LETTERS      3
#define EISAID_LETTER_BITS  5
#define EISAID_LETTER_BASE  ('A' - 1)
#define EISAID_PRODUCT_BITS 16
#define NIBBLE_BITS         4

#define BYTE_BITS           8
#define BYTE_MASK           0xFFu

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
    *a = (struct aml){ .buf = buf, .cap = cap };
}

static bool room(struct aml *a, size_t n)
{
    if (!a->error && (n > a->cap || a->len > a->cap - n))
        a->error = true;
    return !a->error;
}

void aml_byte(struct aml *a, uint8_t b)
{
    if (room(a, 1))
        a->buf[a->len++] = b;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
    if (room(a, n)) {
        memcpy(a->buf + a->len, p, n);
        a->len += n;
    }
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        aml_byte(a, (uint8_t)(v >> (i * BYTE_BITS)));
}

size_t aml_open(const struct aml *a) { return a->len; }

void aml_close(struct aml *a, size_t mark)
{
    if (a->error || mark > a->len)
        return;
    size_t body = a->len - mark;
    unsigned n;
    if (body + 1 <= PKGLEN_1BYTE_MAX)
        n = 1;
    else if (body + 2 < BIT(PKGLEN_LOW_BITS + BYTE_BITS))
        n = 2;
    else if (body + 3 < BIT(PKGLEN_LOW_BITS + 2 * BYTE_BITS))
        n = 3;
    else if (body + PKGLEN_MAX_BYTES <= PKGLEN_MAX)
        n = PKGLEN_MAX_BYTES;
    else {
        a->error = true;
        return;
    }
    if (!room(a, n))
        return;
    memmove(a->buf + mark + n, a->buf + mark, body);
    a->len += n;
    size_t total = body + n;
    if (n == 1) {
        a->buf[mark] = (uint8_t)total;
        return;
    }
    a->buf[mark] = (uint8_t)((n - 1) << PKGLEN_COUNT_SHIFT | (total & PKGLEN_LOW_MASK));
    for (unsigned i = 1; i < n; i++)
        a->buf[mark + i] = (uint8_t)(total >> (PKGLEN_LOW_BITS + (i - 1) * BYTE_BITS));
}

static bool seg_char(char ch, bool lead)
{
    return (ch >= 'A' && ch <= 'Z') || ch == '_' || (!lead && ch >= '0' && ch <= '9');
}

void aml_namestring(struct aml *a, const char *path)
{
    const char *p = path;
    if (*p == AML_ROOT_CHAR)
        aml_byte(a, (uint8_t)*p++);
    else
        while (*p == AML_PARENT_CHAR)
            aml_byte(a, (uint8_t)*p++);
    unsigned nsegs = *p ? 1 : 0;        /* one more than the dots: "A." is malformed */
    for (const char *q = p; *q; q++)
        if (*q == '.')
            nsegs++;
    if (nsegs == 0) {
        aml_byte(a, AML_NULL_NAME);
        return;
    }
    if (nsegs > AML_MAX_SEGS) {
        a->error = true;
        return;
    }
    if (nsegs == 2)
        aml_byte(a, AML_DUAL_NAME);
    else if (nsegs > 2) {
        aml_byte(a, AML_MULTI_NAME);
        aml_byte(a, (uint8_t)nsegs);
    }
    for (unsigned s = 0; s < nsegs; s++) {
        char seg[AML_NAMESEG_LEN];
        unsigned n = 0;
        for (; *p && *p != '.'; p++, n++) {
            if (n == AML_NAMESEG_LEN || !seg_char(*p, n == 0)) {
                a->error = true;
                return;
            }
            seg[n] = *p;
        }
        if (n == 0) {                   /* "A..B" or a trailing '.' */
            a->error = true;
            return;
        }
        for (; n < AML_NAMESEG_LEN; n++)
            seg[n] = '_';
        aml_bytes(a, seg, AML_NAMESEG_LEN);
        if (*p == '.')
            p++;
    }
}

void aml_integer(struct aml *a, uint64_t v)
{
    if (v == 0)
        aml_byte(a, AML_ZERO_OP);
    else if (v == 1)
        aml_byte(a, AML_ONE_OP);
    else if (v <= UINT8_MAX) {
        aml_byte(a, AML_BYTE_PREFIX);
        aml_le(a, v, sizeof(uint8_t));
    } else if (v <= UINT16_MAX) {
        aml_byte(a, AML_WORD_PREFIX);
        aml_le(a, v, sizeof(uint16_t));
    } else if (v <= UINT32_MAX) {
        aml_byte(a, AML_DWORD_PREFIX);
        aml_le(a, v, sizeof(uint32_t));
    } else {
        aml_byte(a, AML_QWORD_PREFIX);
        aml_le(a, v, sizeof(uint64_t));
    }
}

void aml_string(struct aml *a, const char *s)
{
    aml_byte(a, AML_STRING_PREFIX);
    for (; *s; s++) {
        if ((uint8_t)*s > INT8_MAX) {   /* AsciiCharList: 0x01-0x7F */
            a->error = true;
            return;
        }
        aml_byte(a, (uint8_t)*s);
    }
    aml_byte(a, 0);
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

uint32_t aml_eisaid_value(const char *id)
{
    if (strlen(id) != EISAID_LEN)
        return 0;
    uint32_t v = 0;
    for (unsigned i = 0; i < EISAID_LETTERS; i++) {
        if (id[i] < 'A' || id[i] > 'Z')
            return 0;
        v = v << EISAID_LETTER_BITS | (uint32_t)(id[i] - EISAID_LETTER_BASE);
    }
    for (unsigned i = EISAID_LETTERS; i < EISAID_LEN; i++) {
        int d = hex_digit(id[i]);
        if (d < 0)
            return 0;
        v = v << NIBBLE_BITS | (uint32_t)d;
    }
    return v;   /* bit 31 is 0: 15 letter bits and 16 product bits */
}

void aml_eisaid(struct aml *a, const char *id)
{
    uint32_t v = aml_eisaid_value(id);
    if (!v) {
        a->error = true;
        return;
    }
    aml_byte(a, AML_DWORD_PREFIX);
    for (int shift = 3 * BYTE_BITS; shift >= 0; shift -= BYTE_BITS)  /* most significant first */
        aml_byte(a, (uint8_t)(v >> shift));
}

void aml_buffer(struct aml *a, const uint8_t *data, size_t len)
{
    aml_byte(a, AML_BUFFER_OP);
    size_t m = aml_open(a);
    aml_integer(a, len);
    aml_bytes(a, data, len);
    aml_close(a, m);
}

/* ---- AML terms the DSDT is made of ---- */
static void name_op(struct aml *a, const char *name)
{
    aml_byte(a, AML_NAME_OP);
    aml_namestring(a, name);
}

static void name_int(struct aml *a, const char *name, uint64_t v)
{
    name_op(a, name);
    aml_integer(a, v);
}

static void name_eisaid(struct aml *a, const char *name, const char *id)
{
    name_op(a, name);
    aml_eisaid(a, id);
}

static size_t scope_open(struct aml *a, const char *name)
{
    aml_byte(a, AML_SCOPE_OP);
    size_t m = aml_open(a);
    aml_namestring(a, name);
    return m;
}

static size_t device_open(struct aml *a, const char *name)
{
    aml_byte(a, AML_EXT_OP);
    aml_byte(a, AML_EXT_DEVICE_OP);
    size_t m = aml_open(a);
    aml_namestring(a, name);
    return m;
}

/* Package(n) { ... }: the caller emits n elements, then aml_close. */
static size_t package_open(struct aml *a, uint8_t nelems)
{
    aml_byte(a, AML_PACKAGE_OP);
    size_t m = aml_open(a);
    aml_byte(a, nelems);
    return m;
}

static size_t method_open(struct aml *a, const char *name, unsigned nargs)
{
    aml_byte(a, AML_METHOD_OP);
    size_t m = aml_open(a);
    aml_namestring(a, name);
    aml_byte(a, (uint8_t)(nargs & AML_METHOD_ARGS_MASK));   /* not serialized, sync level 0 */
    return m;
}

/* ---- Resource descriptors for _CRS (6.4) ---- */
#define RES_MAX             160
#define RES_IO              0x47    /* small I/O port descriptor, 7 bytes of data */
#define RES_IO_DECODE16     0x01
#define RES_IO_ALIGN        1       /* _ALN: a fixed range has nothing to align */
#define RES_IRQ_NOFLAGS     0x22    /* small IRQ descriptor, 2 bytes: edge, active high */
#define RES_END_TAG         0x79
#define RES_END_CHECKSUM_OK 0x00    /* 0: "the checksum is correct" (6.4.2.9) */
#define RES_WORD_ADDR       0x88    /* large Word Address Space descriptor */
#define RES_DWORD_ADDR      0x87
#define RES_WORD_ADDR_LEN   13      /* bytes after the length field */
#define RES_DWORD_ADDR_LEN  23
#define RES_TYPE_MEMORY     0
#define RES_TYPE_IO         1
#define RES_TYPE_BUS        2
#define RES_GEN_PRODUCER    0x00    /* bit 0 = 0: produces the range for its children */
#define RES_GEN_MIN_FIXED   0x04
#define RES_GEN_MAX_FIXED   0x08
#define RES_GEN_WINDOW      (RES_GEN_PRODUCER | RES_GEN_MIN_FIXED | RES_GEN_MAX_FIXED)
#define RES_IO_ENTIRE_RANGE 0x03    /* _RNG: ISA and non-ISA ranges */
#define RES_MEM_RW          0x01    /* _RW; _MEM bits 2:1 = 0: non-cacheable */
#define RES_BUS_FLAGS       0x00

static void res_io(struct aml *r, uint16_t port, uint8_t len)
{
    aml_byte(r, RES_IO);
    aml_byte(r, RES_IO_DECODE16);
    aml_le(r, port, sizeof(uint16_t));  /* _MIN */
    aml_le(r, port, sizeof(uint16_t));  /* _MAX: a fixed location */
    aml_byte(r, RES_IO_ALIGN);
    aml_byte(r, len);
}

static void res_irq(struct aml *r, unsigned irq)
{
    aml_byte(r, RES_IRQ_NOFLAGS);
    aml_le(r, BIT(irq), sizeof(uint16_t));
}

static void res_addr(struct aml *r, uint8_t tag, unsigned width, uint8_t type, uint8_t type_flags,
                     uint32_t min, uint32_t max)
{
    aml_byte(r, tag);
    aml_le(r, tag == RES_WORD_ADDR ? RES_WORD_ADDR_LEN : RES_DWORD_ADDR_LEN, sizeof(uint16_t));
    aml_byte(r, type);
    aml_byte(r, RES_GEN_WINDOW);
    aml_byte(r, type_flags);
    aml_le(r, 0, width);                /* _GRA */
    aml_le(r, min, width);
    aml_le(r, max, width);
    aml_le(r, 0, width);                /* _TRA: no translation */
    aml_le(r, (uint64_t)max - min + 1, width);
}

/* Name(name, ResourceTemplate() { what r holds, EndTag }). */
static void name_crs(struct aml *a, const char *name, struct aml *r)
{
    aml_byte(r, RES_END_TAG);
    aml_byte(r, RES_END_CHECKSUM_OK);
    if (r->error)
        a->error = true;
    name_op(a, name);
    aml_buffer(a, r->buf, r->len);
}

/* ---- The DSDT's devices ---- */
#define PNP_PCI_HOST        "PNP0A03"
#define PNP_RTC             "PNP0B00"
#define PNP_KBD             "PNP0303"
#define PNP_MOUSE           "PNP0F13"
#define PNP_UART            "PNP0501"
#define HID_PROCESSOR       "ACPI0007"
#define PCI_BUS_MAX         0xFF
#define PCI_IO_LOW_MAX      (PCI_CONFIG_ADDRESS_PORT - 1)
#define PCI_CONFIG_PORTS    8           /* 0xCF8-0xCFF: the bridge's own */
#define PCI_IO_HIGH_MIN     0x0D00
#define PCI_IO_MAX          (PCI_IO_SPACE_SIZE - 1)
#define VGA_MEM_BASE        0xA0000u
#define VGA_MEM_LIMIT       0xBFFFFu
#define PRT_ADDR_ANY_FN     0xFFFFu     /* _PRT address: (slot << 16) | 0xFFFF, any function */
#define PRT_SLOT_SHIFT      16
#define PRT_FIRST_SLOT      1           /* slot 0 is the host bridge: no INTx */
#define PRT_ENTRIES         ((FW_PCI_SLOTS - PRT_FIRST_SLOT) * FW_PCI_PINS)
#define PRT_ENTRY_ELEMS     4           /* address, pin, source (0: GSI), GSI */
#define PCI_ADR_SHIFT       16          /* _ADR of a PCI function: device << 16 | function */
#define PCI_FN_MASK         (PCI_MAX_FUNCTIONS - 1)
#define RTC_PORTS           2           /* index and data */
#define I8042_PORT_LEN      1
#define COM1_UID            1
#define COM2_UID            2
#define S5_ELEMS            4           /* SLP_TYPa, SLP_TYPb, two reserved */
#define PIC_METHOD_ARGS     1
#define CPU_NAME_PREFIX     'C'         /* processor devices C000, C001, ... */
#define CPU_NAME_DIGITS     3
#define CPU_NAME_LEN        (1 + CPU_NAME_DIGITS + 1)
#define HEX_DIGITS          "0123456789ABCDEF"
#define NIBBLE_MASK         0xFu

STATIC_ASSERT(PRT_ENTRIES <= UINT8_MAX, "_PRT fits a PackageOp's NumElements");

static void name_package_prt(struct aml *a)
{
    name_op(a, "_PRT");
    size_t prt = package_open(a, PRT_ENTRIES);
    for (unsigned slot = PRT_FIRST_SLOT; slot < FW_PCI_SLOTS; slot++)
        for (unsigned pin = 0; pin < FW_PCI_PINS; pin++) {
            size_t e = package_open(a, PRT_ENTRY_ELEMS);
            aml_integer(a, (uint64_t)slot << PRT_SLOT_SHIFT | PRT_ADDR_ANY_FN);
            aml_integer(a, pin);
            aml_integer(a, 0);          /* no link device: the next element is a GSI */
            aml_integer(a, fw_pci_intx_gsi(slot, pin));
            aml_close(a, e);
        }
    aml_close(a, prt);
}

static void pci0_crs(struct aml *a, const struct acpi_config *c)
{
    uint8_t buf[RES_MAX];
    struct aml r;
    aml_init(&r, buf, sizeof(buf));
    res_addr(&r, RES_WORD_ADDR, sizeof(uint16_t), RES_TYPE_BUS, RES_BUS_FLAGS, 0, PCI_BUS_MAX);
    res_io(&r, PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_PORTS);
    res_addr(&r, RES_WORD_ADDR, sizeof(uint16_t), RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0, PCI_IO_LOW_MAX);
    res_addr(&r, RES_WORD_ADDR, sizeof(uint16_t), RES_TYPE_IO, RES_IO_ENTIRE_RANGE, PCI_IO_HIGH_MIN, PCI_IO_MAX);
    res_addr(&r, RES_DWORD_ADDR, sizeof(uint32_t), RES_TYPE_MEMORY, RES_MEM_RW, VGA_MEM_BASE, VGA_MEM_LIMIT);
    res_addr(&r, RES_DWORD_ADDR, sizeof(uint32_t), RES_TYPE_MEMORY, RES_MEM_RW, c->pci_mem_base, c->pci_mem_limit);
    name_crs(a, "_CRS", &r);
}

/* A legacy ISA device: _HID, optional _UID, and a _CRS of fixed ports and one IRQ. */
static void isa_device(struct aml *a, const char *name, const char *hid, int uid,
                       const uint16_t *ports, const uint8_t *lens, unsigned nports, unsigned irq)
{
    uint8_t buf[RES_MAX];
    struct aml r;
    aml_init(&r, buf, sizeof(buf));
    for (unsigned i = 0; i < nports; i++)
        res_io(&r, ports[i], lens[i]);
    res_irq(&r, irq);
    size_t d = device_open(a, name);
    name_eisaid(a, "_HID", hid);
    if (uid >= 0)
        name_int(a, "_UID", (uint64_t)uid);
    name_crs(a, "_CRS", &r);
    aml_close(a, d);
}

static void isa_bridge(struct aml *a)
{
    static const uint16_t rtc_ports[] = { RTC_PORT_INDEX };
    static const uint8_t rtc_lens[] = { RTC_PORTS };
    static const uint16_t kbd_ports[] = { I8042_DATA_PORT, I8042_CMD_PORT };
    static const uint8_t kbd_lens[] = { I8042_PORT_LEN, I8042_PORT_LEN };
    static const uint16_t com1_ports[] = { PC_COM1_BASE }, com2_ports[] = { PC_COM2_BASE };
    static const uint8_t com_lens[] = { NS16550_NPORTS };

    size_t d = device_open(a, "ISA");
    name_int(a, "_ADR", PCI_DEV(PCI_ISA_BRIDGE_DEVFN) << PCI_ADR_SHIFT | (PCI_ISA_BRIDGE_DEVFN & PCI_FN_MASK));
    isa_device(a, "RTC", PNP_RTC, -1, rtc_ports, rtc_lens, ARRAY_SIZE(rtc_ports), PC_IRQ_RTC);
    isa_device(a, "KBD", PNP_KBD, -1, kbd_ports, kbd_lens, ARRAY_SIZE(kbd_ports), I8042_KBD_IRQ);
    isa_device(a, "MOU", PNP_MOUSE, -1, NULL, NULL, 0, I8042_AUX_IRQ);
    isa_device(a, "COM1", PNP_UART, COM1_UID, com1_ports, com_lens, ARRAY_SIZE(com1_ports), PC_IRQ_COM1);
    isa_device(a, "COM2", PNP_UART, COM2_UID, com2_ports, com_lens, ARRAY_SIZE(com2_ports), PC_IRQ_COM2);
    aml_close(a, d);
}

static void dsdt_body(struct aml *a, const struct acpi_config *c)
{
    /* \_S5_: the SLP_TYP values that make PM1_CNT power off (7.3.4.5). */
    name_op(a, "_S5");
    size_t s5 = package_open(a, S5_ELEMS);
    aml_integer(a, ACPI_SLP_TYP_S5);
    aml_integer(a, ACPI_SLP_TYP_S5);
    aml_integer(a, 0);
    aml_integer(a, 0);
    aml_close(a, s5);

    /* \_PIC(mode) (5.8.1): Linux tells the firmware it uses the IOAPIC. The _PRT is in APIC
     * form either way; the mode is kept where ASL could look at it. */
    name_int(a, "PICM", 0);
    size_t pic = method_open(a, "_PIC", PIC_METHOD_ARGS);
    aml_byte(a, AML_STORE_OP);
    aml_byte(a, AML_ARG0_OP);
    aml_namestring(a, "PICM");
    aml_close(a, pic);

    size_t sb = scope_open(a, "_SB");  /* at the root already: iasl too drops the '\\' */
    /* Processor devices (8.4): _UID is the MADT's ACPI processor UID. */
    for (unsigned i = 0; i < c->ncpus; i++) {
        char name[CPU_NAME_LEN] = { CPU_NAME_PREFIX };
        for (unsigned d = 0; d < CPU_NAME_DIGITS; d++)
            name[CPU_NAME_DIGITS - d] = HEX_DIGITS[(i >> (d * NIBBLE_BITS)) & NIBBLE_MASK];
        size_t cpu = device_open(a, name);
        name_op(a, "_HID");
        aml_string(a, HID_PROCESSOR);
        name_int(a, "_UID", i);
        aml_close(a, cpu);
    }
    size_t pci0 = device_open(a, "PCI0");
    /* No _ADR beside the _HID: 6.1 wants one or the other, and a root bridge is found by
     * its _HID, its bus by _BBN. */
    name_eisaid(a, "_HID", PNP_PCI_HOST);
    name_int(a, "_UID", 0);
    name_int(a, "_BBN", 0);
    pci0_crs(a, c);
    name_package_prt(a);
    isa_bridge(a);
    aml_close(a, pci0);
    aml_close(a, sb);
}

/* ---- Tables ---- */
#define OEM_ID              "MONOVI"
#define OEM_TABLE_ID        "MONOVISR"
#define OEM_REVISION        1
#define CREATOR_ID          "MNVS"
#define CREATOR_REVISION    1
#define TABLE_ALIGN         16
#define FACS_ALIGN          64          /* 5.2.10 */

/* System description table header (5.2.6). */
#define HDR_SIGNATURE       0
#define HDR_LENGTH          4
#define HDR_REVISION        8
#define HDR_CHECKSUM        9
#define HDR_OEM_ID          10
#define HDR_OEM_TABLE_ID    16
#define HDR_OEM_REVISION    24
#define HDR_CREATOR_ID      28
#define HDR_CREATOR_REV     32
#define HDR_SIZE            36
#define SIG_LEN             4
#define OEM_ID_LEN          6
#define OEM_TABLE_ID_LEN    8

/* RSDP (5.2.5.3). */
#define RSDP_SIGNATURE      "RSD PTR "
#define RSDP_SIG_LEN        8
#define RSDP_CHECKSUM       8
#define RSDP_OEM_ID         9
#define RSDP_REVISION       15
#define RSDP_RSDT           16
#define RSDP_LENGTH         20
#define RSDP_XSDT           24
#define RSDP_EXT_CHECKSUM   32
#define RSDP_V1_SIZE        20          /* what the first checksum covers */
#define RSDP_SIZE           36
#define RSDP_REV_ACPI2      2

#define RSDT_REVISION       1
#define XSDT_REVISION       1
#define RSDT_ENTRY          4
#define XSDT_ENTRY          8
#define SDT_ENTRIES         2           /* FADT, MADT */

/* FADT (5.2.9), revision 6 (ACPI 6.0). */
#define FADT_REVISION       6
#define FADT_MINOR_REVISION 0
#define FADT_SIZE           276
#define FADT_FIRMWARE_CTRL  36
#define FADT_DSDT           40
#define FADT_PM_PROFILE     45
#define FADT_SCI_INT        46
#define FADT_SMI_CMD        48
#define FADT_PM1A_EVT_BLK   56
#define FADT_PM1A_CNT_BLK   64
#define FADT_PM_TMR_BLK     76
#define FADT_PM1_EVT_LEN    88
#define FADT_PM1_CNT_LEN    89
#define FADT_PM_TMR_LEN     91
#define FADT_P_LVL2_LAT     96
#define FADT_P_LVL3_LAT     98
#define FADT_CENTURY        108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS          112
#define FADT_RESET_REG      116
#define FADT_RESET_VALUE    128
#define FADT_MINOR_VERSION  131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT         140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK   208

#define FADT_PROFILE_UNSPECIFIED 0
#define FADT_P_LVL2_NONE    101         /* > 100 us: no C2 */
#define FADT_P_LVL3_NONE    1001        /* > 1000 us: no C3 */
#define FADT_F_WBINVD       BIT(0)
#define FADT_F_PROC_C1      BIT(2)
#define FADT_F_PWR_BUTTON   BIT(4)      /* 1: control-method power button, or none */
#define FADT_F_SLP_BUTTON   BIT(5)      /* 1: control-method sleep button, or none */
#define FADT_F_RESET_REG_SUP BIT(10)
#define BOOT_ARCH_LEGACY_DEVICES BIT(0)
#define BOOT_ARCH_8042      BIT(1)
#define BOOT_ARCH_VGA_NOT_PRESENT BIT(2)
#define RESET_VALUE         (RESET_CTL_SYS_RST | RESET_CTL_RST_CPU)     /* 0x06 to 0xCF9 */

/* Generic Address Structure (5.2.3.2). */
#define GAS_SPACE           0
#define GAS_BIT_WIDTH       1
#define GAS_BIT_OFFSET      2
#define GAS_ACCESS_SIZE     3
#define GAS_ADDRESS         4
#define GAS_SYSTEM_IO       1
#define GAS_ACCESS_BYTE     1
#define GAS_ACCESS_WORD     2
#define GAS_ACCESS_DWORD    3

/* FACS (5.2.10). */
#define FACS_SIGNATURE      0
#define FACS_LENGTH         4
#define FACS_VERSION        32
#define FACS_SIZE           64
#define FACS_VERSION_ACPI6  2

/* MADT (5.2.12), revision 4 (ACPI 6.0). */
#define MADT_REVISION       4
#define MADT_LAPIC_ADDR     36
#define MADT_FLAGS          40
#define MADT_ENTRIES        44
#define MADT_PCAT_COMPAT    BIT(0)
#define MADT_TYPE_LAPIC     0
#define MADT_TYPE_IOAPIC    1
#define MADT_TYPE_ISO       2
#define MADT_TYPE_LAPIC_NMI 4
#define MADT_LAPIC_LEN      8
#define MADT_IOAPIC_LEN     12
#define MADT_ISO_LEN        10
#define MADT_LAPIC_NMI_LEN  6
#define MADT_LAPIC_ENABLED  BIT(0)
#define MADT_ISO_BUS_ISA    0
#define MADT_NMI_ALL_CPUS   0xFF
#define MADT_NMI_LINT       1
/* MPS INTI flags: polarity 1:0, trigger mode 3:2; 0 = conforms to the bus. */
#define INTI_CONFORMING     0x0
#define INTI_ACTIVE_HIGH    0x1
#define INTI_LEVEL          (0x3 << 2)

#define DSDT_REVISION       2           /* 64-bit integers */

static void put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (i * BYTE_BITS));
}

/* Reserves n zeroed bytes aligned to align (from the guest's point of view; base is 16-byte
 * aligned and every align here divides 64) and returns their offset, or SIZE_MAX. */
static size_t reserve(struct aml *a, size_t n, size_t align)
{
    size_t pad = (align - a->len % align) % align;
    if (!room(a, pad + n))
        return SIZE_MAX;
    memset(a->buf + a->len, 0, pad + n);
    a->len += pad;
    size_t off = a->len;
    a->len += n;
    return off;
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

static void header(uint8_t *t, const char *sig, uint8_t rev)
{
    memcpy(t + HDR_SIGNATURE, sig, SIG_LEN);
    t[HDR_REVISION] = rev;
    memcpy(t + HDR_OEM_ID, OEM_ID, OEM_ID_LEN);
    memcpy(t + HDR_OEM_TABLE_ID, OEM_TABLE_ID, OEM_TABLE_ID_LEN);
    put(t + HDR_OEM_REVISION, OEM_REVISION, sizeof(uint32_t));
    memcpy(t + HDR_CREATOR_ID, CREATOR_ID, SIG_LEN);
    put(t + HDR_CREATOR_REV, CREATOR_REVISION, sizeof(uint32_t));
}

/* The table at t is len bytes long: set its length and checksum. */
static void finish(uint8_t *t, size_t len)
{
    put(t + HDR_LENGTH, len, sizeof(uint32_t));
    t[HDR_CHECKSUM] = 0;
    t[HDR_CHECKSUM] = checksum(t, len);
}

static void gas_io(uint8_t *g, unsigned bytes, uint8_t access, uint16_t port)
{
    g[GAS_SPACE] = GAS_SYSTEM_IO;
    g[GAS_BIT_WIDTH] = (uint8_t)(bytes * BYTE_BITS);
    g[GAS_BIT_OFFSET] = 0;
    g[GAS_ACCESS_SIZE] = access;
    put(g + GAS_ADDRESS, port, sizeof(uint64_t));
}

static void build_fadt(uint8_t *t, const struct acpi_config *c, uint32_t facs, uint32_t dsdt)
{
    uint16_t evt = (uint16_t)(c->pm_base + ACPI_PM1_STS_OFF);
    uint16_t cnt = (uint16_t)(c->pm_base + ACPI_PM1_CNT_OFF);
    uint16_t tmr = (uint16_t)(c->pm_base + ACPI_PM_TMR_OFF);
    header(t, "FACP", FADT_REVISION);
    /* The FACS lies below 4 GiB: only FIRMWARE_CTRL, as 5.2.9 allows at most one of the two
     * to be non-zero. X_DSDT may repeat DSDT (the 64-bit field wins), and does. */
    put(t + FADT_FIRMWARE_CTRL, facs, sizeof(uint32_t));
    put(t + FADT_DSDT, dsdt, sizeof(uint32_t));
    put(t + FADT_X_DSDT, dsdt, sizeof(uint64_t));
    t[FADT_PM_PROFILE] = FADT_PROFILE_UNSPECIFIED;
    put(t + FADT_SCI_INT, c->sci_irq, sizeof(uint16_t));
    put(t + FADT_SMI_CMD, 0, sizeof(uint32_t));         /* no SMI port: always in ACPI mode */
    put(t + FADT_PM1A_EVT_BLK, evt, sizeof(uint32_t));
    put(t + FADT_PM1A_CNT_BLK, cnt, sizeof(uint32_t));
    put(t + FADT_PM_TMR_BLK, tmr, sizeof(uint32_t));
    t[FADT_PM1_EVT_LEN] = ACPI_PM1_EVT_LEN;
    t[FADT_PM1_CNT_LEN] = ACPI_PM1_CNT_LEN;
    t[FADT_PM_TMR_LEN] = ACPI_PM_TMR_LEN;
    /* No GPE blocks, no PM2 block: their addresses and lengths stay 0. */
    put(t + FADT_P_LVL2_LAT, FADT_P_LVL2_NONE, sizeof(uint16_t));
    put(t + FADT_P_LVL3_LAT, FADT_P_LVL3_NONE, sizeof(uint16_t));
    t[FADT_CENTURY] = CMOS_CENTURY;
    put(t + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 |
        (c->vga_present ? 0 : BOOT_ARCH_VGA_NOT_PRESENT), sizeof(uint16_t));
    /* TMR_VAL_EXT clear: the PM timer is 24 bits. */
    put(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP |
        (c->fixed_power_button ? 0 : FADT_F_PWR_BUTTON), sizeof(uint32_t));
    gas_io(t + FADT_RESET_REG, sizeof(uint8_t), GAS_ACCESS_BYTE, PORT_RESET_CTL);
    t[FADT_RESET_VALUE] = RESET_VALUE;
    t[FADT_MINOR_VERSION] = FADT_MINOR_REVISION;
    /* The X_ blocks say what the 32-bit fields and their lengths say. PM1_STS/PM1_EN and
     * PM1_CNT are 16-bit registers, the timer a 32-bit one. */
    gas_io(t + FADT_X_PM1A_EVT_BLK, ACPI_PM1_EVT_LEN, GAS_ACCESS_WORD, evt);
    gas_io(t + FADT_X_PM1A_CNT_BLK, ACPI_PM1_CNT_LEN, GAS_ACCESS_WORD, cnt);
    gas_io(t + FADT_X_PM_TMR_BLK, ACPI_PM_TMR_LEN, GAS_ACCESS_DWORD, tmr);
}

static void madt_iso(struct aml *a, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    aml_byte(a, MADT_TYPE_ISO);
    aml_byte(a, MADT_ISO_LEN);
    aml_byte(a, MADT_ISO_BUS_ISA);
    aml_byte(a, irq);
    aml_le(a, gsi, sizeof(uint32_t));
    aml_le(a, flags, sizeof(uint16_t));
}

/* Returns the MADT's offset, SIZE_MAX if it did not fit. */
static size_t build_madt(struct aml *a, const struct acpi_config *c)
{
    size_t off = reserve(a, MADT_ENTRIES, TABLE_ALIGN);
    if (off == SIZE_MAX)
        return off;
    header(a->buf + off, "APIC", MADT_REVISION);
    put(a->buf + off + MADT_LAPIC_ADDR, c->lapic_addr, sizeof(uint32_t));
    put(a->buf + off + MADT_FLAGS, MADT_PCAT_COMPAT, sizeof(uint32_t));  /* 8259s to be masked */
    for (unsigned i = 0; i < c->ncpus; i++) {
        aml_byte(a, MADT_TYPE_LAPIC);
        aml_byte(a, MADT_LAPIC_LEN);
        aml_byte(a, (uint8_t)i);        /* ACPI processor UID: the processor device's _UID */
        aml_byte(a, (uint8_t)i);        /* APIC ID */
        aml_le(a, MADT_LAPIC_ENABLED, sizeof(uint32_t));
    }
    aml_byte(a, MADT_TYPE_IOAPIC);
    aml_byte(a, MADT_IOAPIC_LEN);
    aml_byte(a, c->ioapic_id);
    aml_byte(a, 0);                     /* reserved */
    aml_le(a, c->ioapic_addr, sizeof(uint32_t));
    aml_le(a, 0, sizeof(uint32_t));     /* GSI base */
    madt_iso(a, FW_PIT_IRQ, FW_PIT_GSI, INTI_CONFORMING);
    madt_iso(a, c->sci_irq, c->sci_irq, INTI_LEVEL | INTI_ACTIVE_HIGH);
    aml_byte(a, MADT_TYPE_LAPIC_NMI);
    aml_byte(a, MADT_LAPIC_NMI_LEN);
    aml_byte(a, MADT_NMI_ALL_CPUS);
    aml_le(a, INTI_CONFORMING, sizeof(uint16_t));
    aml_byte(a, MADT_NMI_LINT);
    if (a->error)
        return SIZE_MAX;
    finish(a->buf + off, a->len - off);
    return off;
}

static bool config_ok(const struct acpi_config *c, uint64_t base)
{
    return c->ncpus >= 1 && c->ncpus <= ACPI_MAX_CPUS && base % ACPI_RSDP_ALIGN == 0 &&
           c->pm_base && (uint32_t)c->pm_base + ACPI_PM_TMR_OFF + ACPI_PM_TMR_LEN <= PCI_IO_SPACE_SIZE &&
           c->sci_irq < FW_ISA_IRQS && c->sci_irq != FW_PIT_IRQ && c->sci_irq != FW_CASCADE_IRQ &&
           c->pci_mem_base <= c->pci_mem_limit &&
           (uint64_t)c->pci_mem_limit - c->pci_mem_base < UINT32_MAX && base < BIT(32);
}

size_t acpi_build(const struct acpi_config *c, uint64_t base, uint8_t *buf, size_t cap)
{
    if (!config_ok(c, base))
        return 0;
    struct aml a;
    aml_init(&a, buf, cap);
    size_t rsdp = reserve(&a, RSDP_SIZE, ACPI_RSDP_ALIGN);
    size_t rsdt = reserve(&a, HDR_SIZE + SDT_ENTRIES * RSDT_ENTRY, TABLE_ALIGN);
    size_t xsdt = reserve(&a, HDR_SIZE + SDT_ENTRIES * XSDT_ENTRY, TABLE_ALIGN);
    size_t fadt = reserve(&a, FADT_SIZE, TABLE_ALIGN);
    size_t facs = reserve(&a, FACS_SIZE, FACS_ALIGN);
    size_t madt = build_madt(&a, c);
    size_t dsdt = reserve(&a, HDR_SIZE, TABLE_ALIGN);
    if (a.error)
        return 0;
    header(buf + dsdt, "DSDT", DSDT_REVISION);
    dsdt_body(&a, c);
    if (a.error || base + a.len > BIT(32))
        return 0;
    finish(buf + dsdt, a.len - dsdt);

    uint32_t gpa_facs = (uint32_t)(base + facs), gpa_dsdt = (uint32_t)(base + dsdt);
    uint32_t gpa_fadt = (uint32_t)(base + fadt), gpa_madt = (uint32_t)(base + madt);

    memcpy(buf + facs + FACS_SIGNATURE, "FACS", SIG_LEN);
    put(buf + facs + FACS_LENGTH, FACS_SIZE, sizeof(uint32_t));
    buf[facs + FACS_VERSION] = FACS_VERSION_ACPI6;  /* no checksum: the OS writes to it */

    build_fadt(buf + fadt, c, gpa_facs, gpa_dsdt);
    finish(buf + fadt, FADT_SIZE);

    header(buf + rsdt, "RSDT", RSDT_REVISION);
    put(buf + rsdt + HDR_SIZE, gpa_fadt, RSDT_ENTRY);
    put(buf + rsdt + HDR_SIZE + RSDT_ENTRY, gpa_madt, RSDT_ENTRY);
    finish(buf + rsdt, HDR_SIZE + SDT_ENTRIES * RSDT_ENTRY);

    header(buf + xsdt, "XSDT", XSDT_REVISION);
    put(buf + xsdt + HDR_SIZE, gpa_fadt, XSDT_ENTRY);
    put(buf + xsdt + HDR_SIZE + XSDT_ENTRY, gpa_madt, XSDT_ENTRY);
    finish(buf + xsdt, HDR_SIZE + SDT_ENTRIES * XSDT_ENTRY);

    uint8_t *p = buf + rsdp;
    memcpy(p, RSDP_SIGNATURE, RSDP_SIG_LEN);
    memcpy(p + RSDP_OEM_ID, OEM_ID, OEM_ID_LEN);
    p[RSDP_REVISION] = RSDP_REV_ACPI2;
    put(p + RSDP_RSDT, base + rsdt, sizeof(uint32_t));
    put(p + RSDP_LENGTH, RSDP_SIZE, sizeof(uint32_t));
    put(p + RSDP_XSDT, base + xsdt, sizeof(uint64_t));
    p[RSDP_CHECKSUM] = checksum(p, RSDP_V1_SIZE);
    p[RSDP_EXT_CHECKSUM] = checksum(p, RSDP_SIZE);
    return a.len;
}
