/* port_storm: a REP INS/OUTS storm over the emulated device ports, as issue 17's hostile tenant
 * ran it: sizes 1, 2 and 4, 16- and 32-bit address size, DF=0 and DF=1, counts up to 4096,
 * random data (kept off the reset bits, see hostile.h) and 256 random ports besides the
 * devices'. The VMM must emulate every one and stay up; the guest then checks its own memory
 * outside the string buffers is untouched and reports how far it got. Runs `rounds=N`
 * (default 2; 0: until stopped) rounds of 1000 string instructions. */
#include "guest.h"
#include "hostile.h"

const char guest_name[] = "port_storm";

#define ROUNDS_DEFAULT  2
#define PER_ROUND       1000
#define MAX_COUNT       4096
#define RANDOM_PORTS    256
#define BUF32_SIZE      (4 * MAX_COUNT)
#define LOW64K_BASE     0x0             /* 16-bit addressing: ES:DI, DS:SI within the first 64 KiB */
#define GUARD           0x5a

/* 32-bit buffer: a string of up to 16 KiB either way from its middle, guarded on both sides. */
static u8 area[3 * BUF32_SIZE] __attribute__((aligned(4096)));
static u16 ports[HOSTILE_NPORTS + RANDOM_PORTS];

#define STRING_OP(name, insn)                                                                   \
	static void name(u16 port, ulong addr, u32 count, bool df, bool a16)                    \
	{                                                                                       \
		ulong di = addr, si = addr;                                                     \
		if (a16)                                                                        \
			__asm__ volatile("pushf\n\ttest %3, %3\n\tjz 1f\n\tstd\n1:\taddr16 rep " insn "\n\tpopf" \
					 : "+D"(di), "+S"(si), "+c"(count) : "r"((u32)df), "d"(port) : "memory", "cc"); \
		else                                                                            \
			__asm__ volatile("pushf\n\ttest %3, %3\n\tjz 1f\n\tstd\n1:\trep " insn "\n\tpopf" \
					 : "+D"(di), "+S"(si), "+c"(count) : "r"((u32)df), "d"(port) : "memory", "cc"); \
	}
STRING_OP(ins1, "insb")
STRING_OP(ins2, "insw")
STRING_OP(ins4, "insl")
STRING_OP(outs1, "outsb")
STRING_OP(outs2, "outsw")
STRING_OP(outs4, "outsl")

static void fill_safe(u8 *p, u32 n, u32 *seed)
{
	for (u32 i = 0; i < n; i++)
		p[i] = HOSTILE_SAFE_BYTE(xorshift32(seed));
}

/* The bytes a 16-bit-addressed string will read, wrapping at 64 KiB as SI does. */
static void fill_safe_low(u32 first, u32 bytes, u32 *seed)
{
	volatile u8 *low = (volatile u8 *)LOW64K_BASE;
	for (u32 i = 0; i < bytes + 4; i++)
		low[(first + i) & 0xffff] = HOSTILE_SAFE_BYTE(xorshift32(seed));
}

static void t_storm(void)
{
	u32 rounds = cmdline_uint("rounds", ROUNDS_DEFAULT);
	u32 seed = cmdline_uint("seed", 0x1234567);
	if (!seed)
		seed = 1;
	for (u32 i = 0; i < HOSTILE_NPORTS; i++)
		ports[i] = hostile_device_ports[i];
	for (u32 i = 0; i < RANDOM_PORTS; i++)
		ports[HOSTILE_NPORTS + i] = hostile_random_port(&seed);
	memset(area, GUARD, sizeof(area));
	u32 done = 0;
	u64 elements = 0;
	for (u32 r = 0; !rounds || r < rounds; r++) {
		for (u32 k = 0; k < PER_ROUND; k++) {
			u32 x = xorshift32(&seed);
			u16 port = ports[x % (HOSTILE_NPORTS + RANDOM_PORTS)];
			u32 size = 1u << ((x >> 12) % 3);
			/* A dword at 0x61 splits into bytes up to the i8042 command port 0x64 (an ISA
			 * device sees byte cycles), whose reset pulse is tested on its own. */
			bool in = x & (1u << 16), df = x & (1u << 17), a16 = x & (1u << 18);
			if (port == 0x61 && !in && size == 4)
				size = 2;
			u32 count = xorshift32(&seed) % (MAX_COUNT + 1);
			u32 bytes = count * size;
			ulong addr;
			if (a16) {
				/* DI/SI wrap inside the first 64 KiB (free low memory here): any start */
				addr = LOW64K_BASE + (xorshift32(&seed) & 0xfffe);
				if (!in)
					fill_safe_low(df ? (u32)addr + size - bytes : (u32)addr, bytes, &seed);
			} else {
				/* The elements cover [mid, mid + bytes) in either direction. */
				u8 *mid = area + BUF32_SIZE + (xorshift32(&seed) % 64) * 4;
				addr = (ulong)(df && count ? mid + bytes - size : mid);
				if (!in)
					fill_safe(mid, bytes, &seed);
			}
			if (in)
				(size == 1 ? ins1 : size == 2 ? ins2 : ins4)(port, addr, count, df, a16);
			else
				(size == 1 ? outs1 : size == 2 ? outs2 : outs4)(port, addr, count, df, a16);
			elements += count;
			done++;
		}
		printf("PORT_STORM round %u: %u string instructions\n", r + 1, done);
	}
	/* Every 32-bit string stayed in [mid, mid + 16 KiB), mid within 252 bytes of the middle
	 * third's start: the first third and the last 16 KiB - 256 bytes keep their guard. */
	for (u32 i = 0; i < BUF32_SIZE; i++)
		CHECK(area[i] == GUARD, "a string instruction wrote below its buffer (offset %u)", i);
	for (u32 i = 2 * BUF32_SIZE + 256; i < sizeof(area); i++)
		CHECK(area[i] == GUARD, "a string instruction wrote above its buffer (offset %u)", i);
	printf("PORT_STORM done: %u string instructions, %u elements\n", done, (u32)elements);
	test_pass();
}

void guest_main(void)
{
	run_test("port_storm", t_storm);
}
