/*
 * Hostile callers: NULL for every pointer, zero and oversize lengths (SIZE_MAX with a
 * pointer to a few bytes: the library must refuse before reading), every truncation
 * of every object, random bytes, undersized buffers, values outside their enums.
 * Under ASan and valgrind a read past a given length fails the run.
 *
 * usage: hostile BREACH_MANIFEST SPECIAL_MANIFEST
 */
#include "harness.h"

static uint64_t T;

/* Random bytes in a buffer of exactly `len` bytes (so ASan sees any over-read). */
static uint8_t *random_bytes(size_t len) {
  uint8_t *b = malloc(len ? len : 1);
  for (size_t i = 0; i < len; i++) {
    b[i] = (uint8_t)rand();
  }
  return b;
}

/* Every prefix of `b`, copied into a buffer of its own length, must be refused by
 * `install` with one of the codes in `ok1`/`ok2` (never a success, never a crash). */
typedef uint32_t (*installer)(const revocard_verifier *, const uint8_t *, size_t, uint64_t,
                              revocard_update *, char *, size_t);

static void every_prefix(const revocard_verifier *v, installer install, bytes b, uint32_t lo,
                         uint32_t hi) {
  int refused = 0;
  size_t step = b.len > 4096 ? b.len / 512 : 1;
  for (size_t len = 0; len < b.len; len += step) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, b.data, len);
    revocard_update u;
    uint32_t code = install(v, copy, len, T, &u, NULL, 0);
    refused += code >= lo && code <= hi && u.outcome == REVOCARD_UPDATE_OUTCOME_REFUSED;
    free(copy);
  }
  CHECK(refused == (int)((b.len + step - 1) / step));
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: hostile BREACH_MANIFEST SPECIAL_MANIFEST\n");
    return 2;
  }
  srand(99);
  manifest s = read_manifest(argv[2]);
  T = strtoull(get(&s, "now"), NULL, 10);
  bytes anchor = fixture(&s, "anchor"), key_set = fixture(&s, "key_set");
  bytes list = fixture(&s, "list1"), delta = fixture(&s, "delta2");
  bytes warrant = fixture(&s, "warrant");
  uint8_t tiny[4] = {1, 2, 3, 4};
  char buf[256];
  size_t n = 0;

  /* The version and the names are static strings. */
  CHECK(strncmp(revocard_version(), "revocard-ffi ", 13) == 0);
  CHECK(strcmp(revocard_result_name(REVOCARD_RESULT_OK), "ok") == 0);
  CHECK(strcmp(revocard_result_name(UINT32_MAX), "unknown") == 0);

  /* Making a verifier: NULLs, zero, oversize, truncated, random. */
  revocard_verifier *v = NULL;
  CHECK_RESULT(revocard_verifier_new(NULL, 10, &v), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_new(anchor.data, anchor.len, NULL),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_new(tiny, 0, &v), REVOCARD_RESULT_ANCHOR_MALFORMED);
  CHECK_RESULT(revocard_verifier_new(tiny, SIZE_MAX, &v), REVOCARD_RESULT_ANCHOR_MALFORMED);
  CHECK_RESULT(revocard_verifier_new(tiny, REVOCARD_MAX_ROOT_ANCHOR_BYTES + 1, &v),
               REVOCARD_RESULT_ANCHOR_MALFORMED);
  for (size_t len = 0; len < anchor.len; len++) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, anchor.data, len);
    CHECK_RESULT(revocard_verifier_new(copy, len, &v), REVOCARD_RESULT_ANCHOR_MALFORMED);
    free(copy);
  }
  for (int i = 0; i < 200; i++) {
    size_t len = (size_t)(rand() % 300);
    uint8_t *junk = random_bytes(len);
    CHECK_RESULT(revocard_verifier_new(junk, len, &v), REVOCARD_RESULT_ANCHOR_MALFORMED);
    free(junk);
  }
  CHECK(v == NULL);
  CHECK_RESULT(revocard_verifier_new(anchor.data, anchor.len, &v), REVOCARD_RESULT_OK);

  /* Installs: NULL verifier, NULL bytes, oversize, every truncation, random. */
  revocard_update u = {REVOCARD_UPDATE_OUTCOME_ADVANCED, 5, 5};
  CHECK_RESULT(revocard_verifier_install_list(NULL, list.data, list.len, T, &u, buf, sizeof buf),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK(u.outcome == REVOCARD_UPDATE_OUTCOME_REFUSED);
  CHECK_RESULT(revocard_verifier_install_list(v, NULL, 5, T, NULL, NULL, 0),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_install_key_set(v, NULL, 0, T, NULL, NULL, 0),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_apply_delta(v, NULL, 0, T, NULL, NULL, 0),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_install_list(v, tiny, SIZE_MAX, T, &u, buf, sizeof buf),
               REVOCARD_RESULT_LIST_MALFORMED);
  CHECK(strstr(buf, "limit") != NULL);
  CHECK_RESULT(revocard_verifier_install_list(v, tiny, REVOCARD_MAX_LIST_BYTES + 1, T, &u, NULL,
                                              0),
               REVOCARD_RESULT_LIST_MALFORMED);
  CHECK_RESULT(revocard_verifier_apply_delta(v, tiny, SIZE_MAX, T, &u, NULL, 0),
               REVOCARD_RESULT_LIST_MALFORMED);
  CHECK_RESULT(revocard_verifier_install_key_set(v, tiny, SIZE_MAX, T, &u, NULL, 0),
               REVOCARD_RESULT_KEY_SET_MALFORMED);
  CHECK_RESULT(revocard_verifier_install_key_set(v, tiny, 0, T, &u, NULL, 0),
               REVOCARD_RESULT_KEY_SET_MALFORMED);
  /* A message buffer of one byte holds only the NUL. */
  buf[0] = 'x';
  CHECK_RESULT(revocard_verifier_install_list(v, tiny, 0, T, &u, buf, 1),
               REVOCARD_RESULT_LIST_MALFORMED);
  CHECK(buf[0] == 0);
  every_prefix(v, revocard_verifier_install_key_set, key_set, 400, 499);
  every_prefix(v, revocard_verifier_install_list, list, 300, 399);
  every_prefix(v, revocard_verifier_apply_delta, delta, 300, 399);
  for (int i = 0; i < 200; i++) {
    size_t len = (size_t)(rand() % 2000);
    uint8_t *junk = random_bytes(len);
    uint32_t a = revocard_verifier_install_key_set(v, junk, len, T, &u, buf, sizeof buf);
    uint32_t b = revocard_verifier_install_list(v, junk, len, T, &u, buf, sizeof buf);
    uint32_t c = revocard_verifier_apply_delta(v, junk, len, T, &u, buf, sizeof buf);
    CHECK(a >= 400 && a <= 499 && b >= 300 && b <= 399 && c >= 300 && c <= 399);
    free(junk);
  }
  CHECK_RESULT(revocard_verifier_install_key_set(v, key_set.data, key_set.len, T, &u, NULL, 0),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_verifier_install_list(v, list.data, list.len, T, &u, NULL, 0),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_verifier_list_sequence(NULL, &T), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_list_sequence(v, NULL), REVOCARD_RESULT_NULL_PARAMETER);

  /* Verify: NULLs, zero, oversize, every truncation, random bytes and text. */
  revocard_verdict *verdict = NULL;
  CHECK_RESULT(revocard_verifier_verify(NULL, warrant.data, warrant.len, T, NULL),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_verify(v, NULL, warrant.len, T, &verdict),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK(verdict == NULL);
  CHECK_RESULT(revocard_verifier_verify(v, tiny, 0, T, NULL),
               REVOCARD_RESULT_MALFORMED_CREDENTIAL);
  CHECK_RESULT(revocard_verifier_verify(v, tiny, SIZE_MAX, T, &verdict),
               REVOCARD_RESULT_MALFORMED_CREDENTIAL);
  CHECK_RESULT(revocard_verdict_message(verdict, buf, sizeof buf, &n), REVOCARD_RESULT_OK);
  CHECK(strstr(buf, "limit") != NULL);
  CHECK_RESULT(revocard_verdict_serial(verdict, (uint8_t *)buf, NULL),
               REVOCARD_RESULT_NOT_AVAILABLE);
  revocard_verdict_free(verdict);
  CHECK_RESULT(revocard_verifier_verify(v, tiny, REVOCARD_MAX_CREDENTIAL_BYTES + 1, T, NULL),
               REVOCARD_RESULT_MALFORMED_CREDENTIAL);
  for (size_t len = 0; len < warrant.len; len++) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, warrant.data, len);
    CHECK_RESULT(revocard_verifier_verify(v, copy, len, T, NULL),
                 REVOCARD_RESULT_MALFORMED_CREDENTIAL);
    free(copy);
  }
  for (int i = 0; i < 300; i++) {
    size_t len = (size_t)(rand() % (REVOCARD_MAX_CREDENTIAL_BYTES + 64));
    uint8_t *junk = random_bytes(len);
    uint32_t code = revocard_verifier_verify(v, junk, len, T, NULL);
    CHECK(code >= 100 && code <= 199);
    uint32_t text = revocard_verifier_verify_text(v, (const char *)junk, len, T, NULL);
    CHECK(text >= 100 && text <= 199);
    free(junk);
  }
  /* Every byte of a good credential flipped: never admitted. */
  int admitted = 0;
  for (size_t i = 0; i < warrant.len; i++) {
    warrant.data[i] ^= 0x01;
    admitted += revocard_verifier_verify(v, warrant.data, warrant.len, T, NULL) ==
                REVOCARD_RESULT_OK;
    warrant.data[i] ^= 0x01;
  }
  CHECK(admitted == 0);
  CHECK_RESULT(revocard_verifier_verify(v, warrant.data, warrant.len, T, NULL), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_verifier_verify_text(v, NULL, 0, T, NULL), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_verify_text(v, "abc", SIZE_MAX, T, NULL),
               REVOCARD_RESULT_MALFORMED_CREDENTIAL);
  CHECK_RESULT(revocard_verifier_verify_text(v, "not base64!", 11, T, NULL),
               REVOCARD_RESULT_MALFORMED_CREDENTIAL);

  /* Text form: size query, too small a buffer, NULLs. */
  CHECK_RESULT(revocard_credential_from_text("AAAA", 4, NULL, 0, &n),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == 3);
  CHECK_RESULT(revocard_credential_from_text("AAAA", 4, (uint8_t *)buf, 2, &n),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  CHECK_RESULT(revocard_credential_from_text("AAAA", 4, (uint8_t *)buf, 3, NULL),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_credential_from_text(NULL, 4, (uint8_t *)buf, 3, &n),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_credential_from_text("A", SIZE_MAX, (uint8_t *)buf, 3, &n),
               REVOCARD_RESULT_MALFORMED_CREDENTIAL);

  /* Verdict accessors: NULLs, size queries, bad field. */
  CHECK_RESULT(revocard_verifier_verify(v, warrant.data, warrant.len, T, &verdict),
               REVOCARD_RESULT_OK);
  CHECK(revocard_verdict_result(NULL) == REVOCARD_RESULT_NULL_PARAMETER);
  CHECK(!revocard_verdict_admitted(NULL));
  CHECK_RESULT(revocard_verdict_message(NULL, buf, sizeof buf, &n), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verdict_message(verdict, buf, sizeof buf, NULL),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verdict_holder(verdict, REVOCARD_HOLDER_FIELD_NAME, NULL, 0, &n),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == strlen("A. Officer"));
  /* Exactly the length, no room for the NUL: too small, nothing written. */
  memset(buf, 'z', sizeof buf);
  CHECK_RESULT(revocard_verdict_holder(verdict, REVOCARD_HOLDER_FIELD_NAME, buf, n, &n),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(buf[0] == 'z');
  CHECK_RESULT(revocard_verdict_holder(verdict, REVOCARD_HOLDER_FIELD_NAME, buf, n + 1, &n),
               REVOCARD_RESULT_OK);
  CHECK(strcmp(buf, "A. Officer") == 0);
  CHECK_RESULT(revocard_verdict_holder(verdict, 0, buf, sizeof buf, &n),
               REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_verdict_holder(verdict, 77, buf, sizeof buf, &n),
               REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_verdict_serial(verdict, NULL, NULL), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verdict_photo_digest(verdict, NULL), REVOCARD_RESULT_NULL_PARAMETER);
  uint8_t digest[32];
  CHECK_RESULT(revocard_verdict_photo_digest(verdict, digest), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_verdict_kind(verdict, NULL), REVOCARD_RESULT_NULL_PARAMETER);
  uint32_t police = 0;
  CHECK_RESULT(revocard_verdict_vetting(verdict, &police, NULL), REVOCARD_RESULT_NULL_PARAMETER);
  uint64_t nb = 0, na = 0;
  CHECK_RESULT(revocard_verdict_validity(verdict, &nb, &na), REVOCARD_RESULT_OK);
  CHECK(nb < T && T < na);
  CHECK_RESULT(revocard_verdict_validity(verdict, NULL, &na), REVOCARD_RESULT_NULL_PARAMETER);
  revocard_verdict_free(verdict);
  revocard_verdict_free(NULL);

  /* Policies: NULLs, bad ids, bad enum values. */
  revocard_door_policy *p = NULL;
  CHECK_RESULT(revocard_door_policy_new(NULL, 4, &p), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_policy_new("door", 4, NULL), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_policy_new("door", 0, &p), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_policy_new("door", SIZE_MAX, &p), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_policy_new("do\nor", 5, &p), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_policy_new("\xff\xfe", 2, &p), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK(p == NULL);
  CHECK_RESULT(revocard_door_policy_new("door", 4, &p), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_door_policy_admit_kinds(NULL, 1), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_policy_admit_kinds(p, 4), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_policy_require_vetting(p, 3, 0, 0), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_policy_require_vetting(p, 0, 1, 0), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_policy_require_vetting(p, 0, 0, 5), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_policy_require_vetting(NULL, 0, 0, 0),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_policy_require_holder_binding(NULL), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_policy_set_challenge_ttl(p, UINT64_MAX), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_door_policy_require_holder_binding(p), REVOCARD_RESULT_OK);

  /* Controllers: NULLs, zero and oversize counts, a NULL element. */
  revocard_door_controller *c = NULL;
  const revocard_door_policy *one[1] = {p};
  const revocard_door_policy *hole[2] = {p, NULL};
  CHECK_RESULT(revocard_door_controller_new(NULL, one, 1, &c), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_new(v, NULL, 1, &c), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_new(v, one, 1, NULL), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_new(v, one, 0, &c), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_controller_new(v, one, SIZE_MAX, &c), REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_controller_new(v, one, REVOCARD_MAX_DOORS + 1, &c),
               REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_controller_new(v, hole, 2, &c), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK(c == NULL);
  CHECK_RESULT(revocard_door_controller_new(v, one, 1, &c), REVOCARD_RESULT_OK);
  revocard_door_policy_free(p);
  revocard_door_policy_free(NULL);

  /* Challenges: NULLs, bad door, undersized buffer (no challenge issued). */
  uint8_t random[REVOCARD_RANDOM_LEN] = {0};
  uint8_t ch[REVOCARD_MAX_CHALLENGE_BYTES];
  CHECK_RESULT(revocard_door_controller_challenge(NULL, "door", 4, T, random, ch, sizeof ch, &n),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_challenge(c, "door", 4, T, NULL, ch, sizeof ch, &n),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_challenge(c, "door", 4, T, random, ch, sizeof ch, NULL),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_challenge(c, "door", 4, T, random, NULL, 0, &n),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n == REVOCARD_MAX_CHALLENGE_BYTES);
  CHECK_RESULT(revocard_door_controller_challenge(c, "door", 4, T, random, ch, 10, &n),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  CHECK_RESULT(revocard_door_controller_challenge(c, "elsewhere", 9, T, random, ch, sizeof ch,
                                                  &n),
               REVOCARD_RESULT_UNKNOWN_DOOR);
  CHECK_RESULT(revocard_door_controller_challenge(c, "door", SIZE_MAX, T, random, ch, sizeof ch,
                                                  &n),
               REVOCARD_RESULT_BAD_ARGUMENT);
  CHECK_RESULT(revocard_door_controller_challenge(c, "door", 4, T, random, ch, sizeof ch, &n),
               REVOCARD_RESULT_OK);
  size_t ch_len = n;

  /* The card side: NULLs, truncated and random challenges, small buffers. */
  uint8_t secret[32] = {7};
  uint8_t r[REVOCARD_MAX_RESPONSE_BYTES];
  CHECK_RESULT(revocard_card_respond(NULL, ch, ch_len, warrant.data, warrant.len, r, sizeof r,
                                     &n),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_card_respond(secret, NULL, ch_len, warrant.data, warrant.len, r,
                                     sizeof r, &n),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_card_respond(secret, ch, SIZE_MAX, warrant.data, warrant.len, r,
                                     sizeof r, &n),
               REVOCARD_RESULT_CHALLENGE_MALFORMED);
  CHECK_RESULT(revocard_card_respond(secret, ch, ch_len, warrant.data, SIZE_MAX, r, sizeof r, &n),
               REVOCARD_RESULT_MALFORMED_CREDENTIAL);
  for (size_t len = 0; len < ch_len; len++) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, ch, len);
    CHECK_RESULT(revocard_card_respond(secret, copy, len, warrant.data, warrant.len, r, sizeof r,
                                       &n),
                 REVOCARD_RESULT_CHALLENGE_MALFORMED);
    free(copy);
  }
  CHECK_RESULT(revocard_card_respond(secret, ch, ch_len, warrant.data, warrant.len, NULL, 0, &n),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  CHECK(n > 0 && n <= REVOCARD_MAX_RESPONSE_BYTES);
  CHECK_RESULT(revocard_card_respond(secret, ch, ch_len, warrant.data, warrant.len, r, n - 1, &n),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  CHECK_RESULT(revocard_card_respond(secret, ch, ch_len, warrant.data, warrant.len, r, sizeof r,
                                     NULL),
               REVOCARD_RESULT_NULL_PARAMETER);

  /* Taps: NULLs, oversize credential and response, random responses. */
  CHECK_RESULT(revocard_door_controller_tap(NULL, "door", 4, warrant.data, warrant.len, NULL, 0,
                                            T, NULL),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_tap(c, NULL, 4, warrant.data, warrant.len, NULL, 0, T,
                                            NULL),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_tap(c, "door", 4, NULL, 10, NULL, 0, T, NULL),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_tap(c, "door", 4, warrant.data, warrant.len, NULL, 5, T,
                                            NULL),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_door_controller_tap(c, "door", 4, tiny, SIZE_MAX, NULL, 0, T, &verdict),
               REVOCARD_RESULT_MALFORMED_CREDENTIAL);
  revocard_verdict_free(verdict);
  CHECK_RESULT(revocard_door_controller_tap(c, "door", 4, warrant.data, warrant.len, tiny,
                                            SIZE_MAX, T, &verdict),
               REVOCARD_RESULT_MALFORMED_RESPONSE);
  revocard_verdict_free(verdict);
  CHECK_RESULT(revocard_door_controller_tap(c, "door", 4, warrant.data, warrant.len, tiny, 0, T,
                                            NULL),
               REVOCARD_RESULT_MALFORMED_RESPONSE);
  for (int i = 0; i < 200; i++) {
    size_t len = (size_t)(rand() % (REVOCARD_MAX_RESPONSE_BYTES + 8));
    uint8_t *junk = random_bytes(len);
    uint32_t code = revocard_door_controller_tap(c, "door", 4, warrant.data, warrant.len, junk,
                                                 len, T, NULL);
    CHECK(code >= 200 && code <= 299);
    free(junk);
  }
  CHECK_RESULT(revocard_card_respond(secret, ch, ch_len, warrant.data, warrant.len, r, sizeof r,
                                     &n),
               REVOCARD_RESULT_OK);
  /* The right chip is not `secret`: the fixture's card secret is 32 bytes of 7. */
  uint32_t code = revocard_door_controller_tap(c, "door", 4, warrant.data, warrant.len, r, n, T,
                                               NULL);
  CHECK_RESULT(code, REVOCARD_RESULT_BAD_RESPONSE_SIGNATURE);

  /* Saved state: NULLs, size queries, zero and oversize lengths, every truncation,
   * random bytes, another issuer's anchor. */
  size_t state_len = 0;
  CHECK_RESULT(revocard_verifier_export_state(NULL, NULL, 0, &state_len),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_export_state(v, NULL, 0, NULL), REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_export_state(v, NULL, 0, &state_len),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  uint8_t *state = malloc(state_len);
  CHECK_RESULT(revocard_verifier_export_state(v, state, state_len - 1, &n),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  CHECK_RESULT(revocard_verifier_export_state(v, state, state_len, &n), REVOCARD_RESULT_OK);
  revocard_verifier *w = NULL;
  CHECK_RESULT(revocard_verifier_import_state(anchor.data, anchor.len, state, n, NULL, NULL, 0),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_import_state(NULL, 0, state, n, &w, NULL, 0),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_import_state(anchor.data, anchor.len, NULL, n, &w, NULL, 0),
               REVOCARD_RESULT_NULL_PARAMETER);
  CHECK_RESULT(revocard_verifier_import_state(anchor.data, anchor.len, tiny, SIZE_MAX, &w, buf,
                                              sizeof buf),
               REVOCARD_RESULT_STATE_MALFORMED);
  CHECK_RESULT(revocard_verifier_import_state(anchor.data, anchor.len, tiny, 0, &w, NULL, 0),
               REVOCARD_RESULT_STATE_MALFORMED);
  CHECK_RESULT(revocard_verifier_import_state(tiny, 4, state, n, &w, NULL, 0),
               REVOCARD_RESULT_ANCHOR_MALFORMED);
  size_t step = n > 4096 ? n / 256 : 1;
  int refused = 0, tried = 0;
  for (size_t len = 0; len < n; len += step) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, state, len);
    refused += revocard_verifier_import_state(anchor.data, anchor.len, copy, len, &w, NULL, 0) ==
               REVOCARD_RESULT_STATE_MALFORMED;
    tried++;
    free(copy);
  }
  CHECK(refused == tried);
  for (int i = 0; i < 100; i++) {
    size_t len = (size_t)(rand() % 512);
    uint8_t *junk = random_bytes(len);
    CHECK_RESULT(revocard_verifier_import_state(anchor.data, anchor.len, junk, len, &w, NULL, 0),
                 REVOCARD_RESULT_STATE_MALFORMED);
    free(junk);
  }
  CHECK(w == NULL);
  manifest b = read_manifest(argv[1]);
  bytes other_anchor = fixture(&b, "anchor");
  CHECK_RESULT(revocard_verifier_import_state(other_anchor.data, other_anchor.len, state, n, &w,
                                              buf, sizeof buf),
               REVOCARD_RESULT_STATE_WRONG_ROOT);
  CHECK(w == NULL);
  free(other_anchor.data);
  free_manifest(&b);
  free(state);

  revocard_door_controller_free(c);
  revocard_door_controller_free(NULL);
  revocard_verifier_free(v);
  revocard_verifier_free(NULL);
  free(anchor.data);
  free(key_set.data);
  free(list.data);
  free(delta.data);
  free(warrant.data);
  free_manifest(&s);
  return finish();
}
