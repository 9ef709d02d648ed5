# Host unit tests: the pure parts of the VMM compiled for Linux with ASan/UBSan.
UNIT_TESTS := format bootinfo pmm heap lineedit vmx_caps vmconfig guest_mem mbguest devices gpt shadow i8259 i8254 ns16550 mc146818 pci i8042 sysreset acpi_pmtimer bzimage irq_router timer_registry mmio insn lapic ioapic acpi_tables acpi_pm trace disk_timing ide_bmdma virtqueue virtio_blk ata piix_ide virtio_net vswitch e1000 pci_scan e1000_host
UNIT_SRC_format   := lib/format.c lib/strutil.c lib/codec.c
UNIT_SRC_bootinfo := boot/bootinfo.c lib/format.c lib/strutil.c
UNIT_SRC_pmm      := mm/pmm.c
UNIT_SRC_heap     := mm/heap.c
UNIT_SRC_lineedit := kernel/lineedit.c kernel/shell_parse.c
UNIT_SRC_vmx_caps := arch/x86/vmx/vmx_caps.c
UNIT_SRC_vmconfig := vm/vmconfig.c lib/format.c lib/strutil.c
UNIT_SRC_guest_mem := mm/guest_mem.c
UNIT_SRC_mbguest  := vm/mbguest.c mm/guest_mem.c lib/format.c lib/strutil.c
UNIT_SRC_bzimage  := vm/bzimage.c mm/guest_mem.c lib/format.c lib/strutil.c
UNIT_SRC_devices  := dev/ioport.c dev/fw_cfg.c
UNIT_SRC_gpt      := mm/gpt.c
UNIT_SRC_shadow   := mm/shadow.c
UNIT_SRC_i8259    := dev/i8259.c dev/ioport.c
UNIT_SRC_i8254    := dev/i8254.c dev/ioport.c
UNIT_SRC_ns16550  := dev/ns16550.c dev/ioport.c
UNIT_SRC_mc146818 := dev/mc146818.c dev/ioport.c
UNIT_SRC_pci      := dev/pci.c dev/ioport.c
UNIT_SRC_i8042    := dev/i8042.c dev/ioport.c
UNIT_SRC_sysreset := dev/sysreset.c dev/ioport.c
UNIT_SRC_acpi_pmtimer := dev/acpi_pmtimer.c dev/ioport.c
UNIT_SRC_irq_router := dev/irq_router.c dev/i8259.c dev/ioapic.c dev/lapic.c dev/ioport.c
UNIT_SRC_mmio     := dev/mmio.c
UNIT_SRC_insn     := arch/x86/insn_decode.c arch/x86/insn_emulate.c
UNIT_SRC_lapic    := dev/lapic.c
UNIT_SRC_ioapic   := dev/ioapic.c
UNIT_SRC_acpi_tables := vm/acpi_tables.c vm/mptable.c
UNIT_SRC_acpi_pm  := dev/acpi_pm.c dev/ioport.c
UNIT_SRC_trace    := trace/trace.c trace/stats.c
UNIT_SRC_disk_timing := dev/disk_timing.c
UNIT_SRC_ide_bmdma := dev/ide_bmdma.c
UNIT_SRC_virtqueue := dev/virtqueue.c
UNIT_SRC_ata      := dev/ata.c
UNIT_SRC_piix_ide := dev/piix_ide.c dev/ata.c dev/ide_bmdma.c dev/pci.c dev/ioport.c
UNIT_SRC_virtio_blk := dev/virtio_blk.c dev/virtio_pci.c dev/virtqueue.c
UNIT_SRC_virtio_net := dev/virtio_net.c dev/virtio_pci.c dev/virtqueue.c
UNIT_SRC_e1000    := dev/e1000.c
UNIT_SRC_e1000_host := arch/x86/e1000_host.c dev/e1000.c
UNIT_SRC_pci_scan := arch/x86/pci_scan.c
UNIT_SRC_vswitch  := net/vswitch.c lib/strutil.c lib/format.c
UNIT_SRC_timer_registry := dev/timer_registry.c dev/irq_router.c dev/ioapic.c dev/lapic.c dev/i8259.c dev/i8254.c dev/mc146818.c dev/ioport.c

UNIT_BINS := $(patsubst %,$(B)/unit/test_%,$(UNIT_TESTS))

$(B)/unit/test_%: tests/unit/test_%.c tests/unit/harness.c tests/unit/test.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -MMD -MP -MF $@.d -o $@ tests/unit/test_$*.c tests/unit/harness.c $(UNIT_SRC_$*)

.SECONDEXPANSION:
$(UNIT_BINS): $$(UNIT_SRC_$$(patsubst test_%,%,$$(notdir $$@)))

# Header dependencies of each test binary (all its sources' includes).
-include $(UNIT_BINS:=.d)
