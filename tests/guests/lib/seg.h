/* GDT selectors of the guest runtime (lib/entry.S); usable from C and assembly. */
#ifndef GUEST_SEG_H
#define GUEST_SEG_H
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10
#define SEL_CODE64 0x18
#define SEL_DATA2 0x20
#define SEL_NOTPRESENT 0x28
#define GDT_ENTRIES 6
#endif
