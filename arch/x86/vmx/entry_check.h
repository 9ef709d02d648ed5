/* On a VM-entry failure for invalid guest state (exit reason 33) the CPU does not say which
 * check failed. This re-runs the common checks of SDM vol. 3, 27.3.1 on the VMCS and names
 * the first that fails. */
#ifndef MV_ENTRY_CHECK_H
#define MV_ENTRY_CHECK_H
#include "compiler.h"
struct vcpu;
void entry_check_explain(struct vcpu *v, char *out, size_t len);
#endif
