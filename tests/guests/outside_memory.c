/* outside_memory: writes a magic value to guest-physical addresses well beyond the RAM the
 * loader reported (RAM end + 64 MiB, and 3 GiB) and reads it back. Nothing is there, so the
 * value must not stick (natively, QEMU's unassigned memory ignores writes). Paging is off,
 * so these are physical addresses. Inside monovisor the VMM stops the VM instead, at the
 * first access; the "probing" lines say which address that was. */
#include "guest.h"

const char guest_name[] = "outside_memory";

#define MAGIC 0x5aa5f00du

void guest_main(void)
{
	if (!ram_end) {
		report("outside_memory", false, "no memory information from the loader");
		return;
	}
	const u32 addrs[] = { ram_end + (64u << 20), 0xc0000000u };
	bool ok = true;
	char why[96] = "";
	for (unsigned i = 0; i < ARRAY_SIZE(addrs); i++) {
		u32 a = addrs[i];
		if (a < ram_end || a - ram_end < (16u << 20)) {
			printf("  outside_memory: 0x%08x is not far enough above RAM end 0x%08x; "
			       "skipped\n", a, ram_end);
			continue;
		}
		printf("  outside_memory: probing 0x%08x (RAM ends at 0x%08x)\n", a, ram_end);
		serial_flush();
		u32 before = peek32(a);
		poke32(a, MAGIC);
		u32 after = peek32(a);
		printf("  outside_memory: 0x%08x read 0x%08x, wrote 0x%08x, read back 0x%08x\n", a,
		       before, MAGIC, after);
		if (after == MAGIC && ok) {
			ok = false;
			snprintf(why, sizeof(why), "0x%08x kept the value written: there is memory "
				 "beyond the reported RAM", a);
		}
	}
	report("outside_memory", ok, "%s", why);
}
