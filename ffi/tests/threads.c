/*
 * One verifier and one door controller shared by several threads, as the header
 * allows: threads verify the old card and tap the new one (each with its own
 * challenge and chip response) while the main thread applies the breach's deltas.
 * Every answer is one a single thread could have had (admitted before the deltas,
 * revoked after), and once the deltas are in, every thread sees the old card revoked.
 *
 * usage: threads BREACH_MANIFEST SPECIAL_MANIFEST
 */
#include "harness.h"

#include <pthread.h>
#include <time.h>

#define THREADS 4
#define ROUNDS 40

static const char DOOR[] = "gate";

typedef struct {
  const revocard_verifier *verifier;
  const revocard_door_controller *doors;
  const uint8_t *old_card, *new_card;
  size_t old_len, new_len;
  const uint8_t *new_secret;
  uint64_t now;
  unsigned seed;
  /* Results, read by the main thread after the join. */
  int admitted, revoked, other, taps_ok, taps_bad;
} job;

static void *work(void *arg) {
  job *j = arg;
  for (int i = 0; i < ROUNDS; i++) {
    uint32_t r = revocard_verifier_verify(j->verifier, j->old_card, j->old_len, j->now, NULL);
    j->admitted += r == REVOCARD_RESULT_OK;
    j->revoked += r == REVOCARD_RESULT_REVOKED;
    j->other += r != REVOCARD_RESULT_OK && r != REVOCARD_RESULT_REVOKED;

    uint8_t random[REVOCARD_RANDOM_LEN];
    for (size_t k = 0; k < sizeof random; k++) {
      random[k] = (uint8_t)rand_r(&j->seed);
    }
    uint8_t challenge[REVOCARD_MAX_CHALLENGE_BYTES], response[REVOCARD_MAX_RESPONSE_BYTES];
    size_t challenge_len = 0, response_len = 0;
    uint32_t c = revocard_door_controller_challenge(j->doors, DOOR, strlen(DOOR), j->now, random,
                                                    challenge, sizeof challenge, &challenge_len);
    uint32_t a = revocard_card_respond(j->new_secret, challenge, challenge_len, j->new_card,
                                       j->new_len, response, sizeof response, &response_len);
    uint32_t t = revocard_door_controller_tap(j->doors, DOOR, strlen(DOOR), j->new_card,
                                              j->new_len, response, response_len, j->now, NULL);
    if (c == REVOCARD_RESULT_OK && a == REVOCARD_RESULT_OK && t == REVOCARD_RESULT_OK) {
      j->taps_ok++;
    } else {
      j->taps_bad++;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: threads BREACH_MANIFEST [SPECIAL_MANIFEST]\n");
    return 2;
  }
  manifest m = read_manifest(argv[1]);
  uint64_t now = (uint64_t)time(NULL);
  bytes anchor = fixture(&m, "anchor"), key_set = fixture(&m, "key_set");
  bytes list = fixture(&m, "list_before");
  revocard_verifier *v = NULL;
  CHECK_RESULT(revocard_verifier_new(anchor.data, anchor.len, &v), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_verifier_install_key_set(v, key_set.data, key_set.len, now, NULL, NULL,
                                                 0),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_verifier_install_list(v, list.data, list.len, now, NULL, NULL, 0),
               REVOCARD_RESULT_OK);
  revocard_door_policy *p = NULL;
  CHECK_RESULT(revocard_door_policy_new(DOOR, strlen(DOOR), &p), REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_door_policy_require_holder_binding(p), REVOCARD_RESULT_OK);
  const revocard_door_policy *ps[1] = {p};
  revocard_door_controller *doors = NULL;
  CHECK_RESULT(revocard_door_controller_new(v, ps, 1, &doors), REVOCARD_RESULT_OK);
  revocard_door_policy_free(p);

  uint8_t old_card[REVOCARD_MAX_CREDENTIAL_BYTES], new_card[REVOCARD_MAX_CREDENTIAL_BYTES];
  size_t old_len = 0, new_len = 0;
  const char *old_text = get(&m, "old_card"), *new_text = get(&m, "new_card");
  CHECK_RESULT(revocard_credential_from_text(old_text, strlen(old_text), old_card,
                                             sizeof old_card, &old_len),
               REVOCARD_RESULT_OK);
  CHECK_RESULT(revocard_credential_from_text(new_text, strlen(new_text), new_card,
                                             sizeof new_card, &new_len),
               REVOCARD_RESULT_OK);
  uint8_t new_secret[32];
  hex32(get(&m, "new_secret"), new_secret);

  job jobs[THREADS];
  pthread_t tids[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (job){v, doors, old_card, new_card, old_len, new_len, new_secret, now,
                    (unsigned)(i + 1), 0, 0, 0, 0, 0};
    CHECK(pthread_create(&tids[i], NULL, work, &jobs[i]) == 0);
  }
  /* The breach arrives while they work. */
  const char *path;
  for (int i = 0; (path = get_nth(&m, "delta", i)) != NULL; i++) {
    bytes delta = read_file(path);
    CHECK_RESULT(revocard_verifier_apply_delta(v, delta.data, delta.len, now, NULL, NULL, 0),
                 REVOCARD_RESULT_OK);
    free(delta.data);
  }
  int admitted = 0, revoked = 0, other = 0, taps_ok = 0, taps_bad = 0;
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(tids[i], NULL) == 0);
    admitted += jobs[i].admitted;
    revoked += jobs[i].revoked;
    other += jobs[i].other;
    taps_ok += jobs[i].taps_ok;
    taps_bad += jobs[i].taps_bad;
  }
  CHECK(admitted + revoked == THREADS * ROUNDS);
  CHECK(other == 0);
  CHECK(taps_ok == THREADS * ROUNDS && taps_bad == 0);
  /* After the join, the old card is revoked for everyone. */
  CHECK_RESULT(revocard_verifier_verify(v, old_card, old_len, now, NULL), REVOCARD_RESULT_REVOKED);
  printf("old card: %d admitted before the deltas, %d revoked after\n", admitted, revoked);

  revocard_door_controller_free(doors);
  revocard_verifier_free(v);
  free(anchor.data);
  free(key_set.data);
  free(list.data);
  free_manifest(&m);
  return finish();
}
