#include "rtc_host.h"
#include "cpu.h"

#define UIP_SPINS 1000000

static uint8_t cmos(uint8_t reg)
{
    outb(RTC_PORT_INDEX, reg | RTC_INDEX_NMI_MASK);    /* keep NMIs masked while we poke it */
    return inb(RTC_PORT_DATA);
}

static bool read_once(struct rtc_time *t)
{
    for (unsigned i = 0; cmos(RTC_REG_A) & REGA_UIP; i++)
        if (i == UIP_SPINS)
            return false;
    uint8_t b = cmos(RTC_REG_B);
    uint8_t sec = cmos(RTC_REG_SEC), min = cmos(RTC_REG_MIN), hour = cmos(RTC_REG_HOUR);
    uint8_t day = cmos(RTC_REG_MDAY), mon = cmos(RTC_REG_MONTH), year = cmos(RTC_REG_YEAR);
    bool pm = !(b & REGB_24H) && (hour & RTC_HOUR_PM);
    hour &= (uint8_t)~RTC_HOUR_PM;
    if (!(b & REGB_DM_BINARY)) {
        sec = rtc_from_bcd(sec); min = rtc_from_bcd(min); hour = rtc_from_bcd(hour);
        day = rtc_from_bcd(day); mon = rtc_from_bcd(mon); year = rtc_from_bcd(year);
    }
    if (!(b & REGB_24H))
        hour = (uint8_t)(hour % 12 + (pm ? 12 : 0));
    *t = (struct rtc_time){ (uint16_t)(2000 + year), mon, day, hour, min, sec, 0 };
    return sec < 60 && min < 60 && hour < 24 && day >= 1 && day <= 31 && mon >= 1 && mon <= 12;
}

bool host_rtc_read(struct rtc_time *t)
{
    struct rtc_time a, b;
    /* Read until two reads agree, so no field is from either side of an update. */
    for (int tries = 0; tries < 4; tries++) {
        if (read_once(&a) && read_once(&b) && a.sec == b.sec && a.min == b.min && a.hour == b.hour &&
            a.day == b.day && a.month == b.month && a.year == b.year) {
            *t = a;
            return true;
        }
    }
    *t = (struct rtc_time){ 2000, 1, 1, 0, 0, 0, 0 };
    return false;
}
