/* msr_tsc: the time-stamp counter and MSR round trips; unknown MSRs raise #GP. */
#include "guest.h"

const char guest_name[] = "msr_tsc";

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_MTRRCAP 0xfe
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_TSC_AUX 0xc0000103u
#define BOGUS_MSR 0xc0de0000u   /* in no architectural or vendor range */

static bool has_rdtscp(void)
{
	return cpuid_max_ext() >= 0x80000001 && (cpuid(0x80000001).edx & (1u << 27));
}

static bool has_rdpid(void)
{
	return cpuid(0).eax >= 7 && (cpuid_sub(7, 0).ecx & (1u << 22));
}

static void t_tsc_monotonic(void)
{
	u64 first = rdtsc(), prev = first;
	for (int i = 0; i < 1000; i++) {
		u64 t = rdtsc();
		CHECK(t >= prev, "read %d went backwards: 0x%llx after 0x%llx", i, t, prev);
		prev = t;
	}
	CHECK(prev > first, "TSC did not advance over 1000 reads (0x%llx)", first);
	printf("  1000 reads: 0x%llx -> 0x%llx (+%llu)\n", first, prev, prev - first);
	test_pass();
}

static void t_tsc_write(void)
{
	/* Writing IA32_TIME_STAMP_COUNTER moves the counter; it keeps counting from there. */
	const u64 base = 1ull << 40;
	u64 before = rdtsc();
	int v = wrmsr_catch(MSR_TSC, base);
	u64 after = rdtsc();
	CHECK(v < 0, "WRMSR IA32_TIME_STAMP_COUNTER raised %s", exc_name((u32)v));
	printf("  TSC 0x%llx, wrote 0x%llx, read back 0x%llx\n", before, base, after);
	if (after < base && qemu_tcg()) {
		test_skip("QEMU TCG ignores writes to IA32_TIME_STAMP_COUNTER");
		return;
	}
	CHECK(after >= base && after - base < (1ull << 32),
	      "TSC reads 0x%llx after writing 0x%llx", after, base);
	u64 later = rdtsc();
	CHECK(later >= after, "TSC went backwards after the write");
	test_pass();
}

static void t_rdtscp(void)
{
	if (!has_rdtscp()) {
		test_skip("CPUID.80000001H:EDX.RDTSCP[27] is 0");
		return;
	}
	u64 old;
	CHECK(rdmsr_catch(MSR_TSC_AUX, &old) < 0, "RDMSR IA32_TSC_AUX faulted");
	CHECK(wrmsr_catch(MSR_TSC_AUX, 0x1234) < 0, "WRMSR IA32_TSC_AUX faulted");
	u32 aux;
	u64 t0 = rdtsc();
	u64 t1 = rdtscp(&aux);
	u64 t2 = rdtsc();
	wrmsr(MSR_TSC_AUX, old);
	CHECK(aux == 0x1234, "RDTSCP returned ECX 0x%x, expected IA32_TSC_AUX 0x1234", aux);
	CHECK(t0 <= t1 && t1 <= t2, "RDTSCP 0x%llx not between RDTSCs 0x%llx and 0x%llx", t1,
	      t0, t2);
	test_pass();
}

static void t_tsc_aux(void)
{
	if (!has_rdtscp() && !has_rdpid()) {
		test_skip("no RDTSCP or RDPID, so no IA32_TSC_AUX");
		return;
	}
	u64 old, v;
	CHECK(rdmsr_catch(MSR_TSC_AUX, &old) < 0, "RDMSR IA32_TSC_AUX faulted");
	wrmsr(MSR_TSC_AUX, 0xabcd1234);
	v = rdmsr(MSR_TSC_AUX);
	wrmsr(MSR_TSC_AUX, old);
	CHECK(v == 0xabcd1234, "IA32_TSC_AUX reads 0x%llx after writing 0xabcd1234", v);
	test_pass();
}

static void t_sysenter(void)
{
	static const struct { u32 msr; u64 val; const char *name; } m[] = {
		{ MSR_SYSENTER_CS, 0x0008, "IA32_SYSENTER_CS" },
		{ MSR_SYSENTER_ESP, 0x00123450, "IA32_SYSENTER_ESP" },
		{ MSR_SYSENTER_EIP, 0x00fedcb8, "IA32_SYSENTER_EIP" },
	};
	if (!(cpuid(1).edx & (1u << 11))) {
		test_skip("CPUID.1:EDX.SEP[11] is 0");
		return;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(m); i++) {
		u64 old, v;
		CHECK(rdmsr_catch(m[i].msr, &old) < 0, "RDMSR %s faulted", m[i].name);
		CHECK(wrmsr_catch(m[i].msr, m[i].val) < 0, "WRMSR %s faulted", m[i].name);
		v = rdmsr(m[i].msr);
		wrmsr(m[i].msr, old);
		CHECK(v == m[i].val, "%s reads 0x%llx after writing 0x%llx", m[i].name, v,
		      m[i].val);
	}
	test_pass();
}

static void t_pat(void)
{
	if (!(cpuid(1).edx & (1u << 16))) {
		test_skip("CPUID.1:EDX.PAT[16] is 0");
		return;
	}
	u64 old = rdmsr(MSR_PAT);
	printf("  IA32_PAT 0x%016llx\n", old);
	/* Every entry a valid type (0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-); 2 and 3 reserved. */
	for (int i = 0; i < 8; i++) {
		u32 t = (u32)(old >> (8 * i)) & 0xff;
		CHECK(t <= 7 && t != 2 && t != 3, "PAT entry %d holds invalid type 0x%x", i, t);
	}
	const u64 val = 0x0001040500070406ull;
	CHECK(wrmsr_catch(MSR_PAT, val) < 0, "WRMSR IA32_PAT 0x%llx faulted", val);
	u64 v = rdmsr(MSR_PAT);
	wrmsr(MSR_PAT, old);
	CHECK(v == val, "IA32_PAT reads 0x%llx after writing 0x%llx", v, val);
	CHECK(rdmsr(MSR_PAT) == old, "IA32_PAT not restored");
	test_pass();
}

static void t_mtrr_def_type(void)
{
	if (!(cpuid(1).edx & (1u << 12))) {
		test_skip("CPUID.1:EDX.MTRR[12] is 0");
		return;
	}
	u64 cap = rdmsr(MSR_MTRRCAP);
	u64 def;
	CHECK(rdmsr_catch(MSR_MTRR_DEF_TYPE, &def) < 0, "RDMSR IA32_MTRR_DEF_TYPE faulted");
	printf("  IA32_MTRRCAP 0x%llx (%u variable ranges, fixed %u), IA32_MTRR_DEF_TYPE "
	       "0x%llx (E %u, FE %u, type %u)\n", cap, (u32)cap & 0xff, (u32)(cap >> 8) & 1,
	       def, (u32)(def >> 11) & 1, (u32)(def >> 10) & 1, (u32)def & 0xff);
	CHECK(!(def & ~0xcffull), "reserved bits set in IA32_MTRR_DEF_TYPE 0x%llx", def);
	u32 type = (u32)def & 0xff;
	CHECK(type <= 6 && type != 2 && type != 3, "default type %u is invalid", type);
	test_pass();
}

static void t_apic_base(void)
{
	if (!(cpuid(1).edx & (1u << 9))) {
		test_skip("CPUID.1:EDX.APIC[9] is 0");
		return;
	}
	u64 v;
	CHECK(rdmsr_catch(MSR_APIC_BASE, &v) < 0, "RDMSR IA32_APIC_BASE faulted");
	printf("  IA32_APIC_BASE 0x%llx\n", v);
	CHECK(v & (1u << 8), "BSP flag clear on the boot processor");
	test_pass();
}

static void t_efer(void)
{
	/* IA32_EFER exists when any of its features does: SYSCALL, NX or long mode. */
	u32 ext = cpuid_max_ext() >= 0x80000001 ? cpuid(0x80000001).edx : 0;
	if (!(ext & ((1u << 11) | (1u << 20) | (1u << 29)))) {
		test_skip("no SYSCALL, NX or LM: no IA32_EFER");
		return;
	}
	u64 efer;
	CHECK(rdmsr_catch(MSR_EFER, &efer) < 0, "RDMSR IA32_EFER faulted");
	printf("  IA32_EFER 0x%llx\n", efer);
	CHECK(!(efer & (EFER_LME | EFER_LMA)), "LME/LMA set in 32-bit protected mode");
	if (cpuid_max_ext() >= 0x80000001 && (cpuid(0x80000001).edx & (1u << 20))) {
		wrmsr(MSR_EFER, efer ^ EFER_NXE);
		u64 v = rdmsr(MSR_EFER);
		wrmsr(MSR_EFER, efer);
		CHECK(v == (efer ^ EFER_NXE), "toggling NXE: read 0x%llx, expected 0x%llx", v,
		      efer ^ EFER_NXE);
	}
	test_pass();
}

static void t_bogus(u32 vector, bool write)
{
	if (vector == 13 && last_fault.error == 0) {
		test_pass();
		return;
	}
	if ((int)vector < 0 && qemu_tcg()) {
		test_skip("QEMU TCG ignores unknown MSRs (no #GP)");
		return;
	}
	if ((int)vector < 0)
		test_fail("%s of MSR 0x%x did not fault", write ? "WRMSR" : "RDMSR", BOGUS_MSR);
	else
		test_fail("%s of MSR 0x%x raised vector %u error 0x%x, expected #GP(0)",
			  write ? "WRMSR" : "RDMSR", BOGUS_MSR, vector, last_fault.error);
}

static void t_bogus_rdmsr(void)
{
	u64 v;
	t_bogus((u32)rdmsr_catch(BOGUS_MSR, &v), false);
}

static void t_bogus_wrmsr(void)
{
	t_bogus((u32)wrmsr_catch(BOGUS_MSR, 0x1234), true);
}

void guest_main(void)
{
	run_test("tsc_monotonic", t_tsc_monotonic);
	run_test("tsc_rdtscp", t_rdtscp);
	run_test("msr_tsc_aux", t_tsc_aux);
	run_test("msr_sysenter", t_sysenter);
	run_test("msr_pat", t_pat);
	run_test("msr_mtrr_def_type", t_mtrr_def_type);
	run_test("msr_apic_base", t_apic_base);
	run_test("msr_efer", t_efer);
	run_test("msr_bogus_rdmsr_gp", t_bogus_rdmsr);
	run_test("msr_bogus_wrmsr_gp", t_bogus_wrmsr);
	run_test("tsc_write", t_tsc_write);
}
