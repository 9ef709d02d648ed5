/* hlt_noirq: CLI; HLT with nothing that could wake the CPU (IF=0: maskable interrupts do
 * not end HLT). It never returns: natively the machine stays halted for good, and a VMM
 * must park the vCPU and stay alive. If HLT does return, the test fails.
 * Prints "TEST hlt_noirq WAITING" just before the HLT. */
#include "guest.h"

const char guest_name[] = "hlt_noirq";

void guest_main(void)
{
	printf("TEST hlt_noirq WAITING\n");
	serial_flush();
	__asm__ volatile("cli\n\thlt" : : : "memory");
	report("hlt_noirq", false, "HLT with IF=0 and nothing pending returned");
}
