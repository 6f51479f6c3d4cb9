/*
 * The C side of the C ABI figure (ffi/bench/abi_ratio.sh): times
 * revocard_verifier_verify, from C, on the credential `abi_timing fixtures` wrote,
 * with the verdict handed out and freed each time (what a door that reads the
 * holder's fields does), and without a verdict.
 *
 * usage: verify_timing DIR [BATCHES] [PER_BATCH]
 * prints: c_ns_per_verify N  and  c_ns_per_verify_no_verdict N (fastest batch means)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "revocard.h"

#define T 1800000000ull

static uint8_t *slurp(const char *dir, const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  uint8_t *buf = malloc(REVOCARD_MAX_LIST_BYTES);
  *len = fread(buf, 1, REVOCARD_MAX_LIST_BYTES, f);
  fclose(f);
  return buf;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: verify_timing DIR [BATCHES] [PER_BATCH]\n");
    return 2;
  }
  int batches = argc > 2 ? atoi(argv[2]) : 30;
  int per_batch = argc > 3 ? atoi(argv[3]) : 500;
  size_t anchor_len, set_len, list_len, cred_len;
  uint8_t *anchor = slurp(argv[1], "anchor.rca", &anchor_len);
  uint8_t *set = slurp(argv[1], "keyset.rks", &set_len);
  uint8_t *list = slurp(argv[1], "list.rcl", &list_len);
  uint8_t *cred = slurp(argv[1], "credential.bin", &cred_len);
  revocard_verifier *v = NULL;
  if (revocard_verifier_new(anchor, anchor_len, &v) != REVOCARD_RESULT_OK ||
      revocard_verifier_install_key_set(v, set, set_len, T, NULL, NULL, 0) != REVOCARD_RESULT_OK ||
      revocard_verifier_install_list(v, list, list_len, T, NULL, NULL, 0) != REVOCARD_RESULT_OK ||
      revocard_verifier_verify(v, cred, cred_len, T, NULL) != REVOCARD_RESULT_OK) {
    fprintf(stderr, "set-up failed\n");
    return 1;
  }
  volatile uint32_t sink = 0;
  for (int i = 0; i < per_batch; i++) {
    revocard_verdict *verdict = NULL;
    sink += revocard_verifier_verify(v, cred, cred_len, T, &verdict);
    revocard_verdict_free(verdict);
  }
  double best = 1e300, best_bare = 1e300;
  for (int b = 0; b < batches; b++) {
    double start = now_ns();
    for (int i = 0; i < per_batch; i++) {
      revocard_verdict *verdict = NULL;
      sink += revocard_verifier_verify(v, cred, cred_len, T, &verdict);
      revocard_verdict_free(verdict);
    }
    double mean = (now_ns() - start) / per_batch;
    best = mean < best ? mean : best;
    start = now_ns();
    for (int i = 0; i < per_batch; i++) {
      sink += revocard_verifier_verify(v, cred, cred_len, T, NULL);
    }
    mean = (now_ns() - start) / per_batch;
    best_bare = mean < best_bare ? mean : best_bare;
  }
  if (sink != 0) {
    fprintf(stderr, "a verification failed\n");
    return 1;
  }
  printf("c_ns_per_verify %.0f\nc_ns_per_verify_no_verdict %.0f\n", best, best_bare);
  revocard_verifier_free(v);
  free(anchor);
  free(set);
  free(list);
  free(cred);
  return 0;
}
