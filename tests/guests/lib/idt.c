/* IDT and exception dispatch, for 32-bit and 64-bit mode; see idt.h. */
#include "idt.h"
#include "seg.h"
#include "test.h"
#include "x86.h"
#include "string.h"

#ifdef __x86_64__
struct gate {
	u16 off_lo, sel;
	u8 ist, type;
	u16 off_mid;
	u32 off_hi, reserved;
} __attribute__((packed));
#define CODE_SEL SEL_CODE64
#define IP "RIP"
#else
struct gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __attribute__((packed));
#define CODE_SEL SEL_CODE32
#define IP "EIP"
#endif

static struct gate idt[IDT_VECTORS] ALIGNED(8);
static exc_hook_t hooks[IDT_VECTORS];
volatile struct fault_info last_fault;
extern const uintptr_t isr_table[IDT_VECTORS];
extern volatile u32 catch_armed;
NORETURN void catch_longjmp(void);

static const char *const names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
	"coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
	"reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

const char *exc_name(u32 vector)
{
	return vector < 32 ? names[vector] : vector < IDT_VECTORS ? "external interrupt" : "?";
}

void idt_init(void)
{
	for (int v = 0; v < IDT_VECTORS; v++) {
		uintptr_t a = isr_table[v];
		memset(&idt[v], 0, sizeof(idt[v]));
		idt[v].off_lo = (u16)a;
		idt[v].sel = CODE_SEL;
		idt[v].type = 0x8e;     /* present, DPL 0, interrupt gate (32-bit or 64-bit) */
#ifdef __x86_64__
		idt[v].off_mid = (u16)(a >> 16);
		idt[v].off_hi = (u32)(a >> 32);
#else
		idt[v].off_hi = (u16)(a >> 16);
#endif
	}
	struct {
		u16 limit;
		uintptr_t base;
	} __attribute__((packed)) d = { sizeof(idt) - 1, (uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(d));
}

void set_exc_hook(u32 vector, exc_hook_t hook)
{
	if (vector < IDT_VECTORS)
		hooks[vector] = hook;
}

void catch_disarm(void)
{
	catch_armed = 0;
}

void exc_handler(struct exc_frame *f);
void exc_handler(struct exc_frame *f)
{
	last_fault.vector = (u32)f->vector;
	last_fault.error = (u32)f->error;
	last_fault.cr2 = read_cr2();
	last_fault.ip = f->ip;
	last_fault.count++;
	if (f->vector < IDT_VECTORS && hooks[f->vector] && hooks[f->vector](f))
		return;
	if (catch_armed)
		catch_longjmp();
	printf("UNEXPECTED EXCEPTION vector %u (%s) error 0x%x at " IP " 0x%lx, CR2 0x%lx, "
	       "FLAGS 0x%lx\n", last_fault.vector, exc_name(last_fault.vector), last_fault.error,
	       (ulong)f->ip, last_fault.cr2, (ulong)f->flags);
	report(current_test ? current_test : "unexpected_exception", false,
	       "unexpected exception %u (%s) at " IP " 0x%lx", last_fault.vector,
	       exc_name(last_fault.vector), (ulong)f->ip);
	test_summary_exit();
}

int call_catch(void (*fn)(void *), void *arg)
{
	if (catch_setjmp() == 0) {
		fn(arg);
		catch_disarm();
		return -1;
	}
	return (int)last_fault.vector;
}

struct msr_op {
	u32 msr;
	u64 val;
};

static void do_rdmsr(void *p)
{
	struct msr_op *o = p;
	o->val = rdmsr(o->msr);
}

static void do_wrmsr(void *p)
{
	struct msr_op *o = p;
	wrmsr(o->msr, o->val);
}

int rdmsr_catch(u32 msr, u64 *val)
{
	struct msr_op o = { msr, 0 };
	int v = call_catch(do_rdmsr, &o);
	*val = o.val;
	return v;
}

int wrmsr_catch(u32 msr, u64 val)
{
	struct msr_op o = { msr, val };
	return call_catch(do_wrmsr, &o);
}
