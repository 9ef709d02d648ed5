/* The longmode guest's 64-bit part (build/guests/longmode64.bin, linked for 0x200000),
 * carried in the ELF32 image's .lm64 section at that address. */
	.section .lm64, "awx", @progbits
	.globl lm64_blob, lm64_blob_end
lm64_blob:
	.incbin "longmode64.bin"
lm64_blob_end:
