#ifndef MV_VERSION_H
#define MV_VERSION_H
#define MONOVISOR_VERSION "0.1"
/* Hex of the linker's build-id note: ties a serial log or trace to the exact image. */
const char *build_id_string(void);
#endif
