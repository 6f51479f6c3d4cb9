/*
 * Every denial code reached at least once (credential 100-114, door 200-211), and
 * the list, key-set and set-up refusals, on the second issuer's fixtures (made by
 * ffi/tests/c_suite.rs at a fixed time T with the library's issuing API).
 *
 * usage: denials BREACH_MANIFEST SPECIAL_MANIFEST
 */
#include "harness.h"

static uint64_t T;
static manifest S;

/* A fixture's bytes, kept in a table so they are freed at the end. */
static bytes kept[32];
static int n_kept;

static bytes file(const char *key) {
  bytes b = fixture(&S, key);
  if (n_kept < 32) {
    kept[n_kept++] = b;
  }
  return b;
}

/* Verifies `b` at `now`; the code, recorded as seen. */
static uint32_t verify_at(const revocard_verifier *v, bytes b, uint64_t now) {
  revocard_verdict *verdict = NULL;
  uint32_t code = revocard_verifier_verify(v, b.data, b.len, now, &verdict);
  CHECK(verdict != NULL);
  CHECK(revocard_verdict_result(verdict) == code);
  revocard_verdict_free(verdict);
  return seen(code);
}

/* A challenge of `door` on `doors`, answered with `secret` for `cred`, into
 * `response` (REVOCARD_MAX_RESPONSE_BYTES); its length. */
static size_t answer(const revocard_door_controller *doors, const char *door, bytes cred,
                     const uint8_t *secret, uint64_t now, uint8_t *response) {
  uint8_t random[REVOCARD_RANDOM_LEN];
  for (size_t i = 0; i < sizeof random; i++) {
    random[i] = (uint8_t)rand();
  }
  uint8_t challenge[REVOCARD_MAX_CHALLENGE_BYTES];
  size_t challenge_len = 0, response_len = 0;
  CHECK_RESULT(revocard_door_controller_challenge(doors, door, strlen(door), now, random,
                                                  challenge, sizeof challenge, &challenge_len),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_card_respond(secret, challenge, challenge_len, cred.data, cred.len,
                                     response, REVOCARD_MAX_RESPONSE_BYTES, &response_len),
               REVOCARD_RESULT_OK);
  return response_len;
}

static uint32_t tap(const revocard_door_controller *doors, const char *door, bytes cred,
                    const uint8_t *response, size_t response_len, uint64_t now) {
  revocard_verdict *verdict = NULL;
  uint32_t code = revocard_door_controller_tap(doors, door, strlen(door), cred.data, cred.len,
                                               response, response_len, now, &verdict);
  CHECK(verdict != NULL && revocard_verdict_result(verdict) == code);
  revocard_verdict_free(verdict);
  return seen(code);
}

static revocard_door_policy *policy(const char *door) {
  revocard_door_policy *p = NULL;
  CHECK_RESULT(revocard_door_policy_new(door, strlen(door), &p), REVOCARD_RESULT_OK);
  return p;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: denials BREACH_MANIFEST SPECIAL_MANIFEST\n");
    return 2;
  }
  srand(7);
  manifest breach = read_manifest(argv[1]);
  S = read_manifest(argv[2]);
  T = strtoull(get(&S, "now"), NULL, 10);
  uint8_t card_secret[32], other_secret[32];
  bytes cs = file("card_secret"), os = file("other_secret");
  memcpy(card_secret, cs.data, 32);
  memcpy(other_secret, os.data, 32);

  /* Set-up refusals. */
  bytes anchor = file("anchor");
  revocard_verifier *v = NULL;
  CHECK_RESULT(revocard_verifier_new(anchor.data, anchor.len - 1, &v),
               REVOCARD_RESULT_ANCHOR_MALFORMED);
  CHECK(v == NULL);
  CHECK_RESULT(revocard_verifier_new(anchor.data, anchor.len, &v), REVOCARD_RESULT_OK);

  bytes warrant = file("warrant"), staff = file("staff"), key_set = file("key_set");
  bytes list1 = file("list1"), delta2 = file("delta2"), delta3 = file("delta3");
  revocard_update u;
  char msg[200];

  /* No keys yet: the issuer's keys are unknown, its lists untrusted. */
  CHECK_RESULT(verify_at(v, warrant, T), REVOCARD_RESULT_UNKNOWN_KEY);
  CHECK_RESULT(revocard_verifier_install_list(v, list1.data, list1.len, T, &u, msg, sizeof msg),
               REVOCARD_RESULT_LIST_UNTRUSTED);
  CHECK(u.outcome == REVOCARD_UPDATE_OUTCOME_REFUSED);

  /* Key-set refusals, then the key set. */
  CHECK_RESULT(revocard_verifier_install_key_set(v, key_set.data, key_set.len - 3, T, &u, msg,
                                                 sizeof msg),
               REVOCARD_RESULT_KEY_SET_MALFORMED);
  key_set.data[5] ^= 0x01;
  CHECK_RESULT(revocard_verifier_install_key_set(v, key_set.data, key_set.len, T, &u, msg,
                                                 sizeof msg),
               REVOCARD_RESULT_KEY_SET_BAD_SIGNATURE);
  key_set.data[5] ^= 0x01;
  bytes other_set = read_file(get(&breach, "key_set"));
  CHECK_RESULT(revocard_verifier_install_key_set(v, other_set.data, other_set.len, T, &u, msg,
                                                 sizeof msg),
               REVOCARD_RESULT_KEY_SET_NO_ROOT);
  CHECK(strstr(msg, "metro-police") != NULL);
  free(other_set.data);
  CHECK_RESULT(revocard_verifier_install_key_set(v, key_set.data, key_set.len, T, &u, msg,
                                                 sizeof msg),
               REVOCARD_RESULT_OK);
  CHECK(u.outcome == REVOCARD_UPDATE_OUTCOME_INSTALLED);

  /* Keys but no list. */
  CHECK_RESULT(verify_at(v, warrant, T), REVOCARD_RESULT_NO_STATUS_LIST);
  uint64_t seq = 99;
  CHECK_RESULT(revocard_verifier_list_sequence(v, &seq), REVOCARD_RESULT_NO_STATUS_LIST);
  CHECK_RESULT(revocard_verifier_apply_delta(v, delta2.data, delta2.len, T, &u, msg, sizeof msg),
               REVOCARD_RESULT_LIST_NO_BASE_LIST);

  /* List refusals, then list 1. */
  CHECK_RESULT(revocard_verifier_install_list(v, list1.data, list1.len / 2, T, &u, msg,
                                              sizeof msg),
               REVOCARD_RESULT_LIST_MALFORMED);
  list1.data[5] ^= 0x01;
  CHECK_RESULT(revocard_verifier_install_list(v, list1.data, list1.len, T, &u, msg, sizeof msg),
               REVOCARD_RESULT_LIST_BAD_SIGNATURE);
  list1.data[5] ^= 0x01;
  CHECK_RESULT(revocard_verifier_install_list(v, list1.data, list1.len, T, &u, msg, sizeof msg),
               REVOCARD_RESULT_OK);
  CHECK(u.outcome == REVOCARD_UPDATE_OUTCOME_INSTALLED && u.to == 1);
  CHECK_RESULT(revocard_verifier_apply_delta(v, delta3.data, delta3.len, T, &u, msg, sizeof msg),
               REVOCARD_RESULT_LIST_GAP);
  CHECK(strstr(msg, "gap") != NULL);
  CHECK_RESULT(revocard_verifier_apply_delta(v, delta2.data, delta2.len, T, &u, msg, sizeof msg),
               REVOCARD_RESULT_OK);
  CHECK(u.outcome == REVOCARD_UPDATE_OUTCOME_ADVANCED && u.from == 1 && u.to == 2);
  CHECK_RESULT(revocard_verifier_install_list(v, list1.data, list1.len, T, &u, msg, sizeof msg),
               REVOCARD_RESULT_LIST_ROLLBACK);
  CHECK_RESULT(revocard_verifier_list_sequence(v, &seq), REVOCARD_RESULT_OK);
  CHECK(seq == 2);

  /* Every credential denial. */
  CHECK_RESULT(verify_at(v, warrant, T), REVOCARD_RESULT_OK);
  CHECK_RESULT(verify_at(v, file("suspended"), T), REVOCARD_RESULT_SUSPENDED);
  CHECK_RESULT(verify_at(v, file("revoked"), T), REVOCARD_RESULT_REVOKED);
  CHECK_RESULT(verify_at(v, file("future"), T), REVOCARD_RESULT_NOT_YET_VALID);
  CHECK_RESULT(verify_at(v, file("expired"), T), REVOCARD_RESULT_EXPIRED);
  CHECK_RESULT(verify_at(v, file("out_of_range"), T), REVOCARD_RESULT_STATUS_INDEX_OUT_OF_RANGE);
  CHECK_RESULT(verify_at(v, file("wrong_usage"), T), REVOCARD_RESULT_WRONG_KEY_USAGE);
  CHECK_RESULT(verify_at(v, file("key_revoked"), T), REVOCARD_RESULT_KEY_REVOKED);
  CHECK_RESULT(verify_at(v, file("issuer_mismatch"), T), REVOCARD_RESULT_ISSUER_MISMATCH);
  bytes forged = {warrant.data, warrant.len};
  warrant.data[10] ^= 0x40;
  CHECK_RESULT(verify_at(v, forged, T), REVOCARD_RESULT_BAD_SIGNATURE);
  warrant.data[10] ^= 0x40;
  bytes truncated = {warrant.data, warrant.len - 1};
  CHECK_RESULT(verify_at(v, truncated, T), REVOCARD_RESULT_MALFORMED_CREDENTIAL);
  CHECK_RESULT(verify_at(v, warrant, T + 20ull * 365 * 86400), REVOCARD_RESULT_KEY_OUTSIDE_WINDOW);
  /* The list's next update is T + 1 h, the grace 1 h. */
  CHECK_RESULT(verify_at(v, warrant, T + 7200), REVOCARD_RESULT_OK);
  CHECK_RESULT(verify_at(v, warrant, T + 7201), REVOCARD_RESULT_STATUS_STALE);

  /* A list decides only while its signer may sign lists: K4's list (lists only, K4's
   * window ends at T + 1 day) admits until then, and decides nothing after. */
  revocard_verifier *w = NULL;
  CHECK_RESULT(revocard_verifier_new(anchor.data, anchor.len, &w), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_verifier_install_key_set(w, key_set.data, key_set.len, T, &u, msg,
                                                 sizeof msg),
               REVOCARD_RESULT_OK);
  bytes list_k4 = file("list_k4");
  CHECK_RESULT(revocard_verifier_install_list(w, list_k4.data, list_k4.len, T, &u, msg,
                                             sizeof msg),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(verify_at(w, warrant, T + 60), REVOCARD_RESULT_OK);
  CHECK_RESULT(verify_at(w, warrant, T + 2 * 86400ull), REVOCARD_RESULT_LIST_SIGNER_UNUSABLE);
  revocard_verifier_free(w);

  /* Door denials. */
  revocard_door_policy *p[4] = {policy("warrant-only"), policy("mv-only"), policy("bound-a"),
                                policy("bound-b")};
  CHECK_RESULT(revocard_door_policy_admit_kinds(p[0], REVOCARD_KIND_WARRANT_CARD),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_door_policy_require_vetting(p[1], REVOCARD_POLICE_VETTING_FORCE_MV, 0,
                                                    0),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_door_policy_require_holder_binding(p[2]), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_door_policy_require_holder_binding(p[3]), REVOCARD_RESULT_OK);
  revocard_door_controller *doors = NULL, *elsewhere = NULL;
  const revocard_door_policy *all[4] = {p[0], p[1], p[2], p[3]};
  CHECK_RESULT(revocard_door_controller_new(v, all, 4, &doors), REVOCARD_RESULT_OK);
  const revocard_door_policy *twice[2] = {p[2], p[2]};
  CHECK_RESULT(revocard_door_controller_new(v, twice, 2, &elsewhere),
               REVOCARD_RESULT_DUPLICATE_DOOR);
  CHECK(elsewhere == NULL);
  CHECK_RESULT(revocard_door_controller_new(v, all + 2, 1, &elsewhere), REVOCARD_RESULT_OK);

  CHECK_RESULT(tap(doors, "nowhere", warrant, NULL, 0, T), REVOCARD_RESULT_UNKNOWN_DOOR);
  CHECK_RESULT(tap(doors, "warrant-only", staff, NULL, 0, T), REVOCARD_RESULT_KIND_NOT_ADMITTED);
  CHECK_RESULT(tap(doors, "warrant-only", warrant, NULL, 0, T), REVOCARD_RESULT_OK);
  CHECK_RESULT(tap(doors, "mv-only", staff, NULL, 0, T), REVOCARD_RESULT_VETTING_TOO_LOW);
  CHECK_RESULT(tap(doors, "bound-a", staff, NULL, 0, T), REVOCARD_RESULT_NO_CARD_KEY);
  CHECK_RESULT(tap(doors, "bound-a", warrant, NULL, 0, T), REVOCARD_RESULT_RESPONSE_MISSING);
  uint8_t junk[40];
  for (size_t i = 0; i < sizeof junk; i++) {
    junk[i] = (uint8_t)rand();
  }
  CHECK_RESULT(tap(doors, "bound-a", warrant, junk, sizeof junk, T),
               REVOCARD_RESULT_MALFORMED_RESPONSE);

  uint8_t r[REVOCARD_MAX_RESPONSE_BYTES];
  size_t n = answer(doors, "bound-a", warrant, card_secret, T, r);
  CHECK_RESULT(tap(doors, "bound-b", warrant, r, n, T), REVOCARD_RESULT_WRONG_DOOR);
  n = answer(elsewhere, "bound-a", warrant, card_secret, T, r);
  CHECK_RESULT(tap(doors, "bound-a", warrant, r, n, T), REVOCARD_RESULT_CHALLENGE_UNKNOWN);
  n = answer(doors, "bound-a", warrant, card_secret, T, r);
  CHECK_RESULT(tap(doors, "bound-a", warrant, r, n, T), REVOCARD_RESULT_OK);
  CHECK_RESULT(tap(doors, "bound-a", warrant, r, n, T), REVOCARD_RESULT_CHALLENGE_REPLAYED);
  n = answer(doors, "bound-a", warrant, card_secret, T, r);
  CHECK_RESULT(tap(doors, "bound-a", warrant, r, n, T + 31), REVOCARD_RESULT_CHALLENGE_EXPIRED);
  bytes weak = file("weak_card_key");
  n = answer(doors, "bound-a", weak, card_secret, T, r);
  CHECK_RESULT(tap(doors, "bound-a", weak, r, n, T), REVOCARD_RESULT_BAD_CARD_KEY);
  n = answer(doors, "bound-a", warrant, other_secret, T, r);
  CHECK_RESULT(tap(doors, "bound-a", warrant, r, n, T), REVOCARD_RESULT_BAD_RESPONSE_SIGNATURE);
  /* A door's denial of a credential is the verifier's code. */
  CHECK_RESULT(tap(doors, "warrant-only", file("revoked"), NULL, 0, T), REVOCARD_RESULT_REVOKED);

  /* Every denial code was reached. */
  for (uint32_t code = 100; code <= 114; code++) {
    if (!seen_codes[code]) {
      fprintf(stderr, "denial %u (%s) never reached\n", code, revocard_result_name(code));
    }
    CHECK(seen_codes[code]);
  }
  for (uint32_t code = 200; code <= 211; code++) {
    if (!seen_codes[code]) {
      fprintf(stderr, "denial %u (%s) never reached\n", code, revocard_result_name(code));
    }
    CHECK(seen_codes[code]);
  }
  /* And each has its name. */
  CHECK(strcmp(revocard_result_name(REVOCARD_RESULT_BAD_RESPONSE_SIGNATURE),
               "bad_response_signature") == 0);
  CHECK(strcmp(revocard_result_name(12345), "unknown") == 0);

  for (int i = 0; i < 4; i++) {
    revocard_door_policy_free(p[i]);
  }
  revocard_door_controller_free(doors);
  revocard_door_controller_free(elsewhere);
  revocard_verifier_free(v);
  for (int i = 0; i < n_kept; i++) {
    free(kept[i].data);
  }
  free_manifest(&breach);
  free_manifest(&S);
  return finish();
}
