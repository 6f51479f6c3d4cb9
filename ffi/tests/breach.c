/*
 * The breach at a door, from the files `revocard publish` wrote before and after a
 * supplier breach: the old card is admitted (its chip answering the door's
 * challenge), the deltas are applied, the old card is then denied as revoked, the
 * new card is admitted with its chip's response, and a copied credential without
 * its chip is denied.
 *
 * usage: breach BREACH_MANIFEST SPECIAL_MANIFEST
 */
#include "harness.h"

#include <time.h>

static const char DOOR[] = "front-desk";

/* A challenge from the door, the card's answer with `secret`, and the tap.
 * Answers the tap's code; `*verdict` (optional) receives the verdict. */
static uint32_t tap_with_chip(const revocard_door_controller *doors, const uint8_t *cred,
                              size_t cred_len, const uint8_t secret[32], uint64_t now,
                              revocard_verdict **verdict) {
  uint8_t random[REVOCARD_RANDOM_LEN];
  for (size_t i = 0; i < sizeof random; i++) {
    random[i] = (uint8_t)rand();
  }
  uint8_t challenge[REVOCARD_MAX_CHALLENGE_BYTES];
  size_t challenge_len = 0;
  CHECK_RESULT(revocard_door_controller_challenge(doors, DOOR, strlen(DOOR), now,
                                                  random, challenge,
                                                  sizeof challenge, &challenge_len),
               REVOCARD_RESULT_OK);
  uint8_t response[REVOCARD_MAX_RESPONSE_BYTES];
  size_t response_len = 0;
  CHECK_RESULT(revocard_card_respond(secret, challenge, challenge_len,
                                     cred, cred_len, response, sizeof response,
                                     &response_len),
               REVOCARD_RESULT_OK);
  return revocard_door_controller_tap(doors, DOOR, strlen(DOOR), cred, cred_len, response,
                                      response_len, now, verdict);
}

/* The text form of a card, decoded into `out` (REVOCARD_MAX_CREDENTIAL_BYTES). */
static size_t card_bytes(const char *text, uint8_t *out) {
  size_t n = 0;
  CHECK_RESULT(revocard_credential_from_text(text, strlen(text), out,
                                             REVOCARD_MAX_CREDENTIAL_BYTES, &n),
               REVOCARD_RESULT_OK);
  return n;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: breach BREACH_MANIFEST [SPECIAL_MANIFEST]\n");
    return 2;
  }
  srand(22);
  manifest m = read_manifest(argv[1]);
  uint64_t now = (uint64_t)time(NULL);

  bytes anchor = fixture(&m, "anchor");
  revocard_verifier *verifier = NULL;
  CHECK_RESULT(revocard_verifier_new(anchor.data, anchor.len, &verifier), REVOCARD_RESULT_OK);
  CHECK(verifier != NULL);

  /* Before the breach: the key set and the list as published then. */
  bytes key_set = fixture(&m, "key_set");
  revocard_update update;
  char message[256];
  CHECK_RESULT(revocard_verifier_install_key_set(verifier, key_set.data, key_set.len, now,
                                                 &update, message, sizeof message),
               REVOCARD_RESULT_OK);
  CHECK(update.outcome == REVOCARD_UPDATE_OUTCOME_INSTALLED);
  bytes list_before = fixture(&m, "list_before");
  CHECK_RESULT(revocard_verifier_install_list(verifier, list_before.data, list_before.len, now,
                                              &update, message, sizeof message),
               REVOCARD_RESULT_OK);
  CHECK(update.outcome == REVOCARD_UPDATE_OUTCOME_INSTALLED);
  uint64_t held = 0;
  CHECK_RESULT(revocard_verifier_list_sequence(verifier, &held), REVOCARD_RESULT_OK);
  CHECK(held == update.to);
  /* The same list again changes nothing. */
  CHECK_RESULT(revocard_verifier_install_list(verifier, list_before.data, list_before.len, now,
                                              &update, NULL, 0),
               REVOCARD_RESULT_OK);
  CHECK(update.outcome == REVOCARD_UPDATE_OUTCOME_UNCHANGED);

  revocard_door_policy *policy = NULL;
  CHECK_RESULT(revocard_door_policy_new(DOOR, strlen(DOOR), &policy), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_door_policy_admit_kinds(policy, REVOCARD_KIND_WARRANT_CARD),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_door_policy_require_vetting(policy, REVOCARD_POLICE_VETTING_FORCE_MV,
                                                    0, 0),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_door_policy_require_holder_binding(policy), REVOCARD_RESULT_OK);
  revocard_door_controller *doors = NULL;
  const revocard_door_policy *policies[1] = {policy};
  CHECK_RESULT(revocard_door_controller_new(verifier, policies, 1, &doors), REVOCARD_RESULT_OK);
  revocard_door_policy_free(policy);

  uint8_t old_card[REVOCARD_MAX_CREDENTIAL_BYTES], new_card[REVOCARD_MAX_CREDENTIAL_BYTES];
  size_t old_len = card_bytes(get(&m, "old_card"), old_card);
  size_t new_len = card_bytes(get(&m, "new_card"), new_card);
  uint8_t old_secret[32], new_secret[32];
  hex32(get(&m, "old_secret"), old_secret);
  hex32(get(&m, "new_secret"), new_secret);

  /* The old card opens the door, its chip proving its key. */
  revocard_verdict *verdict = NULL;
  CHECK_RESULT(tap_with_chip(doors, old_card, old_len, old_secret, now, &verdict),
               REVOCARD_RESULT_OK);
  CHECK(revocard_verdict_admitted(verdict));
  char text[128];
  size_t text_len = 0;
  CHECK_RESULT(revocard_verdict_issuer(verdict, text, sizeof text, &text_len), REVOCARD_RESULT_OK);
  CHECK(strcmp(text, "metro-police") == 0 && text_len == strlen("metro-police"));
  CHECK_RESULT(revocard_verdict_holder(verdict, REVOCARD_HOLDER_FIELD_RANK, text, sizeof text,
                                       &text_len),
               REVOCARD_RESULT_OK);
  CHECK(strcmp(text, "Sergeant") == 0);
  uint32_t kind = 0, police = 0, national = 9;
  CHECK_RESULT(revocard_verdict_kind(verdict, &kind), REVOCARD_RESULT_OK);
  CHECK(kind == REVOCARD_KIND_WARRANT_CARD);
  CHECK_RESULT(revocard_verdict_vetting(verdict, &police, &national), REVOCARD_RESULT_OK);
  CHECK(police == REVOCARD_POLICE_VETTING_FORCE_MV && national == REVOCARD_NATIONAL_VETTING_NONE);
  uint8_t old_serial[16];
  bool verified = false;
  CHECK_RESULT(revocard_verdict_serial(verdict, old_serial, &verified), REVOCARD_RESULT_OK);
  CHECK(verified);
  revocard_verdict_free(verdict);

  /* The breach: every delta published since, in order. */
  const char *path;
  int applied = 0;
  for (int i = 0; (path = get_nth(&m, "delta", i)) != NULL; i++) {
    bytes delta = read_file(path);
    CHECK_RESULT(revocard_verifier_apply_delta(verifier, delta.data, delta.len, now, &update,
                                               message, sizeof message),
                 REVOCARD_RESULT_OK);
    CHECK(update.outcome == REVOCARD_UPDATE_OUTCOME_ADVANCED && update.to == update.from + 1);
    free(delta.data);
    applied++;
  }
  CHECK(applied > 0);
  /* The list from before the breach is a rollback now, and changes nothing. */
  CHECK_RESULT(revocard_verifier_install_list(verifier, list_before.data, list_before.len, now,
                                              &update, message, sizeof message),
               REVOCARD_RESULT_LIST_ROLLBACK);
  CHECK(update.outcome == REVOCARD_UPDATE_OUTCOME_REFUSED);
  CHECK(strstr(message, "rollback") != NULL);

  /* The door restarts: its state, saved and restored, is no weaker than before. */
  size_t state_len = 0;
  CHECK_RESULT(revocard_verifier_export_state(verifier, NULL, 0, &state_len),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  uint8_t *state = malloc(state_len);
  CHECK_RESULT(revocard_verifier_export_state(verifier, state, state_len, &state_len),
               REVOCARD_RESULT_OK);
  revocard_verifier *restored = NULL;
  CHECK_RESULT(revocard_verifier_import_state(anchor.data, anchor.len, state, state_len,
                                              &restored, message, sizeof message),
               REVOCARD_RESULT_OK);
  uint64_t held_before = 0, held_after = 0;
  CHECK_RESULT(revocard_verifier_list_sequence(verifier, &held_before), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_verifier_list_sequence(restored, &held_after), REVOCARD_RESULT_OK);
  CHECK(held_before == held_after && held_after > held);
  /* The list from before the breach is still a rollback after the restart. */
  CHECK_RESULT(revocard_verifier_install_list(restored, list_before.data, list_before.len, now,
                                              &update, NULL, 0),
               REVOCARD_RESULT_LIST_ROLLBACK);
  CHECK_RESULT(revocard_verifier_verify_text(restored, get(&m, "old_card"),
                                             strlen(get(&m, "old_card")), now, NULL),
               REVOCARD_RESULT_REVOKED);
  CHECK_RESULT(revocard_verifier_verify(restored, new_card, new_len, now, NULL),
               REVOCARD_RESULT_OK);
  /* The key set held is not relearnt: the same one again changes nothing. */
  CHECK_RESULT(revocard_verifier_install_key_set(restored, key_set.data, key_set.len, now,
                                                 &update, NULL, 0),
               REVOCARD_RESULT_OK);
  CHECK(update.outcome == REVOCARD_UPDATE_OUTCOME_UNCHANGED);
  /* A corrupted or truncated state is refused, and nothing is made. */
  revocard_verifier *refused = NULL;
  state[state_len / 2] ^= 0x01;
  CHECK_RESULT(revocard_verifier_import_state(anchor.data, anchor.len, state, state_len,
                                              &refused, message, sizeof message),
               REVOCARD_RESULT_STATE_MALFORMED);
  CHECK(strstr(message, "corrupt") != NULL);
  state[state_len / 2] ^= 0x01;
  CHECK_RESULT(revocard_verifier_import_state(anchor.data, anchor.len, state, state_len - 1,
                                              &refused, NULL, 0),
               REVOCARD_RESULT_STATE_MALFORMED);
  CHECK(refused == NULL);
  free(state);
  revocard_verifier_free(restored);

  /* The old card, chip and all, is denied as revoked: on the door and the verifier. */
  CHECK_RESULT(tap_with_chip(doors, old_card, old_len, old_secret, now, &verdict),
               REVOCARD_RESULT_REVOKED);
  CHECK(!revocard_verdict_admitted(verdict));
  CHECK_RESULT(revocard_verdict_message(verdict, NULL, 0, &text_len),
               REVOCARD_RESULT_BUFFER_TOO_SMALL);
  char *why = malloc(text_len + 1);
  CHECK_RESULT(revocard_verdict_message(verdict, why, text_len + 1, &text_len),
               REVOCARD_RESULT_OK);
  CHECK(why && strncmp(why, "revoked", 7) == 0);
  free(why);
  uint8_t serial[16];
  CHECK_RESULT(revocard_verdict_serial(verdict, serial, &verified), REVOCARD_RESULT_OK);
  CHECK(memcmp(serial, old_serial, 16) == 0 && verified);
  CHECK_RESULT(revocard_verdict_issuer(verdict, text, sizeof text, &text_len),
               REVOCARD_RESULT_NOT_AVAILABLE);
  revocard_verdict_free(verdict);
  CHECK_RESULT(revocard_verifier_verify_text(verifier, get(&m, "old_card"),
                                             strlen(get(&m, "old_card")), now, NULL),
               REVOCARD_RESULT_REVOKED);

  /* The new card is admitted with its chip's response. */
  CHECK_RESULT(tap_with_chip(doors, new_card, new_len, new_secret, now, &verdict),
               REVOCARD_RESULT_OK);
  CHECK(revocard_verdict_admitted(verdict));
  revocard_verdict_free(verdict);
  CHECK_RESULT(revocard_verifier_verify(verifier, new_card, new_len, now, NULL),
               REVOCARD_RESULT_OK);

  /* A copy of the new credential without its chip: no response, or another chip's. */
  CHECK_RESULT(revocard_door_controller_tap(doors, DOOR, strlen(DOOR), new_card, new_len, NULL,
                                            0, now, NULL),
               REVOCARD_RESULT_RESPONSE_MISSING);
  CHECK_RESULT(tap_with_chip(doors, new_card, new_len, old_secret, now, NULL),
               REVOCARD_RESULT_BAD_RESPONSE_SIGNATURE);

  revocard_door_controller_free(doors);
  revocard_verifier_free(verifier);
  free(anchor.data);
  free(key_set.data);
  free(list_before.data);
  free_manifest(&m);
  return finish();
}
