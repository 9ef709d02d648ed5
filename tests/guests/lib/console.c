/* COM1 output (polling LSR.THRE before every byte) and a minimal printf. */
#include "console.h"
#include "x86.h"

/* Bounded polls: a missing UART reads LSR as 0xff (ready), a stuck one must not hang us. */
#define POLL_LIMIT 1000000

void serial_putc(char c)
{
	for (int i = 0; i < POLL_LIMIT && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		;
	outb(COM1, (u8)c);
}

void serial_flush(void)
{
	for (int i = 0; i < POLL_LIMIT && !(inb(COM1 + UART_LSR) & LSR_TEMT); i++)
		;
}

void puts_raw(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

struct sink {
	char *buf;              /* NULL: write to the serial port */
	size_t size, len;
};

static void put(struct sink *k, char c)
{
	if (!k->buf)
		serial_putc(c);
	else if (k->len + 1 < k->size)
		k->buf[k->len] = c;
	k->len++;
}

/* n / base with the remainder, by shift-and-subtract: no 64-bit division helper needed. */
static u64 divmod(u64 n, u32 base, u32 *rem)
{
	u64 q = 0;
	u32 r = 0;
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | (u32)((n >> i) & 1);
		q <<= 1;
		if (r >= base) {
			r -= base;
			q |= 1;
		}
	}
	*rem = r;
	return q;
}

static void put_num(struct sink *k, u64 v, u32 base, bool upper, bool neg, int width,
		    bool zero, bool left)
{
	char tmp[24];
	int n = 0;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	do {
		u32 r;
		if (base == 16) {       /* the common case, without the slow division */
			r = (u32)v & 15;
			v >>= 4;
		} else {
			v = divmod(v, base, &r);
		}
		tmp[n++] = digits[r];
	} while (v);
	int len = n + (neg ? 1 : 0);
	if (!left && !zero)
		for (; width > len; width--)
			put(k, ' ');
	if (neg)
		put(k, '-');
	if (!left && zero)
		for (; width > len; width--)
			put(k, '0');
	while (n)
		put(k, tmp[--n]);
	if (left)
		for (; width > len; width--)
			put(k, ' ');
}

static void format(struct sink *k, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(k, *fmt);
			continue;
		}
		bool zero = false, left = false;
		int width = 0, lng = 0;
		for (;; fmt++) {
			if (fmt[1] == '0')
				zero = true;
			else if (fmt[1] == '-')
				left = true;
			else
				break;
		}
		while (fmt[1] >= '0' && fmt[1] <= '9')
			width = width * 10 + (*++fmt - '0');
		while (fmt[1] == 'l' || fmt[1] == 'z') {
			lng += fmt[1] == 'z' ? (sizeof(size_t) == 8 ? 2 : 1) : 1;
			fmt++;
		}
		char c = *++fmt;
		u64 v;
		switch (c) {
		case 'd':
		case 'i': {
			s64 s = lng >= 2 ? va_arg(ap, s64)
			      : lng == 1 ? (s64)va_arg(ap, long) : (s64)va_arg(ap, int);
			put_num(k, s < 0 ? -(u64)s : (u64)s, 10, false, s < 0, width, zero, left);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = lng >= 2 ? va_arg(ap, u64)
			  : lng == 1 ? (u64)va_arg(ap, unsigned long) : (u64)va_arg(ap, unsigned int);
			put_num(k, v, c == 'u' ? 10 : 16, c == 'X', false, width, zero, left);
			break;
		case 'p':
			put(k, '0');
			put(k, 'x');
			put_num(k, (u64)(uintptr_t)va_arg(ap, void *), 16, false, false, width, zero,
				left);
			break;
		case 'c':
			put(k, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int len = 0;
			while (s[len])
				len++;
			if (!left)
				for (; width > len; width--)
					put(k, ' ');
			while (*s)
				put(k, *s++);
			if (left)
				for (; width > len; width--)
					put(k, ' ');
			break;
		}
		case '%':
			put(k, '%');
			break;
		case '\0':
			return;
		default:
			put(k, '%');
			put(k, c);
			break;
		}
	}
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink k = { NULL, 0, 0 };
	format(&k, fmt, ap);
	return (int)k.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct sink k = { buf, n, 0 };
	format(&k, fmt, ap);
	if (n)
		buf[k.len < n ? k.len : n - 1] = '\0';
	return (int)k.len;
}

int snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
