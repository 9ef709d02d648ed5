/* The machine's own RTC, read once per VM start to give the guest's RTC the time of day. */
#ifndef MV_X86_RTC_HOST_H
#define MV_X86_RTC_HOST_H
#include "compiler.h"
#include "dev/mc146818.h"
/* False (and 2000-01-01) if the RTC stays in an update or reads as nonsense. */
bool host_rtc_read(struct rtc_time *t);
#endif
