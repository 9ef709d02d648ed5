/* Fixed layout constants shared between C and include/layout.inc (keep in sync). */
#ifndef MV_LAYOUT_H
#define MV_LAYOUT_H
#define SEL_KCODE       0x08
#define SEL_KDATA       0x10
#define SEL_TSS         0x18
#define BOOT_STACK_SIZE 0x8000
#define PAGE_SIZE       4096ull
#define PAGE_SHIFT      12
#define LARGE_PAGE_SIZE (2ull << 20)
#define ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#endif
