/*
 * malloc for Mica programs, over VMOs. Small blocks (up to 2 KiB) come
 * from size-class free lists carved out of a heap VMO mapped on first use;
 * larger ones get a VMO and mapping of their own, returned on free. One
 * lock makes it safe for several threads.
 */
#ifndef MICA_MALLOC_H
#define MICA_MALLOC_H

#include <stddef.h>

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);

#endif
