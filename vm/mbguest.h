/* Loading a Multiboot1 guest kernel into guest memory, as a Multiboot loader would: from the
 * header's a.out-kludge address fields, or else from its ELF32/ELF64 program headers; then a
 * Multiboot information block (memory map of exactly the guest's RAM, command line, loader
 * name, modules) in low guest memory. Pure: all guest memory access is through guest_mem,
 * so a hostile image cannot make the loader write outside the VM. */
#ifndef MV_MBGUEST_H
#define MV_MBGUEST_H
#include "compiler.h"
#include "mm/guest_mem.h"

#define MBGUEST_MAX_MODULES  8
#define MBGUEST_INFO_GPA     0x7000u        /* info block, map and strings: 0x7000-0x8fff */
#define MBGUEST_LOW_LIMIT    0x1000u        /* nothing is loaded into the first page */
#define MBGUEST_LOADER_NAME  "monovisor"

struct mbguest_module {
    uint64_t start, end;                    /* guest-physical, placed by the caller */
    const char *cmdline;
};

struct mbguest_image {
    uint32_t entry;
    uint32_t load_start, load_end;          /* lowest and highest loaded guest-physical bytes */
};

/* Validates the image and copies it into guest memory. False with err set if the file is not
 * a Multiboot1 kernel, asks for what monovisor cannot give, or does not fit the VM. */
bool mbguest_load(struct guest_mem *gm, const uint8_t *img, size_t len, struct mbguest_image *out,
                  char *err, size_t errlen);

/* Writes the Multiboot information block; returns its guest-physical address (EBX). */
bool mbguest_write_info(struct guest_mem *gm, const char *cmdline, const struct mbguest_module *mods,
                        size_t nmods, uint32_t *info_gpa, char *err, size_t errlen);
#endif
