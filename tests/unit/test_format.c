#include "test.h"
#include "lib.h"

static const char *f(const char *fmt, ...)
{
    static char buf[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

TEST(integers)
{
    CHECK_STR(f("%d %i %u", -42, 7, 4000000000u), "-42 7 4000000000");
    CHECK_STR(f("%x %X %#x %#o %o", 0xbeef, 0xbeef, 255, 8, 8), "beef BEEF 0xff 010 10");
    CHECK_STR(f("%lld %llu", -9223372036854775807ll - 1, 18446744073709551615ull),
              "-9223372036854775808 18446744073709551615");
    CHECK_STR(f("%ld %lx %zu %zx", -1l, 0xfffffffffful, (size_t)123, (size_t)0xabc), "-1 ffffffffff 123 abc");
    CHECK_STR(f("%hhd %hu %hhx", 300, 70000, 0x1ff), "44 4464 ff");
    CHECK_STR(f("%+d % d %+d", 5, 5, -5), "+5  5 -5");
}

TEST(width_precision_flags)
{
    CHECK_STR(f("[%5d][%-5d][%05d][%-05d]", 42, 42, 42, 42), "[   42][42   ][00042][42   ]");
    CHECK_STR(f("[%.3d][%8.3d][%08.3d]", 7, 7, 7), "[007][     007][     007]");
    CHECK_STR(f("[%.0d][%.0x]", 0, 0), "[][]");
    CHECK_STR(f("[%016llx]", 0x1234ull), "[0000000000001234]");
    CHECK_STR(f("[%*d][%-*d][%.*s]", 4, 1, 4, 2, 2, "abcdef"), "[   1][2   ][ab]");
    CHECK_STR(f("[%-6s][%6s][%.2s]", "ab", "ab", "abc"), "[ab    ][    ab][ab]");
    CHECK_STR(f("[%3c][%-3c]", 'x', 'y'), "[  x][y  ]");
    CHECK_STR(f("%#x %#X", 0, 0xab), "0 0XAB");
    CHECK_STR(f("[%-+5d]", 3), "[+3   ]");
}

TEST(strings_pointers_and_oddities)
{
    CHECK_STR(f("%s|%s", "", (char *)NULL), "|(null)");
    CHECK_STR(f("%p", (void *)0x1000), "0x1000");
    CHECK_STR(f("100%%"), "100%");
    CHECK_STR(f("%q"), "%q");       /* unknown conversions print verbatim */
    CHECK_STR(f("end%"), "end");    /* a trailing lone % stops, reads nothing */
}

TEST(truncation_and_return_value)
{
    char buf[8];
    int n = ksnprintf(buf, sizeof(buf), "%s", "0123456789");
    CHECK_EQ(n, 10);
    CHECK_STR(buf, "0123456");
    n = ksnprintf(buf, 1, "abc");
    CHECK_EQ(n, 3);
    CHECK_STR(buf, "");
    n = ksnprintf(NULL, 0, "%d", 12345);
    CHECK_EQ(n, 5);
}

TEST(strutil)
{
    char d[4];
    CHECK_EQ(kstrlcpy(d, "abcdef", sizeof(d)), 6);
    CHECK_STR(d, "abc");
    CHECK_EQ(kstrnlen("abc", 2), 2);
    CHECK_EQ(kstrnlen("abc", 10), 3);
    uint64_t v = 0;
    CHECK(kparse_u64("123", &v) && v == 123);
    CHECK(kparse_u64("0x1F", &v) && v == 31);
    CHECK(kparse_u64("64M", &v) && v == 64ull << 20);
    CHECK(kparse_u64("2g", &v) && v == 2ull << 30);
    CHECK(kparse_u64("18446744073709551615", &v) && v == UINT64_MAX);
    CHECK(!kparse_u64("18446744073709551616", &v));
    CHECK(!kparse_u64("", &v));
    CHECK(!kparse_u64("0x", &v));
    CHECK(!kparse_u64("12q", &v));
    CHECK(!kparse_u64("1MM", &v));
    CHECK(!kparse_u64("17179869184G", &v));
}

TEST(base64_matches_rfc4648_vectors)
{
    static const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    char buf[16];
    for (int i = 0; i < 7; i++) {
        CHECK_EQ(base64_encode(in[i], strlen(in[i]), buf, sizeof(buf)), strlen(out[i]));
        CHECK_STR(buf, out[i]);
    }
    CHECK_EQ(base64_encode("foobar", 6, buf, 8), 0);     /* no room for 8 chars + NUL */
}

TEST(crc32_matches_zlib)
{
    CHECK_EQ(crc32_update(0, "123456789", 9), 0xCBF43926);   /* the standard check value */
    CHECK_EQ(crc32_update(0, "", 0), 0);
    uint32_t c = crc32_update(0, "12345", 5);
    CHECK_EQ(crc32_update(c, "6789", 4), 0xCBF43926);         /* incremental == one shot */
}

TEST(parse_ipv4)
{
    uint8_t ip[4];
    CHECK(kparse_ipv4("10.0.2.2", ip) && ip[0] == 10 && ip[1] == 0 && ip[2] == 2 && ip[3] == 2);
    CHECK(kparse_ipv4("255.255.255.255", ip) && ip[0] == 255 && ip[3] == 255);
    CHECK(kparse_ipv4("0.0.0.0", ip) && !ip[0] && !ip[3]);
    static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "1..2.3", "01.2.3.4",
                                       "1.2.3.1000", "a.b.c.d", "1.2.3.-4", ".1.2.3", "1.2.3.4." };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!kparse_ipv4(bad[i], ip));
    CHECK(!kparse_ipv4(NULL, ip));
}
