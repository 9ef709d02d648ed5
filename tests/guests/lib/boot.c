/* C entry of every guest: IDT, Multiboot hand-over check, guest_main(), summary. */
#include "guest.h"

#define MB_BOOT_MAGIC 0x2badb002

u32 mb_magic;
const struct mb_info *mb_info;
u32 ram_end;

bool qemu_tcg(void)
{
	if (!(cpuid(1).ecx & (1u << 31)))
		return false;
	struct cpuid_regs r = cpuid(0x40000000);
	return r.ebx == 0x54474354 && r.ecx == 0x43544743 && r.edx == 0x47435447;
}

u32 cmdline_uint(const char *key, u32 dflt)
{
	if (!mb_info || !(mb_info->flags & MB_INFO_CMDLINE))
		return dflt;
	size_t klen = strlen(key);
	for (const char *p = (const char *)mb_info->cmdline; *p; p++) {
		if ((p == (const char *)mb_info->cmdline || p[-1] == ' ') && !memcmp(p, key, klen) && p[klen] == '=') {
			u32 v = 0;
			for (p += klen + 1; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (u32)(*p - '0');
			return v;
		}
	}
	return dflt;
}

NORETURN void lib_main(u32 magic, const struct mb_info *mbi);
void lib_main(u32 magic, const struct mb_info *mbi)
{
	idt_init();
	mb_magic = magic;
	mb_info = mbi;
	if (magic == MB_BOOT_MAGIC && mbi && (mbi->flags & MB_INFO_MEM))
		ram_end = 0x100000u + mbi->mem_upper * 1024u;
	printf("GUEST %s: multiboot magic 0x%08x, mem_lower %u KiB, mem_upper %u KiB, "
	       "image %p-%p\n", guest_name, magic,
	       ram_end ? mbi->mem_lower : 0, ram_end ? mbi->mem_upper : 0,
	       (void *)__image_start, (void *)__bss_end);
	if (magic != MB_BOOT_MAGIC)
		report("multiboot_handover", false, "EAX is 0x%08x, not 0x2BADB002", magic);
	else if (!ram_end)
		report("multiboot_handover", false, "no memory information (flags 0x%x)",
		       mbi ? mbi->flags : 0);
	else if ((u32)__bss_end > ram_end)
		report("multiboot_handover", false, "image ends at 0x%x, above RAM end 0x%x",
		       (u32)__bss_end, ram_end);
	guest_main();
	test_summary_exit();
}
