#ifndef MV_X86_PLATFORM_H
#define MV_X86_PLATFORM_H
#define HOST_PIC_VECTOR_BASE 0x20
void host_pic_disable(void);
#endif
