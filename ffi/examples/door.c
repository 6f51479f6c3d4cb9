/*
 * A door controller in C over revocard's ABI.
 *
 * It keeps its trust in STATE_FILE across restarts (revocard_verifier_export_state
 * after every refresh, revocard_verifier_import_state at start; a missing or refused
 * state file means starting again from the anchor). It trusts the issuer whose root
 * anchor is in a publisher's folder (the layout
 * `revocard publish --out DIR` writes: DIR/<issuer>/anchor.rca, keysets/<K>.rks,
 * lists/<N>.rcl, deltas/<N>.rcd), brings its verifier up to date from that folder
 * (the newest key set; then the deltas after the list it holds, or the newest full
 * list when it holds none or a delta is missing), and decides the taps listed in a
 * file, one per line:
 *
 *   DOOR CREDENTIAL_TEXT [CARD_SECRET_HEX]
 *
 * DOOR is `front` (any valid card) or `custody` (warrant cards, MV vetting, and the
 * card must answer a challenge). CARD_SECRET_HEX stands in for the card's chip: the
 * example answers the door's challenge with it, as the chip would. Lines starting
 * with '#' are skipped. One line is printed per tap: ADMIT or DENY, the door, the
 * serial, and the reason.
 *
 * usage: door STATE_FILE ISSUER_DIR TAPS_FILE [NOW]
 *
 * Build (README.md, "A door in C"):
 *   cargo build --release -p revocard-ffi
 *   cc -I ffi/include ffi/examples/door.c target/release/librevocard_ffi.a \
 *      -lpthread -ldl -lm -o door
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "revocard.h"

/* The largest file read: a full list. */
#define MAX_FILE REVOCARD_MAX_LIST_BYTES

/* Reads at most MAX_FILE bytes of `path` into a malloc'd buffer; NULL if missing. */
static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    return NULL;
  }
  uint8_t *buf = malloc(MAX_FILE + 1);
  *len = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
  fclose(f);
  return buf;
}

/* The highest sequence among the files `<N>.<ext>` of `dir`; 0 if none. */
static uint64_t newest(const char *dir) {
  uint64_t best = 0;
  DIR *d = opendir(dir);
  if (!d) {
    return 0;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end = NULL;
    unsigned long long n = strtoull(e->d_name, &end, 10);
    if (end != e->d_name && *end == '.' && n > best) {
      best = n;
    }
  }
  closedir(d);
  return best;
}

typedef uint32_t (*installer)(const revocard_verifier *, const uint8_t *, size_t, uint64_t,
                              revocard_update *, char *, size_t);

/* Installs one file with `install`; prints what happened. The result code. */
static uint32_t install_file(revocard_verifier *v, installer install, const char *path,
                             uint64_t now) {
  size_t len = 0;
  uint8_t *bytes = read_file(path, &len);
  if (!bytes) {
    return REVOCARD_RESULT_NULL_PARAMETER;
  }
  char message[200];
  revocard_update update;
  uint32_t r = install(v, bytes, len, now, &update, message, sizeof message);
  printf("%s: %s (%s)\n", path, message, revocard_result_name(r));
  free(bytes);
  return r;
}

/* Brings the verifier up to date from the issuer's folder. */
static void refresh(revocard_verifier *v, const char *dir, uint64_t now) {
  char path[4096];
  snprintf(path, sizeof path, "%s/keysets", dir);
  uint64_t k = newest(path);
  snprintf(path, sizeof path, "%s/keysets/%llu.rks", dir, (unsigned long long)k);
  install_file(v, revocard_verifier_install_key_set, path, now);

  snprintf(path, sizeof path, "%s/lists", dir);
  uint64_t latest = newest(path);
  uint64_t held = 0;
  int have = revocard_verifier_list_sequence(v, &held) == REVOCARD_RESULT_OK;
  /* Deltas first: a few hundred bytes each, where a full list is kilobytes. */
  while (have && held < latest) {
    snprintf(path, sizeof path, "%s/deltas/%llu.rcd", dir, (unsigned long long)(held + 1));
    if (install_file(v, revocard_verifier_apply_delta, path, now) != REVOCARD_RESULT_OK) {
      break;
    }
    revocard_verifier_list_sequence(v, &held);
  }
  if (!have || held < latest) {
    snprintf(path, sizeof path, "%s/lists/%llu.rcl", dir, (unsigned long long)latest);
    install_file(v, revocard_verifier_install_list, path, now);
  }
}

/* Saves the verifier's state to `path`, through a temporary file renamed over it, so
 * that a crash mid-write leaves the previous state. */
static void save_state(const revocard_verifier *v, const char *path) {
  size_t len = 0;
  if (revocard_verifier_export_state(v, NULL, 0, &len) != REVOCARD_RESULT_BUFFER_TOO_SMALL) {
    return;
  }
  uint8_t *blob = malloc(len);
  if (blob && revocard_verifier_export_state(v, blob, len, &len) == REVOCARD_RESULT_OK) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f && fwrite(blob, 1, len, f) == len && fclose(f) == 0) {
      f = NULL;
      if (rename(tmp, path) == 0) {
        printf("state: saved %zu bytes to %s\n", len, path);
      }
    }
    if (f) {
      fclose(f);
    }
  }
  free(blob);
}

/* 32 bytes from the platform's random source, for a challenge. */
static int random32(uint8_t out[32]) {
  FILE *f = fopen("/dev/urandom", "rb");
  if (!f) {
    return 0;
  }
  size_t n = fread(out, 1, 32, f);
  fclose(f);
  return n == 32;
}

static int hex32(const char *hex, uint8_t out[32]) {
  if (strlen(hex) != 64) {
    return 0;
  }
  for (int i = 0; i < 32; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
      return 0;
    }
    out[i] = (uint8_t)v;
  }
  return 1;
}

/* Decides one tap and prints the decision. */
static void decide(const revocard_door_controller *doors, const char *door, const char *text,
                   const char *secret_hex, uint64_t now) {
  uint8_t cred[REVOCARD_MAX_CREDENTIAL_BYTES];
  size_t cred_len = 0;
  if (revocard_credential_from_text(text, strlen(text), cred, sizeof cred, &cred_len) !=
      REVOCARD_RESULT_OK) {
    printf("DENY %s - not a credential\n", door);
    return;
  }
  uint8_t response[REVOCARD_MAX_RESPONSE_BYTES];
  size_t response_len = 0;
  uint8_t secret[32], random[REVOCARD_RANDOM_LEN];
  if (secret_hex && hex32(secret_hex, secret) && random32(random)) {
    /* The door's challenge, answered by the card's chip (here, its secret). */
    uint8_t challenge[REVOCARD_MAX_CHALLENGE_BYTES];
    size_t challenge_len = 0;
    if (revocard_door_controller_challenge(doors, door, strlen(door), now, random, challenge,
                                           sizeof challenge, &challenge_len) ==
        REVOCARD_RESULT_OK) {
      revocard_card_respond(secret, challenge, challenge_len, cred, cred_len, response,
                            sizeof response, &response_len);
    }
    memset(secret, 0, sizeof secret);
  }
  revocard_verdict *verdict = NULL;
  uint32_t r = revocard_door_controller_tap(doors, door, strlen(door), cred, cred_len,
                                            response_len ? response : NULL, response_len, now,
                                            &verdict);
  uint8_t serial[16];
  char hex[33] = "-";
  if (revocard_verdict_serial(verdict, serial, NULL) == REVOCARD_RESULT_OK) {
    for (int i = 0; i < 16; i++) {
      snprintf(hex + 2 * i, 3, "%02x", serial[i]);
    }
  }
  char why[256];
  size_t why_len = 0;
  if (revocard_verdict_message(verdict, why, sizeof why, &why_len) != REVOCARD_RESULT_OK) {
    snprintf(why, sizeof why, "%s", revocard_result_name(r));
  }
  printf("%s %s %s %s: %s\n", r == REVOCARD_RESULT_OK ? "ADMIT" : "DENY", door, hex,
         revocard_result_name(r), why);
  revocard_verdict_free(verdict);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: door STATE_FILE ISSUER_DIR TAPS_FILE [NOW]\n");
    return 2;
  }
  const char *state_path = argv[1], *dir = argv[2], *taps_path = argv[3];
  uint64_t now = argc > 4 ? strtoull(argv[4], NULL, 10) : (uint64_t)time(NULL);
  char path[4096];
  snprintf(path, sizeof path, "%s/anchor.rca", dir);
  size_t len = 0;
  uint8_t *anchor = read_file(path, &len);
  if (!anchor) {
    fprintf(stderr, "door: cannot read %s\n", path);
    return 1;
  }
  revocard_verifier *v = NULL;
  uint32_t r = REVOCARD_RESULT_NULL_PARAMETER;
  size_t state_len = 0;
  uint8_t *state = read_file(state_path, &state_len);
  if (state) {
    char why[200];
    r = revocard_verifier_import_state(anchor, len, state, state_len, &v, why, sizeof why);
    printf("state: %s: %s (%s)\n", state_path, why, revocard_result_name(r));
    free(state);
  }
  if (r != REVOCARD_RESULT_OK) {
    r = revocard_verifier_new(anchor, len, &v);
  }
  free(anchor);
  if (r != REVOCARD_RESULT_OK) {
    fprintf(stderr, "door: %s: %s\n", path, revocard_result_name(r));
    return 1;
  }
  refresh(v, dir, now);
  save_state(v, state_path);

  revocard_door_policy *front = NULL, *custody = NULL;
  revocard_door_policy_new("front", 5, &front);
  revocard_door_policy_new("custody", 7, &custody);
  revocard_door_policy_admit_kinds(custody, REVOCARD_KIND_WARRANT_CARD);
  revocard_door_policy_require_vetting(custody, REVOCARD_POLICE_VETTING_FORCE_MV, 0, 0);
  revocard_door_policy_require_holder_binding(custody);
  const revocard_door_policy *policies[2] = {front, custody};
  revocard_door_controller *doors = NULL;
  r = revocard_door_controller_new(v, policies, 2, &doors);
  revocard_door_policy_free(front);
  revocard_door_policy_free(custody);
  if (r != REVOCARD_RESULT_OK) {
    fprintf(stderr, "door: %s\n", revocard_result_name(r));
    revocard_verifier_free(v);
    return 1;
  }

  FILE *taps = fopen(taps_path, "r");
  if (!taps) {
    fprintf(stderr, "door: cannot open %s\n", taps_path);
    revocard_door_controller_free(doors);
    revocard_verifier_free(v);
    return 1;
  }
  char line[4096];
  while (fgets(line, sizeof line, taps)) {
    char *save = NULL;
    char *door = strtok_r(line, " \t\r\n", &save);
    if (!door || door[0] == '#') {
      continue;
    }
    char *text = strtok_r(NULL, " \t\r\n", &save);
    char *secret = strtok_r(NULL, " \t\r\n", &save);
    if (text) {
      decide(doors, door, text, secret, now);
    }
  }
  fclose(taps);
  revocard_door_controller_free(doors);
  revocard_verifier_free(v);
  return 0;
}
