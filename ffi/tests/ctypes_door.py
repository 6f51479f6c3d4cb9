"""revocard's C ABI from a second language: Python's ctypes (standard library only),
through the shared library. The breach at a door, from the files `revocard publish`
wrote: old card admitted, deltas applied, old card revoked, new card admitted with its
chip's response, a copy without the chip denied.

usage: python3 ctypes_door.py LIBREVOCARD_FFI_SO BREACH_MANIFEST
"""

import ctypes
import os
import sys
import time
from ctypes import POINTER, byref, c_char_p, c_size_t, c_uint32, c_uint64, c_void_p

OK = 0
BUFFER_TOO_SMALL = 3
REVOKED = 112
RESPONSE_MISSING = 204
BAD_RESPONSE_SIGNATURE = 211
KIND_WARRANT_CARD = 1
MAX_CHALLENGE_BYTES = 89
MAX_RESPONSE_BYTES = 137
MAX_CREDENTIAL_BYTES = 1024

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, file=sys.stderr)


class Update(ctypes.Structure):
    _fields_ = [("outcome", c_uint32), ("from_", c_uint64), ("to", c_uint64)]


def load(path):
    lib = ctypes.CDLL(path)
    u8p = c_char_p
    lib.revocard_version.restype = c_char_p
    lib.revocard_result_name.restype = c_char_p
    lib.revocard_result_name.argtypes = [c_uint32]
    lib.revocard_verifier_new.argtypes = [u8p, c_size_t, POINTER(c_void_p)]
    lib.revocard_verifier_new.restype = c_uint32
    for name in ("install_key_set", "install_list", "apply_delta"):
        f = getattr(lib, "revocard_verifier_" + name)
        f.argtypes = [c_void_p, u8p, c_size_t, c_uint64, POINTER(Update), c_char_p, c_size_t]
        f.restype = c_uint32
    lib.revocard_verifier_verify_text.argtypes = [c_void_p, c_char_p, c_size_t, c_uint64, POINTER(c_void_p)]
    lib.revocard_verifier_verify_text.restype = c_uint32
    lib.revocard_verifier_free.argtypes = [c_void_p]
    lib.revocard_credential_from_text.argtypes = [c_char_p, c_size_t, u8p, c_size_t, POINTER(c_size_t)]
    lib.revocard_credential_from_text.restype = c_uint32
    lib.revocard_door_policy_new.argtypes = [c_char_p, c_size_t, POINTER(c_void_p)]
    lib.revocard_door_policy_new.restype = c_uint32
    lib.revocard_door_policy_admit_kinds.argtypes = [c_void_p, c_uint32]
    lib.revocard_door_policy_admit_kinds.restype = c_uint32
    lib.revocard_door_policy_require_holder_binding.argtypes = [c_void_p]
    lib.revocard_door_policy_require_holder_binding.restype = c_uint32
    lib.revocard_door_policy_free.argtypes = [c_void_p]
    lib.revocard_door_controller_new.argtypes = [c_void_p, POINTER(c_void_p), c_size_t, POINTER(c_void_p)]
    lib.revocard_door_controller_new.restype = c_uint32
    lib.revocard_door_controller_challenge.argtypes = [
        c_void_p, c_char_p, c_size_t, c_uint64, u8p, u8p, c_size_t, POINTER(c_size_t)]
    lib.revocard_door_controller_challenge.restype = c_uint32
    lib.revocard_door_controller_tap.argtypes = [
        c_void_p, c_char_p, c_size_t, u8p, c_size_t, u8p, c_size_t, c_uint64, POINTER(c_void_p)]
    lib.revocard_door_controller_tap.restype = c_uint32
    lib.revocard_door_controller_free.argtypes = [c_void_p]
    lib.revocard_card_respond.argtypes = [u8p, u8p, c_size_t, u8p, c_size_t, u8p, c_size_t, POINTER(c_size_t)]
    lib.revocard_card_respond.restype = c_uint32
    lib.revocard_verdict_message.argtypes = [c_void_p, c_char_p, c_size_t, POINTER(c_size_t)]
    lib.revocard_verdict_message.restype = c_uint32
    lib.revocard_verdict_free.argtypes = [c_void_p]
    return lib


def manifest(path):
    entries = []
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            entries.append((key, value))
    return entries


def main():
    lib = load(sys.argv[1])
    m = manifest(sys.argv[2])
    one = {k: v for k, v in m}
    now = int(time.time())
    read = lambda p: open(p, "rb").read()

    check(lib.revocard_version().startswith(b"revocard-ffi "), "version")
    check(lib.revocard_result_name(REVOKED) == b"revoked", "result name")

    verifier = c_void_p()
    anchor = read(one["anchor"])
    check(lib.revocard_verifier_new(anchor, len(anchor), byref(verifier)) == OK, "verifier_new")
    update = Update()
    message = ctypes.create_string_buffer(200)
    key_set = read(one["key_set"])
    check(lib.revocard_verifier_install_key_set(verifier, key_set, len(key_set), now, byref(update), message, 200) == OK,
          "key set: " + message.value.decode())
    before = read(one["list_before"])
    check(lib.revocard_verifier_install_list(verifier, before, len(before), now, byref(update), message, 200) == OK,
          "list: " + message.value.decode())

    policy = c_void_p()
    door = b"gate"
    check(lib.revocard_door_policy_new(door, len(door), byref(policy)) == OK, "policy")
    check(lib.revocard_door_policy_admit_kinds(policy, KIND_WARRANT_CARD) == OK, "kinds")
    check(lib.revocard_door_policy_require_holder_binding(policy) == OK, "binding")
    doors = c_void_p()
    policies = (c_void_p * 1)(policy)
    check(lib.revocard_door_controller_new(verifier, policies, 1, byref(doors)) == OK, "controller")
    lib.revocard_door_policy_free(policy)

    def card(text):
        out = ctypes.create_string_buffer(MAX_CREDENTIAL_BYTES)
        n = c_size_t()
        raw = text.encode()
        check(lib.revocard_credential_from_text(raw, len(raw), out, MAX_CREDENTIAL_BYTES, byref(n)) == OK, "from_text")
        return out.raw[: n.value]

    def tap(cred, secret_hex):
        challenge = ctypes.create_string_buffer(MAX_CHALLENGE_BYTES)
        n = c_size_t()
        check(lib.revocard_door_controller_challenge(doors, door, len(door), now, os.urandom(32), challenge,
                                                     MAX_CHALLENGE_BYTES, byref(n)) == OK, "challenge")
        response = ctypes.create_string_buffer(MAX_RESPONSE_BYTES)
        r = c_size_t()
        secret = bytes.fromhex(secret_hex)
        check(lib.revocard_card_respond(secret, challenge.raw[: n.value], n.value, cred, len(cred), response,
                                        MAX_RESPONSE_BYTES, byref(r)) == OK, "respond")
        verdict = c_void_p()
        code = lib.revocard_door_controller_tap(doors, door, len(door), cred, len(cred), response.raw[: r.value],
                                                r.value, now, byref(verdict))
        size = c_size_t()
        check(lib.revocard_verdict_message(verdict, None, 0, byref(size)) == BUFFER_TOO_SMALL, "size query")
        text = ctypes.create_string_buffer(size.value + 1)
        check(lib.revocard_verdict_message(verdict, text, size.value + 1, byref(size)) == OK, "message")
        lib.revocard_verdict_free(verdict)
        return code, text.value.decode()

    old, new = card(one["old_card"]), card(one["new_card"])
    code, text = tap(old, one["old_secret"])
    check(code == OK and text == "admitted", "old card before the breach: %d %s" % (code, text))
    for key, path in m:
        if key == "delta":
            delta = read(path)
            code = lib.revocard_verifier_apply_delta(verifier, delta, len(delta), now, byref(update), message, 200)
            check(code == OK, "delta: " + message.value.decode())
    code, text = tap(old, one["old_secret"])
    check(code == REVOKED and text.startswith("revoked"), "old card after the breach: %d %s" % (code, text))
    code, text = tap(new, one["new_secret"])
    check(code == OK, "new card with its chip: %d %s" % (code, text))
    code, _ = tap(new, one["old_secret"])
    check(code == BAD_RESPONSE_SIGNATURE, "a copy answered by another chip: %d" % code)
    code = lib.revocard_door_controller_tap(doors, door, len(door), new, len(new), None, 0, now, None)
    check(code == RESPONSE_MISSING, "a copy without a chip: %d" % code)
    text = one["old_card"].encode()
    check(lib.revocard_verifier_verify_text(verifier, text, len(text), now, None) == REVOKED, "verify_text")

    lib.revocard_door_controller_free(doors)
    lib.revocard_verifier_free(verifier)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
