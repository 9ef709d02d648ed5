/* triple_fault: loads an empty IDT (limit 0) and executes INT3. Vector 3 is outside the
 * IDT: #GP; vector 13 is outside it too: #DF; vector 8 as well: triple fault, the CPU
 * shuts down (QEMU with -no-reboot exits; a VMM gets a triple-fault VM exit).
 * Prints "TEST triple_fault TRIGGERING" first. */
#include "guest.h"

const char guest_name[] = "triple_fault";

void guest_main(void)
{
	struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) empty = { 0, 0 };
	printf("TEST triple_fault TRIGGERING\n");
	serial_flush();
	__asm__ volatile("lidt %0\n\tint3" : : "m"(empty) : "memory");
	report("triple_fault", false, "still running after INT3 with an empty IDT");
}
