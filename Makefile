# monovisor build. `make` builds build/monovisor.elf; see README.md for the rest.
CROSS_COMPILE ?=
CC      := $(CROSS_COMPILE)gcc
LD      := $(CROSS_COMPILE)ld
OBJCOPY := $(CROSS_COMPILE)objcopy
NASM    ?= nasm
HOSTCC  ?= gcc
PYTHON  ?= python3

B := build
# Debug-only code (extra assertions, verbose logs) is compiled in with DEBUG=1, never otherwise.
DEBUG ?= 0

KCFLAGS := -std=c11 -O2 -g -ffreestanding -fno-builtin -nostdlib -nostdinc \
	-mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-80387 -mcmodel=kernel \
	-fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-common -fno-strict-aliasing \
	-Wall -Wextra -Werror -Wno-unused-parameter \
	-isystem $(shell $(CC) -print-file-name=include) -Iinclude -I. -DMONOVISOR_DEBUG=$(DEBUG)
# The kernel is linked in the low 2 GiB and runs identity-mapped: -mcmodel=kernel needs
# negative addresses, so use the small model instead.
KCFLAGS := $(filter-out -mcmodel=kernel,$(KCFLAGS)) -mcmodel=small
KLDFLAGS := $(shell $(LD) --help 2>/dev/null | grep -q no-warn-rwx-segments && echo --no-warn-rwx-segments) -nostdlib -static -z max-page-size=0x1000 -T boot/linker.ld --build-id=sha1

# Kernel sources: every .c/.asm under these directories goes into the image.
KDIRS := boot arch/x86 arch/x86/vmx mm dev net sched trace lib kernel vm
KSRC_C   := $(foreach d,$(KDIRS),$(wildcard $(d)/*.c))
KSRC_ASM := $(foreach d,$(KDIRS),$(wildcard $(d)/*.asm))
KOBJ := $(patsubst %.c,$(B)/k/%.o,$(KSRC_C)) $(patsubst %.asm,$(B)/k/%.o,$(KSRC_ASM))


.PHONY: linux-guest guests-iso all iso pxe check check-unit check-py check-qemu check-bochs demo demo-qemu clean bench
all: $(B)/monovisor.elf

# Test guests (build/guests/*.elf): defined here so later rules can depend on them.
-include tests/guests/guests.mk

Q ?= @
$(B)/k/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(B)/k/%.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(NASM) -f elf64 -g -Iinclude/ -o $@ $<

$(B)/monovisor.elf: $(KOBJ) boot/linker.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(KLDFLAGS) -o $@ $(KOBJ)
	@$(PYTHON) scripts/check-image $@

-include $(KOBJ:.o=.d)

# ---- boot artefacts -------------------------------------------------------------------------
$(B)/monovisor.iso: $(B)/monovisor.elf boot/grub.cfg
	rm -rf $(B)/iso && mkdir -p $(B)/iso/boot/grub
	cp $(B)/monovisor.elf $(B)/iso/boot/monovisor.elf
	cp boot/grub.cfg $(B)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(B)/iso -- -volid MONOVISOR >$(B)/grub-mkrescue.log 2>&1 || \
		{ cat $(B)/grub-mkrescue.log; exit 1; }
iso: $(B)/monovisor.iso

$(B)/pxe/boot.ipxe: $(B)/monovisor.elf boot/boot.ipxe
	mkdir -p $(B)/pxe
	cp $(B)/monovisor.elf $(B)/pxe/monovisor.elf
	cp boot/boot.ipxe $@
pxe: $(B)/pxe/boot.ipxe

# An ISO with every test guest as its own VM (tests/integration/test_nested.py boots it in Bochs).
GUEST_VM_MEM ?= 16M
# Timing guests run alone after the others (`vm run`), so their figures are not shared-CPU ones.
GUEST_VM_OPTS_pit_tick := autostart=no
GUEST_VM_OPTS_cpu_share := autostart=no
GUEST_VM_OPTS_irq_devices := autostart=no
GUEST_VM_OPTS_apic := autostart=no
# The hostile guests, their canary and the bare-Bochs runner check get ISOs of their own
# (tests/integration/test_hostile.py): their verdicts need a CPU shared with one VM, not twenty.
GUESTS_OWN_ISO := tsc_jump canary port_storm dev_fuzz vga_scribble apic_bench ide nic
$(B)/guests.iso: $(B)/monovisor.elf $(GUEST_ELFS) scripts/mkiso
	$(PYTHON) scripts/mkiso -o $@ $(foreach g,$(filter-out $(GUESTS_OWN_ISO),$(GUESTS)),--module "$(B)/guests/$(g).elf vm=$(g) mem=$(GUEST_VM_MEM) $(GUEST_VM_OPTS_$(g))")
guests-iso: $(B)/guests.iso

# Linux guest test material: Debian's cloud kernel and busybox-static, fetched with apt and
# packed into an initramfs at test time, never committed (scripts/mklinux; cached in build/linux).
linux-guest:
	$(PYTHON) scripts/mklinux --out $(B)/linux -q
	$(PYTHON) scripts/mklinux --flavour generic --out $(B)/linux-generic -q

# ---- tests ------------------------------------------------------------------------------------
UNIT_CFLAGS := -std=c11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude -I. \
	-DMONOVISOR_HOST_TEST=1 -DMONOVISOR_DEBUG=1 -fsanitize=address,undefined -fno-sanitize-recover=all
-include tests/unit/unit.mk

check-unit: $(UNIT_BINS)
	@$(PYTHON) tests/run-tests --unit $(UNIT_BINS)

check-py:
	@$(PYTHON) tests/run-tests --py

check-qemu: all iso pxe
	@$(PYTHON) tests/run-tests --qemu

check-bochs: all iso guests-iso linux-guest
	@$(PYTHON) tests/run-tests --bochs

check: all iso pxe guests-iso linux-guest $(UNIT_BINS)
	@$(PYTHON) tests/run-tests --unit $(UNIT_BINS) --py --qemu --bochs

# The default demo: monovisor in Bochs (emulated VMX) with the test guests as VMs, COM1 on this
# terminal: the guests run, then the shell (try `vms`, `exits`, `ports portio`). Ctrl-] quits.
# `make demo-qemu` boots the plain ISO in QEMU (no VMX without KVM).
demo: all guests-iso
	scripts/run-bochs --iso $(B)/guests.iso --timeout 0
demo-qemu: all iso
	scripts/run-qemu --mode cd --timeout 0

# Benchmarks, not tests: measured figures (Bochs, deterministic TSC).
bench: all guests linux-guest
	$(PYTHON) scripts/bench
	$(PYTHON) scripts/bench-linux
	$(PYTHON) scripts/bench-disks
	$(PYTHON) scripts/bench-net

clean:
	rm -rf $(B)
