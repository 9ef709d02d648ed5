#include "fwcfg.h"
#include "x86.h"

void fwcfg_read(u16 key, void *buf, u32 len)
{
	u8 *p = buf;
	outw(FW_CFG_PORT_SEL, key);
	while (len--)
		*p++ = inb(FW_CFG_PORT_DATA);
}

bool fwcfg_present(void)
{
	char sig[4];
	fwcfg_read(FW_CFG_SIGNATURE, sig, 4);
	return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}

u16 fwcfg_nb_cpus(void)
{
	u8 b[2];
	fwcfg_read(FW_CFG_NB_CPUS, b, 2);
	return (u16)(b[0] | b[1] << 8);
}
