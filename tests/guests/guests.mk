# Test-guest kernels: freestanding Multiboot1 ELF32 images that test the x86 architecture,
# booted natively under QEMU (tests/integration/test_guests_native.py) and later inside
# monovisor. Included by the top-level Makefile; `make guests` builds build/guests/*.elf.
#
# Each guest is tests/guests/<name>.c linked with the runtime in tests/guests/lib/. A guest
# with a 64-bit part (longmode) also has <name>64.c, compiled with -m64 together with the
# mode-neutral parts of the runtime into a flat blob at 0x200000 that the ELF32 carries.

GUESTS := cpuid portio paging longmode exceptions msr_tsc hlt_noirq triple_fault outside_memory trace_mix pit_tick cpu_share irq_devices tsc_jump canary port_storm dev_fuzz vga_scribble apic apic_bench ide nic
GUEST_SRC := tests/guests
GUEST_OUT := $(B)/guests
GUEST_ELFS := $(GUESTS:%=$(GUEST_OUT)/%.elf)

GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -nostdinc \
	-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -fno-common \
	-fno-tree-loop-distribute-patterns -fno-strict-aliasing \
	-mno-sse -mno-sse2 -mno-mmx -mno-80387 -Wall -Wextra -Werror -I$(GUEST_SRC)/lib
GUEST_CFLAGS32 := -m32 $(GUEST_CFLAGS)
GUEST_CFLAGS64 := -m64 -mno-red-zone -mcmodel=small $(GUEST_CFLAGS)
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --build-id=none \
	$(shell $(LD) --help 2>/dev/null | grep -q no-warn-rwx-segments && echo --no-warn-rwx-segments)

# The runtime: 32-bit objects for every guest, mode-neutral ones also as 64-bit.
GUEST_LIB32 := entry isr longmode boot idt paging console test fwcfg pic
GUEST_LIB64 := isr64 idt console test fwcfg
# Pure parts of the VMM's own library are shared, not copied (built with the guests' flags).
GUEST_VMMLIB := string
GUEST_VMMLIB_CFLAGS := -isystem $(shell $(CC) -print-file-name=include) -Iinclude
GUEST_LIB32_OBJ := $(GUEST_LIB32:%=$(GUEST_OUT)/obj32/lib/%.o) $(GUEST_VMMLIB:%=$(GUEST_OUT)/obj32/vmmlib/%.o)
GUEST_LIB64_OBJ := $(GUEST_LIB64:%=$(GUEST_OUT)/obj64/lib/%.o) $(GUEST_VMMLIB:%=$(GUEST_OUT)/obj64/vmmlib/%.o)

.PHONY: guests
guests: $(GUEST_ELFS)
check check-qemu: guests

$(GUEST_OUT)/obj32/%.o: $(GUEST_SRC)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	$(Q)$(CC) $(GUEST_CFLAGS32) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj32/%.o: $(GUEST_SRC)/%.S
	@mkdir -p $(dir $@)
	@echo "  AS32    $<"
	$(Q)$(CC) $(GUEST_CFLAGS32) -Wa,-I$(GUEST_OUT) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj32/vmmlib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	$(Q)$(CC) $(GUEST_CFLAGS32) $(GUEST_VMMLIB_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj64/vmmlib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC64    $<"
	$(Q)$(CC) $(GUEST_CFLAGS64) $(GUEST_VMMLIB_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj64/%.o: $(GUEST_SRC)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC64    $<"
	$(Q)$(CC) $(GUEST_CFLAGS64) -MMD -MP -c $< -o $@

$(GUEST_OUT)/obj64/%.o: $(GUEST_SRC)/%.S
	@mkdir -p $(dir $@)
	@echo "  AS64    $<"
	$(Q)$(CC) $(GUEST_CFLAGS64) -MMD -MP -c $< -o $@

$(GUEST_OUT)/%.elf: $(GUEST_OUT)/obj32/%.o $(GUEST_LIB32_OBJ) $(GUEST_SRC)/lib/guest.ld
	@echo "  LD      $@"
	$(Q)$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T $(GUEST_SRC)/lib/guest.ld -o $@ $(filter %.o,$^)

# longmode: the 64-bit part, linked at 0x200000 and embedded as a flat binary.
$(GUEST_OUT)/longmode64.elf: $(GUEST_OUT)/obj64/longmode64.o $(GUEST_LIB64_OBJ) $(GUEST_SRC)/lib/lm64.ld
	@echo "  LD64    $@"
	$(Q)$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T $(GUEST_SRC)/lib/lm64.ld -o $@ $(filter %.o,$^)
$(GUEST_OUT)/longmode64.bin: $(GUEST_OUT)/longmode64.elf
	$(Q)$(OBJCOPY) -O binary $< $@
$(GUEST_OUT)/obj32/longmode_blob.o: $(GUEST_OUT)/longmode64.bin
$(GUEST_OUT)/longmode.elf: $(GUEST_OUT)/obj32/longmode_blob.o

.PRECIOUS: $(GUEST_OUT)/obj32/%.o $(GUEST_OUT)/obj64/%.o
-include $(wildcard $(GUEST_OUT)/obj32/*.d $(GUEST_OUT)/obj32/lib/*.d \
	$(GUEST_OUT)/obj64/*.d $(GUEST_OUT)/obj64/lib/*.d $(GUEST_OUT)/obj32/vmmlib/*.d $(GUEST_OUT)/obj64/vmmlib/*.d)
