/* vga_scribble: redraws the whole 80x25 VGA text screen (0xb8000) frame after frame, with a
 * line on COM1 per frame. It tests the test machinery, not a VMM: booted on bare Bochs, whose
 * term display turns every screen change into terminal output on a pty of its own, it showed
 * that the runner left that pty undrained (Bochs then blocked in write() for good; hostile
 * runs "hung" after ~8 minutes). `frames=N`, default 200. */
#include "guest.h"

const char guest_name[] = "vga_scribble";

#define VGA_TEXT        ((volatile u16 *)0xb8000)
#define VGA_COLS        80
#define VGA_ROWS        25
#define FRAMES_DEFAULT  200

static void t_scribble(void)
{
	u32 frames = cmdline_uint("frames", FRAMES_DEFAULT);
	u32 sum = 0;
	for (u32 f = 0; f < frames; f++) {
		for (u32 i = 0; i < VGA_COLS * VGA_ROWS; i++) {
			u8 ch = (u8)('A' + (i + f) % 26);
			u8 attr = (u8)(1 + (f + i / VGA_COLS) % 15);
			VGA_TEXT[i] = (u16)(attr << 8 | ch);
		}
		for (u32 i = 0; i < VGA_COLS * VGA_ROWS; i++)
			sum += VGA_TEXT[i] & 0xff;
		printf("VGA_SCRIBBLE frame %u\n", f + 1);
		for (volatile u32 spin = 0; spin < 200000; spin++)
			;                           /* let the display refresh between frames */
	}
	CHECK(sum, "the text buffer reads back nothing");
	test_pass();
}

void guest_main(void)
{
	run_test("vga_scribble", t_scribble);
}
