/* The VMM's memory: the host frame allocator and heap built from the boot memory map. */
#ifndef MV_MEMORY_H
#define MV_MEMORY_H
#include "pmm.h"
#include "heap.h"
#include "boot/bootinfo.h"

extern struct pmm host_pmm;
extern struct heap host_heap;

/* Builds the allocator; halts with a message if no usable memory is left. */
void memory_init(const struct boot_info *bi);
void *phys_to_virt(uint64_t pa);        /* identity map: pa must be below host_max_phys */
uint64_t virt_to_phys(const void *va);
extern uint64_t host_max_phys;
#endif
