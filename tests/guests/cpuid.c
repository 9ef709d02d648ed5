/* cpuid: the basic CPUID leaves look sane and decode consistently. */
#include "guest.h"

const char guest_name[] = "cpuid";

static void regs_str(char *out, u32 a, u32 b, u32 c)
{
	u32 w[3] = { a, b, c };
	memcpy(out, w, 12);
	out[12] = '\0';
}

static bool printable(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static void t_vendor(void)
{
	struct cpuid_regs r = cpuid(0);
	char v[13];
	regs_str(v, r.ebx, r.edx, r.ecx);
	printf("  vendor \"%s\", max basic leaf 0x%x\n", v, r.eax);
	CHECK(printable(v, 12), "vendor string is not printable ASCII: %08x %08x %08x",
	      r.ebx, r.edx, r.ecx);
	CHECK(v[0] != ' ', "vendor string starts with a blank");
	test_pass();
}

static void t_max_leaf(void)
{
	u32 max = cpuid(0).eax;
	CHECK(max >= 1, "max basic leaf is %u", max);
	CHECK(max < 0x100, "max basic leaf 0x%x is absurd", max);
	test_pass();
}

static void t_leaf1(void)
{
	struct cpuid_regs r = cpuid(1);
	u32 stepping = r.eax & 0xf, model = (r.eax >> 4) & 0xf, family = (r.eax >> 8) & 0xf;
	u32 ext_model = (r.eax >> 16) & 0xf, ext_family = (r.eax >> 20) & 0xff;
	u32 disp_family = family == 0xf ? family + ext_family : family;
	u32 disp_model = (family == 0x6 || family == 0xf) ? (ext_model << 4) | model : model;
	printf("  signature 0x%08x: family 0x%x model 0x%x stepping %u; "
	       "ecx 0x%08x edx 0x%08x; initial APIC ID %u\n", r.eax, disp_family, disp_model,
	       stepping, r.ecx, r.edx, r.ebx >> 24);
	CHECK(family != 0, "base family is 0 (EAX 0x%08x)", r.eax);
	CHECK(family == 0xf || ext_family == 0,
	      "extended family 0x%x with base family 0x%x (only used with 0xf)", ext_family,
	      family);
	CHECK(disp_family >= 4, "family %u predates CPUID", disp_family);
	/* Features every x86-64 CPU has and the other guests rely on. */
	static const struct { int bit; const char *name; } need[] = {
		{ 0, "FPU" }, { 4, "TSC" }, { 5, "MSR" }, { 6, "PAE" }, { 8, "CX8" },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(need); i++)
		CHECK(r.edx & (1u << need[i].bit), "CPUID.1:EDX.%s[%d] is clear", need[i].name,
		      need[i].bit);
	/* The same leaf twice gives the same answer. */
	struct cpuid_regs s = cpuid(1);
	CHECK(s.eax == r.eax && s.ebx == r.ebx && s.ecx == r.ecx && s.edx == r.edx,
	      "two reads of leaf 1 differ");
	test_pass();
}

static void t_ext_range(void)
{
	struct cpuid_regs r = cpuid(0x80000000);
	printf("  max extended leaf 0x%08x\n", r.eax);
	CHECK(r.eax >= 0x80000001 && r.eax <= 0x8000ffff,
	      "leaf 0x80000000 EAX 0x%08x is not a valid extended range", r.eax);
	if (r.eax >= 0x80000004) {
		u32 b[13];
		for (u32 i = 0; i < 3; i++) {
			struct cpuid_regs q = cpuid(0x80000002 + i);
			b[i * 4 + 0] = q.eax;
			b[i * 4 + 1] = q.ebx;
			b[i * 4 + 2] = q.ecx;
			b[i * 4 + 3] = q.edx;
		}
		b[12] = 0;
		const char *brand = (const char *)b;
		while (*brand == ' ')
			brand++;
		printf("  brand \"%s\"\n", brand);
		CHECK(printable(brand, (int)strlen(brand)), "brand string is not printable");
	}
	struct cpuid_regs e = cpuid(0x80000001);
	printf("  leaf 0x80000001: ecx 0x%08x edx 0x%08x (LM %u, NX %u, 1GiB pages %u, "
	       "RDTSCP %u)\n", e.ecx, e.edx, e.edx >> 29 & 1, e.edx >> 20 & 1, e.edx >> 26 & 1,
	       e.edx >> 27 & 1);
	if (r.eax >= 0x80000008) {
		struct cpuid_regs a = cpuid(0x80000008);
		u32 phys = a.eax & 0xff, lin = (a.eax >> 8) & 0xff;
		printf("  address sizes: %u physical, %u linear\n", phys, lin);
		CHECK(phys >= 32 && phys <= 52, "MAXPHYADDR %u is out of range", phys);
		CHECK(lin >= 32 && lin <= 57, "linear address size %u is out of range", lin);
	}
	test_pass();
}

static void t_hypervisor(void)
{
	u32 ecx = cpuid(1).ecx;
	if (!(ecx & (1u << 31))) {
		printf("  hypervisor bit (CPUID.1:ECX[31]) clear\n");
		test_pass();
		return;
	}
	struct cpuid_regs r = cpuid(0x40000000);
	char sig[13];
	regs_str(sig, r.ebx, r.ecx, r.edx);
	for (int i = 0; i < 12; i++)
		if (sig[i] && (sig[i] < 0x20 || sig[i] > 0x7e))
			sig[i] = '?';
	printf("  hypervisor bit set; leaf 0x40000000: max leaf 0x%08x, signature \"%s\"\n",
	       r.eax, sig);
	test_pass();
}

static void t_vmx_bit(void)
{
	printf("  VMX (CPUID.1:ECX[5]) = %u\n", (cpuid(1).ecx >> 5) & 1);
	test_pass();
}

void guest_main(void)
{
	run_test("cpuid_vendor", t_vendor);
	run_test("cpuid_max_leaf", t_max_leaf);
	run_test("cpuid_leaf1", t_leaf1);
	run_test("cpuid_ext_range", t_ext_range);
	run_test("cpuid_hypervisor", t_hypervisor);
	run_test("cpuid_vmx_bit", t_vmx_bit);
}
