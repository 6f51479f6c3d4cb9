/*
 * A tiny test harness for the C tests of revocard's ABI: CHECK macros counting
 * passes and failures, the closing line "N passed, N failed", and the fixture files
 * (key=value lines written by ffi/tests/c_suite.rs).
 */
#ifndef REVOCARD_TEST_HARNESS_H
#define REVOCARD_TEST_HARNESS_H

#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "revocard.h"

static int passed, failed;

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (cond) {                                                              \
      passed++;                                                              \
    } else {                                                                 \
      failed++;                                                              \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
    }                                                                        \
  } while (0)

/* Checks a result code, naming both codes on failure. */
#define CHECK_RESULT(got_expr, want)                                         \
  do {                                                                       \
    uint32_t got_ = (uint32_t)(got_expr);                                    \
    uint32_t want_ = (uint32_t)(want);                                       \
    if (got_ == want_) {                                                     \
      passed++;                                                              \
    } else {                                                                 \
      failed++;                                                              \
      fprintf(stderr, "FAIL %s:%d: %s: got %u (%s), want %u (%s)\n",         \
              __FILE__, __LINE__, #got_expr, got_, revocard_result_name(got_), \
              want_, revocard_result_name(want_));                           \
    }                                                                        \
  } while (0)

static inline int finish(void) {
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}

/* A file's bytes (malloc'd; free them). Exits on error: a missing fixture is a
 * broken suite, not a failed check. */
typedef struct {
  uint8_t *data;
  size_t len;
} bytes;

static inline bytes read_file(const char *path) {
  bytes b = {NULL, 0};
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  size_t cap = 4096;
  b.data = malloc(cap);
  size_t n;
  while (b.data && (n = fread(b.data + b.len, 1, cap - b.len, f)) > 0) {
    b.len += n;
    if (b.len == cap) {
      cap *= 2;
      uint8_t *grown = realloc(b.data, cap);
      if (!grown) {
        free(b.data);
        b.data = NULL;
      }
      b.data = grown;
    }
  }
  fclose(f);
  if (!b.data) {
    fprintf(stderr, "out of memory reading %s\n", path);
    exit(2);
  }
  return b;
}

/* The fixture manifest: up to 64 key=value lines. */
typedef struct {
  char *keys[64];
  char *values[64];
  int n;
  bytes raw;
} manifest;

static inline manifest read_manifest(const char *path) {
  manifest m;
  memset(&m, 0, sizeof m);
  m.raw = read_file(path);
  uint8_t *grown = realloc(m.raw.data, m.raw.len + 1);
  if (!grown) {
    exit(2);
  }
  m.raw.data = grown;
  m.raw.data[m.raw.len] = 0;
  char *save = NULL;
  for (char *line = strtok_r((char *)m.raw.data, "\n", &save); line && m.n < 64;
       line = strtok_r(NULL, "\n", &save)) {
    char *eq = strchr(line, '=');
    if (!eq) {
      continue;
    }
    *eq = 0;
    m.keys[m.n] = line;
    m.values[m.n] = eq + 1;
    m.n++;
  }
  return m;
}

/* The value of the `nth` line named `key` (0 for the first); exits if there is none
 * and nth is 0, answers NULL past the last. */
static const char *get_nth(const manifest *m, const char *key, int nth) {
  for (int i = 0; i < m->n; i++) {
    if (strcmp(m->keys[i], key) == 0 && nth-- == 0) {
      return m->values[i];
    }
  }
  return NULL;
}

static const char *get(const manifest *m, const char *key) {
  const char *v = get_nth(m, key, 0);
  if (!v) {
    fprintf(stderr, "fixture has no %s\n", key);
    exit(2);
  }
  return v;
}

static inline bytes fixture(const manifest *m, const char *key) { return read_file(get(m, key)); }

static inline void free_manifest(manifest *m) { free(m->raw.data); }

/* 64 hex digits into 32 bytes. */
static inline void hex32(const char *hex, uint8_t out[32]) {
  for (int i = 0; i < 32; i++) {
    unsigned v = 0;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
      fprintf(stderr, "bad hex secret\n");
      exit(2);
    }
    out[i] = (uint8_t)v;
  }
}

/* Which result codes the suite has seen, to check that every denial was reached. */
static unsigned char seen_codes[600];

static inline uint32_t seen(uint32_t code) {
  if (code < sizeof seen_codes) {
    seen_codes[code] = 1;
  }
  return code;
}

#endif
