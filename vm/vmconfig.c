#include "vmconfig.h"
#include "lib.h"

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n >= VM_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && !memcmp(w, lit, n);
}

static const char *const drive_names[VM_DRIVE_POSITIONS] = {
    "-", "hda", "hdb", "hdc", "hdd", "vda", "vdb", "vdc", "vdd",
};

/* One NIC of nic=: MODEL[:event|:pollN]. */
static bool parse_nic(const char *s, size_t n, struct vm_nic_config *nic)
{
    const char *colon = memchr(s, ':', n);
    size_t mlen = colon ? (size_t)(colon - s) : n;
    if (word_is(s, mlen, "e1000")) nic->model = VM_NIC_E1000;
    else if (word_is(s, mlen, "virtio")) nic->model = VM_NIC_VIRTIO;
    else return false;
    nic->poll_ms = 0;
    if (!colon)
        return true;
    const char *mode = colon + 1;
    size_t rest = n - mlen - 1;
    if (word_is(mode, rest, "event"))
        return true;
    if (rest < 5 || rest > 8 || memcmp(mode, "poll", 4))
        return false;
    unsigned ms = 0;
    for (size_t i = 4; i < rest; i++) {
        if (mode[i] < '0' || mode[i] > '9')
            return false;
        ms = ms * 10 + (unsigned)(mode[i] - '0');
    }
    if (ms < 1 || ms > VM_NIC_POLL_MAX_MS)
        return false;
    nic->poll_ms = (uint16_t)ms;
    return true;
}

bool vmconfig_parse_nic(const char *spec, struct vm_nic_config *nic)
{
    return parse_nic(spec, strlen(spec), nic);
}

#define ERR(...) do { ksnprintf(err, errlen, __VA_ARGS__); return VMCFG_ERROR; } while (0)

enum vmcfg_type vmconfig_parse(const char *line, struct vm_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->kind = VM_KIND_MULTIBOOT;
    cfg->mmu = VM_MMU_SHADOW;
    cfg->mem = VM_MEM_DEFAULT;
    cfg->autostart = true;
    enum vmcfg_type type = VMCFG_NONE;
    bool saw_opts = false, saw_media = false;
    const char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - w);
        if (word_is(w, n, "--")) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (kstrnlen(p, VM_CMDLINE_MAX) == VM_CMDLINE_MAX)
                ERR("command line after -- is longer than %d bytes", VM_CMDLINE_MAX - 1);
            kstrlcpy(cfg->cmdline, p, sizeof(cfg->cmdline));
            break;
        }
        const char *eq = memchr(w, '=', n);
        if (!eq)
            continue;                   /* a path or other plain word */
        size_t klen = (size_t)(eq - w), vlen = n - klen - 1;
        const char *v = eq + 1;
        char val[64];
        if (vlen >= sizeof(val))
            ERR("value of '%.*s' is too long", (int)klen, w);
        memcpy(val, v, vlen);
        val[vlen] = '\0';

        if (word_is(w, klen, "vm") || word_is(w, klen, "attach")) {
            if (type != VMCFG_NONE)
                ERR("only one vm= or attach= per module");
            if (!valid_name(v, vlen))
                ERR("bad VM name '%s' (1-%d of [A-Za-z0-9._-])", val, VM_NAME_MAX - 1);
            memcpy(cfg->name, v, vlen);
            type = word_is(w, klen, "vm") ? VMCFG_VM : VMCFG_ATTACH;
        } else if (word_is(w, klen, "kind")) {
            saw_opts = true;
            if (!strcmp(val, "multiboot")) cfg->kind = VM_KIND_MULTIBOOT;
            else if (!strcmp(val, "linux")) cfg->kind = VM_KIND_LINUX;
            else ERR("unknown kind '%s' (multiboot, linux)", val);
        } else if (word_is(w, klen, "mem")) {
            saw_opts = true;
            uint64_t m;
            if (!kparse_u64(val, &m))
                ERR("bad memory size '%s'", val);
            if (m < VM_MEM_MIN || m > VM_MEM_MAX)
                ERR("memory size %s out of range (%lluM-%lluM)", val,
                    (unsigned long long)(VM_MEM_MIN >> 20), (unsigned long long)(VM_MEM_MAX >> 20));
            cfg->mem = m;
        } else if (word_is(w, klen, "mmu")) {
            saw_opts = true;
            if (!strcmp(val, "shadow")) cfg->mmu = VM_MMU_SHADOW;
            else if (!strcmp(val, "ept")) cfg->mmu = VM_MMU_EPT;
            else ERR("unknown mmu '%s' (shadow, ept)", val);
        } else if (word_is(w, klen, "autostart")) {
            saw_opts = true;
            if (!strcmp(val, "yes")) cfg->autostart = true;
            else if (!strcmp(val, "no")) cfg->autostart = false;
            else ERR("autostart must be yes or no, not '%s'", val);
        } else if (word_is(w, klen, "diskio")) {
            saw_opts = true;
            if (!strcmp(val, "concurrent")) cfg->diskio = VM_DISKIO_CONCURRENT;
            else if (!strcmp(val, "sync")) cfg->diskio = VM_DISKIO_SYNC;
            else ERR("unknown diskio '%s' (concurrent, sync)", val);
        } else if (word_is(w, klen, "disktime")) {
            saw_opts = true;
            if (!strcmp(val, "none")) cfg->disktime = VM_DISKTIME_NONE;
            else if (!strcmp(val, "hdd2006")) cfg->disktime = VM_DISKTIME_HDD2006;
            else ERR("unknown disktime '%s' (none, hdd2006)", val);
        } else if (word_is(w, klen, "nic")) {
            saw_opts = true;
            cfg->nnics = 0;
            memset(cfg->nic, 0, sizeof(cfg->nic));
            if (strcmp(val, "none")) {
                for (const char *q = val;;) {
                    const char *c = strchr(q, ',');
                    size_t len = c ? (size_t)(c - q) : strlen(q);
                    if (cfg->nnics == VM_NICS)
                        ERR("at most %d NICs", VM_NICS);
                    if (!parse_nic(q, len, &cfg->nic[cfg->nnics]))
                        ERR("bad NIC '%.*s' (e1000 or virtio, then :event or :poll1-:poll%d)", (int)len, q,
                            VM_NIC_POLL_MAX_MS);
                    cfg->nnics++;
                    if (!c)
                        break;
                    q = c + 1;
                }
            }
        } else if (word_is(w, klen, "drive")) {
            cfg->drive = VM_DRIVE_NONE;
            for (unsigned d = VM_DRIVE_HDA; d < VM_DRIVE_POSITIONS; d++)
                if (!strcmp(val, drive_names[d]))
                    cfg->drive = (enum vm_drive_pos)d;
            if (cfg->drive == VM_DRIVE_NONE)
                ERR("unknown drive '%s' (hda-hdd, vda-vdd)", val);
        } else if (word_is(w, klen, "media")) {
            saw_media = true;
            if (!strcmp(val, "disk")) cfg->cdrom = false;
            else if (!strcmp(val, "cdrom")) cfg->cdrom = true;
            else ERR("unknown media '%s' (disk, cdrom)", val);
        } else if (type != VMCFG_NONE) {
            ERR("unknown option '%.*s'", (int)klen, w);
        }
        /* key=value words before vm=/attach= belong to something else (e.g. a path). */
    }
    if (type == VMCFG_ATTACH && saw_opts)
        ERR("attach= takes no VM options (only drive=, media= or -- MODULE CMDLINE)");
    if (type == VMCFG_VM && (cfg->drive != VM_DRIVE_NONE || saw_media))
        ERR("drive= and media= belong on an attach= module");
    if (saw_media && cfg->drive == VM_DRIVE_NONE)
        ERR("media= needs drive=");
    if (cfg->cdrom && cfg->drive >= VM_DRIVE_VIRTIO_FIRST)
        ERR("a cdrom is an IDE drive (hda-hdd), not %s", drive_names[cfg->drive]);
    return type;
}

const char *vm_kind_name(enum vm_kind k) { return k == VM_KIND_LINUX ? "linux" : "multiboot"; }
const char *vm_mmu_name(enum vm_mmu m) { return m == VM_MMU_EPT ? "ept" : "shadow"; }
const char *vm_drive_name(enum vm_drive_pos d) { return (unsigned)d < VM_DRIVE_POSITIONS ? drive_names[d] : "?"; }
const char *vm_diskio_name(enum vm_diskio d) { return d == VM_DISKIO_SYNC ? "sync" : "concurrent"; }
const char *vm_disktime_name(enum vm_disktime t) { return t == VM_DISKTIME_HDD2006 ? "hdd2006" : "none"; }
const char *vm_nic_model_name(enum vm_nic_model m)
{
    return m == VM_NIC_E1000 ? "e1000" : m == VM_NIC_VIRTIO ? "virtio" : "-";
}
