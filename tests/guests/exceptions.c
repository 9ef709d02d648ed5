/* exceptions: the guest's own IDT catches #DE, #BP, #OF, #BR, #UD, #NP, #GP and #PF with
 * the right vector, error code and faulting EIP, and execution resumes, both by IRET
 * (traps, and a fault whose return EIP the handler advances) and at a recovery point. */
#include "guest.h"
#include "paging.h"

const char guest_name[] = "exceptions";

/* The faulting instructions, with a label on each so the reported EIP can be checked.
 * Functions called through call_catch() take one stack argument and may clobber EAX, ECX
 * and EDX (cdecl). */
void do_div0(void *);
void do_idiv_overflow(void *);
u32 do_int3(void);
u32 do_into(void);
void do_bound(void *);
void do_ud2(void *);
u32 do_ud2_resume(void);
void do_load_ds(void *);
void do_load_ss(void *);
void do_write_cr0(void *);
void do_write_cr4(void *);
void do_wrmsr(void *);
void do_rdmsr(void *);
void do_read(void *);
void do_write(void *);
extern char do_div0_ip[], do_idiv_overflow_ip[], do_int3_after[], do_into_after[],
	do_bound_ip[], do_ud2_ip[], do_ud2_resume_ip[], do_load_ds_ip[], do_load_ss_ip[],
	do_write_cr0_ip[], do_write_cr4_ip[], do_wrmsr_ip[], do_rdmsr_ip[], do_read_ip[],
	do_write_ip[];
u32 bound_pair[2] = { 0, 10 };

__asm__(
	".text\n"
	".globl do_div0, do_div0_ip\n"
	"do_div0:\n"
	"	xor %ecx, %ecx\n"
	"	mov $1, %eax\n"
	"	xor %edx, %edx\n"
	"do_div0_ip:\n"
	"	divl %ecx\n"
	"	ret\n"
	".globl do_idiv_overflow, do_idiv_overflow_ip\n"
	"do_idiv_overflow:\n"              /* INT_MIN / -1 does not fit: #DE as well */
	"	mov $0x80000000, %eax\n"
	"	cltd\n"
	"	mov $-1, %ecx\n"
	"do_idiv_overflow_ip:\n"
	"	idivl %ecx\n"
	"	ret\n"
	".globl do_int3, do_int3_after\n"
	"do_int3:\n"                       /* returns EBX, which must survive the trap */
	"	push %ebx\n"
	"	mov $0x13572468, %ebx\n"
	"	int3\n"
	"do_int3_after:\n"
	"	mov %ebx, %eax\n"
	"	pop %ebx\n"
	"	ret\n"
	".globl do_into, do_into_after\n"
	"do_into:\n"
	"	mov $0x7fffffff, %eax\n"
	"	add $1, %eax\n"                /* signed overflow: OF = 1 */
	"	into\n"
	"do_into_after:\n"
	"	mov $0x600d, %eax\n"
	"	ret\n"
	".globl do_bound, do_bound_ip\n"
	"do_bound:\n"
	"	mov $11, %eax\n"               /* outside [0, 10] */
	"do_bound_ip:\n"
	"	bound %eax, bound_pair\n"
	"	ret\n"
	".globl do_ud2, do_ud2_ip\n"
	"do_ud2:\n"
	"do_ud2_ip:\n"
	"	ud2\n"
	"	ret\n"
	".globl do_ud2_resume, do_ud2_resume_ip\n"
	"do_ud2_resume:\n"
	"	mov $1, %eax\n"
	"do_ud2_resume_ip:\n"
	"	ud2\n"
	"	add $41, %eax\n"               /* runs once the handler has skipped the ud2 */
	"	ret\n"
	".globl do_load_ds, do_load_ds_ip\n"
	"do_load_ds:\n"
	"	mov 4(%esp), %eax\n"
	"do_load_ds_ip:\n"
	"	mov %eax, %ds\n"
	"	mov $0x10, %eax\n"             /* not reached when the load faults */
	"	mov %eax, %ds\n"
	"	ret\n"
	".globl do_load_ss, do_load_ss_ip\n"
	"do_load_ss:\n"
	"	xor %eax, %eax\n"
	"do_load_ss_ip:\n"
	"	mov %eax, %ss\n"
	"	ret\n"
	".globl do_write_cr0, do_write_cr0_ip\n"
	"do_write_cr0:\n"
	"	mov 4(%esp), %eax\n"
	"do_write_cr0_ip:\n"
	"	mov %eax, %cr0\n"
	"	ret\n"
	".globl do_write_cr4, do_write_cr4_ip\n"
	"do_write_cr4:\n"
	"	mov 4(%esp), %eax\n"
	"do_write_cr4_ip:\n"
	"	mov %eax, %cr4\n"
	"	ret\n"
	".globl do_wrmsr, do_wrmsr_ip\n"
	"do_wrmsr:\n"
	"	mov 4(%esp), %ecx\n"
	"	xor %eax, %eax\n"
	"	xor %edx, %edx\n"
	"do_wrmsr_ip:\n"
	"	wrmsr\n"
	"	ret\n"
	".globl do_rdmsr, do_rdmsr_ip\n"
	"do_rdmsr:\n"
	"	mov 4(%esp), %ecx\n"
	"do_rdmsr_ip:\n"
	"	rdmsr\n"
	"	ret\n"
	".globl do_read, do_read_ip\n"
	"do_read:\n"
	"	mov 4(%esp), %ecx\n"
	"do_read_ip:\n"
	"	mov (%ecx), %eax\n"
	"	ret\n"
	".globl do_write, do_write_ip\n"
	"do_write:\n"
	"	mov 4(%esp), %ecx\n"
	"do_write_ip:\n"
	"	movl $0x5a5a5a5a, (%ecx)\n"
	"	ret\n");

/* Runs fn(arg) under a catch; the exception must be exactly `vector` with `error`,
 * reported at `ip`, and the only one taken. Fails the current test otherwise. */
static bool caught(void (*fn)(void *), void *arg, u32 vector, u32 error, const void *ip)
{
	u32 before = last_fault.count;
	int v = call_catch(fn, arg);
	if (v < 0) {
		test_fail("no exception, expected vector %u (%s)", vector, exc_name(vector));
		return false;
	}
	if (last_fault.count != before + 1) {
		test_fail("%u exceptions taken, expected one", last_fault.count - before);
		return false;
	}
	if ((u32)v != vector) {
		test_fail("vector %u (%s), expected %u (%s); error 0x%x at EIP 0x%lx", v,
			  exc_name((u32)v), vector, exc_name(vector), last_fault.error,
			  last_fault.ip);
		return false;
	}
	if (last_fault.error != error) {
		test_fail("error code 0x%x, expected 0x%x", last_fault.error, error);
		return false;
	}
	if (last_fault.ip != (ulong)ip) {
		test_fail("EIP 0x%lx, expected 0x%lx", last_fault.ip, (ulong)ip);
		return false;
	}
	return true;
}

static void t_de(void)
{
	if (caught(do_div0, NULL, 0, 0, do_div0_ip))
		test_pass();
}

static void t_de_idiv(void)
{
	if (caught(do_idiv_overflow, NULL, 0, 0, do_idiv_overflow_ip))
		test_pass();
}

static bool hook_iret(struct exc_frame *f)
{
	(void)f;
	return true;            /* traps: the saved EIP already points past the instruction */
}

static void t_bp(void)
{
	u32 before = last_fault.count;
	set_exc_hook(3, hook_iret);
	u32 ebx = do_int3();
	set_exc_hook(3, NULL);
	CHECK(last_fault.count == before + 1, "%u exceptions taken, expected one",
	      last_fault.count - before);
	CHECK(last_fault.vector == 3, "vector %u, expected 3", last_fault.vector);
	CHECK(last_fault.ip == (ulong)do_int3_after,
	      "saved EIP 0x%lx, expected 0x%x (after the int3)", last_fault.ip,
	      (u32)do_int3_after);
	CHECK(ebx == 0x13572468, "EBX 0x%x after IRET, expected 0x13572468", ebx);
	test_pass();
}

static void t_of(void)
{
	u32 before = last_fault.count;
	set_exc_hook(4, hook_iret);
	u32 r = do_into();
	set_exc_hook(4, NULL);
	CHECK(last_fault.count == before + 1, "%u exceptions taken, expected one",
	      last_fault.count - before);
	CHECK(last_fault.vector == 4, "vector %u, expected 4", last_fault.vector);
	CHECK(last_fault.ip == (ulong)do_into_after, "saved EIP 0x%lx, expected 0x%x",
	      last_fault.ip, (u32)do_into_after);
	CHECK(r == 0x600d, "did not resume after INTO (0x%x)", r);
	test_pass();
}

static void t_br(void)
{
	if (caught(do_bound, NULL, 5, 0, do_bound_ip))
		test_pass();
}

static void t_ud(void)
{
	if (caught(do_ud2, NULL, 6, 0, do_ud2_ip))
		test_pass();
}

static bool hook_skip_ud2(struct exc_frame *f)
{
	if (f->ip != (u32)do_ud2_resume_ip)
		return false;
	f->ip += 2;             /* ud2 is 0f 0b */
	return true;
}

static void t_ud_resume(void)
{
	u32 before = last_fault.count;
	set_exc_hook(6, hook_skip_ud2);
	u32 r = do_ud2_resume();
	set_exc_hook(6, NULL);
	CHECK(last_fault.count == before + 1, "%u exceptions taken, expected one",
	      last_fault.count - before);
	CHECK(last_fault.vector == 6 && last_fault.ip == (ulong)do_ud2_resume_ip,
	      "vector %u at 0x%lx, expected 6 at 0x%x", last_fault.vector, last_fault.ip,
	      (u32)do_ud2_resume_ip);
	CHECK(r == 42, "execution after the skipped ud2 computed %u, expected 42", r);
	test_pass();
}

static void t_gp_selector(void)
{
	/* Index 0x1fff is far beyond the GDT limit: #GP with the selector as error code. */
	if (caught(do_load_ds, (void *)0xfff8, 13, 0xfff8, do_load_ds_ip))
		test_pass();
}

static void t_gp_null_ss(void)
{
	if (caught(do_load_ss, NULL, 13, 0, do_load_ss_ip))
		test_pass();
}

static void t_np_segment(void)
{
	/* A data descriptor with P=0: #NP with the selector as error code. */
	if (caught(do_load_ds, (void *)SEL_NOTPRESENT, 11, SEL_NOTPRESENT, do_load_ds_ip))
		test_pass();
}

static void t_gp_cr0(void)
{
	if (qemu_tcg()) {
		test_skip("QEMU TCG accepts CR0.NW=1 with CD=0 without #GP");
		return;
	}
	ulong cr0 = read_cr0();
	/* CR0.NW = 1 with CR0.CD = 0 is an invalid combination. */
	bool ok = caught(do_write_cr0, (void *)((cr0 | (1u << 29)) & ~(1u << 30)), 13, 0,
			 do_write_cr0_ip);
	write_cr0(cr0);
	if (ok)
		test_pass();
}

static void t_gp_cr4(void)
{
	if (qemu_tcg()) {
		/* QEMU 7.2 takes an SVM #VMEXIT(-1) instead and loops on it forever. */
		test_skip("QEMU TCG does not raise #GP for reserved CR4 bits");
		return;
	}
	ulong cr4 = read_cr4();
	/* CR4 bit 15 is reserved. */
	bool ok = caught(do_write_cr4, (void *)(cr4 | (1u << 15)), 13, 0, do_write_cr4_ip);
	write_cr4(cr4);
	if (ok)
		test_pass();
}

#define BOGUS_MSR 0xc0de0000u

static void t_gp_msr(void)
{
	if (qemu_tcg()) {
		/* TCG's WRMSR ignores unknown MSRs and RDMSR returns 0 for them. */
		u32 before = last_fault.count;
		if (call_catch(do_wrmsr, (void *)BOGUS_MSR) < 0 &&
		    call_catch(do_rdmsr, (void *)BOGUS_MSR) < 0 && last_fault.count == before) {
			test_skip("QEMU TCG does not raise #GP for unknown MSRs");
			return;
		}
	}
	if (!caught(do_wrmsr, (void *)BOGUS_MSR, 13, 0, do_wrmsr_ip))
		return;
	if (caught(do_rdmsr, (void *)BOGUS_MSR, 13, 0, do_rdmsr_ip))
		test_pass();
}

static void t_pf(void)
{
	const u32 va = 0x80000123u;     /* nothing is mapped at 2 GiB */
	pt_pool_reset();
	u32 *pd = pg32_new();
	paging_enable32(pd, false);
	bool ok = caught(do_read, (void *)va, 14, 0, do_read_ip) && last_fault.cr2 == va;
	if (ok)
		ok = caught(do_write, (void *)va, 14, PF_ERR_W, do_write_ip) &&
		     last_fault.cr2 == va;
	paging_off();
	CHECK(ok, "CR2 0x%lx, expected 0x%x", last_fault.cr2, va);
	test_pass();
}

extern char boot_stack[], boot_stack_top[];

static void t_resumed(void)
{
	/* Every test above came back here; the IDT and stack are intact. */
	u32 esp;
	__asm__ volatile("mov %%esp, %0" : "=r"(esp));
	CHECK(esp > (u32)boot_stack && esp <= (u32)boot_stack_top, "ESP 0x%x off the stack",
	      esp);
	CHECK(!(read_flags() & FLAGS_DF), "EFLAGS.DF is set");
	test_pass();
}

void guest_main(void)
{
	run_test("exc_de_div_zero", t_de);
	run_test("exc_de_idiv_overflow", t_de_idiv);
	run_test("exc_bp_int3", t_bp);
	run_test("exc_of_into", t_of);
	run_test("exc_br_bound", t_br);
	run_test("exc_ud_ud2", t_ud);
	run_test("exc_ud_resume_iret", t_ud_resume);
	run_test("exc_gp_bad_selector", t_gp_selector);
	run_test("exc_gp_null_ss", t_gp_null_ss);
	run_test("exc_np_segment", t_np_segment);
	run_test("exc_gp_cr0_nw_without_cd", t_gp_cr0);
	run_test("exc_gp_cr4_reserved_bit", t_gp_cr4);
	run_test("exc_gp_bogus_msr", t_gp_msr);
	run_test("exc_pf", t_pf);
	run_test("exc_resumed", t_resumed);
}
