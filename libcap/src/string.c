/*
 * Freestanding string and memory functions, shared by the kernel (and
 * Debian's libfdt.a linked into it, which needs exactly these plus strtoul)
 * and by userspace through libcap. Simple byte loops where speed does
 * not matter; memset/memcpy use word stores on aligned data, eight words per
 * loop turn (the compiler pairs them into stp/ldp), because page clearing
 * and copying go through them. Kernel code is built with -mstrict-align.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    if (((uintptr_t)d & 7) == 0 && (n & 7) == 0) {
        uint64_t word = (unsigned char)c * 0x0101010101010101UL;
        uint64_t *w = dst;
        for (; n >= 64; n -= 64, w += 8) {
            w[0] = w[1] = w[2] = w[3] = word;
            w[4] = w[5] = w[6] = w[7] = word;
        }
        for (; n; n -= 8)
            *w++ = word;
        return dst;
    }
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    if ((((uintptr_t)dst | (uintptr_t)src | n) & 7) == 0) {
        uint64_t *d = dst;
        const uint64_t *s = src;
        for (; n >= 64; n -= 64, d += 8, s += 8) {
            uint64_t a0 = s[0], a1 = s[1], a2 = s[2], a3 = s[3];
            uint64_t a4 = s[4], a5 = s[5], a6 = s[6], a7 = s[7];
            d[0] = a0, d[1] = a1, d[2] = a2, d[3] = a3;
            d[4] = a4, d[5] = a5, d[6] = a6, d[7] = a7;
        }
        for (; n; n -= 8)
            *d++ = *s++;
        return dst;
    }
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    for (; n; n--, p++)
        if (*p == (unsigned char)c)
            return (void *)p;
    return NULL;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

char *strcpy(char *restrict dst, const char *restrict src)
{
    memcpy(dst, src, strlen(src) + 1);
    return dst;
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strstr(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++)
        if (strncmp(haystack, needle, n) == 0)
            return (char *)haystack;
    return n == 0 ? (char *)haystack : NULL;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

unsigned long strtoul(const char *s, char **end, int base)
{
    unsigned long value = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        base = 16;
    } else if (base == 0) {
        base = s[0] == '0' ? 8 : 10;
    }
    for (int d; (d = digit_value(*s)) < base; s++)
        value = value * (unsigned long)base + (unsigned long)d;
    if (end)
        *end = (char *)s;
    return value;
}
