// revocard's standard status views, checked index by index by implementations that
// revocard did not write: @sd-jwt/jwt-status-list (IETF Token Status List),
// @digitalbazaar/vc-bitstring-status-list (W3C Bitstring Status List) and jose (JWS
// signatures, against the published JWK set).
//
// `npm test` builds and runs revocard's `status_views` example (cargo) into a fresh
// folder first, and removes it at the end. Nothing here is skipped: a missing tool,
// package or file fails.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as jose from 'jose';
import {
  getListFromStatusListJWT, getStatusListFromJWT, StatusList
} from '@sd-jwt/jwt-status-list';
import {
  decodeList, checkStatus, BitstringStatusList
} from '@digitalbazaar/vc-bitstring-status-list';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VALID = 0, REVOKED = 1, SUSPENDED = 2;

let out, made, expected, jwks, keySet, tokens, options;

before(() => {
  made = !process.env.REVOCARD_STATUS_VIEWS_DIR;
  out = process.env.REVOCARD_STATUS_VIEWS_DIR ||
    mkdtempSync(join(tmpdir(), 'revocard-interop-'));
  if(made) {
    execFileSync('cargo', [
      'run', '--quiet', '--example', 'status_views', '--features', 'standards',
      '--', '--out', out
    ], {cwd: REPO, stdio: ['ignore', 'inherit', 'inherit']});
  }
  expected = JSON.parse(readFileSync(join(out, 'expected.json'), 'utf8'));
  const dir = join(out, expected.issuer_dir, 'status');
  jwks = JSON.parse(readFileSync(join(dir, 'jwks.json'), 'utf8'));
  keySet = jose.createLocalJWKSet(jwks);
  tokens = {
    ietf: readFileSync(join(dir, 'ietf.jwt'), 'utf8'),
    revocation: readFileSync(join(dir, 'w3c-revocation.jwt'), 'utf8'),
    suspension: readFileSync(join(dir, 'w3c-suspension.jwt'), 'utf8'),
  };
  // The tokens are checked at a time inside their window (they expire at the native
  // list's next update, which the example set in the past).
  options = {
    algorithms: ['EdDSA'],
    currentDate: new Date((expected.published_at + 1) * 1000),
  };
});

// Only the folder this run made: one given in REVOCARD_STATUS_VIEWS_DIR is the caller's.
after(() => {
  if(made && out) {
    rmSync(out, {recursive: true, force: true});
  }
});

function expectedAt(i) {
  return expected.statuses.charCodeAt(i) - 48;
}

test('the scenario has every kind of status over at least 131,072 indexes', () => {
  assert.ok(expected.capacity >= 131072);
  assert.equal(expected.statuses.length, expected.capacity);
  assert.ok(expected.counts.revoked >= 1000, 'the breached batch is revoked');
  assert.ok(expected.counts.suspended >= 2);
  assert.equal(jwks.keys.length, 1);
  assert.deepEqual(
    {kty: jwks.keys[0].kty, crv: jwks.keys[0].crv, kid: jwks.keys[0].kid},
    {kty: 'OKP', crv: 'Ed25519', kid: expected.key_id});
});

test('IETF token: jose verifies it with the published JWK, and its claims are the native list\'s', async () => {
  const {payload, protectedHeader} = await jose.jwtVerify(
    tokens.ietf, keySet, {...options, typ: 'statuslist+jwt'});
  assert.equal(protectedHeader.alg, 'EdDSA');
  assert.equal(protectedHeader.kid, expected.key_id);
  assert.equal(payload.sub, expected.ietf_url);
  assert.equal(payload.iat, expected.published_at);
  assert.equal(payload.exp, expected.next_update);
  // ttl: how long to cache it (the operator's, 300 s by default), in seconds.
  assert.equal(payload.ttl, expected.ttl);
  assert.ok(payload.ttl <= expected.next_update - expected.published_at);
  // Past the native list's next update, jose refuses it as expired.
  await assert.rejects(jose.jwtVerify(tokens.ietf, keySet, {
    ...options, currentDate: new Date((expected.next_update + 1) * 1000)
  }), {code: 'ERR_JWT_EXPIRED'});
});

test('IETF token: @sd-jwt/jwt-status-list reads every index as revocard answers it', () => {
  const list = getListFromStatusListJWT(tokens.ietf);
  assert.equal(list.getBitsPerStatus(), 2);
  let mismatches = 0, first = -1;
  for(let i = 0; i < expected.capacity; i++) {
    if(list.getStatus(i) !== expectedAt(i)) {
      mismatches++;
      if(first < 0) first = i;
    }
  }
  assert.equal(mismatches, 0, `first mismatch at index ${first}`);
});

test('IETF reference: a referenced token\'s status claim leads to the card\'s answer', async () => {
  const list = getListFromStatusListJWT(tokens.ietf);
  const {privateKey} = await jose.generateKeyPair('EdDSA', {crv: 'Ed25519'});
  const seen = new Set();
  for(const ref of expected.references) {
    // A wallet-facing issuer embeds the claim in its own token (an SD-JWT VC).
    const jwt = await new jose.SignJWT({status: ref.status, vct: 'warrant-card'})
      .setProtectedHeader({alg: 'EdDSA'}).sign(privateKey);
    const entry = getStatusListFromJWT(jwt);
    assert.equal(entry.uri, expected.ietf_url);
    assert.equal(entry.idx, ref.index);
    assert.equal(list.getStatus(entry.idx), expectedAt(ref.index));
    seen.add(expectedAt(ref.index));
  }
  assert.deepEqual([...seen].sort(), [VALID, REVOKED, SUSPENDED]);
});

async function verifiedW3c(purpose) {
  const {payload, protectedHeader} = await jose.jwtVerify(
    tokens[purpose], keySet, {...options, typ: 'vc+jwt'});
  assert.equal(protectedHeader.alg, 'EdDSA');
  assert.equal(protectedHeader.kid, expected.key_id);
  assert.deepEqual(payload['@context'], ['https://www.w3.org/ns/credentials/v2']);
  assert.deepEqual(payload.type,
    ['VerifiableCredential', 'BitstringStatusListCredential']);
  assert.equal(payload.id, expected[`w3c_${purpose}_url`]);
  assert.equal(payload.issuer, expected.issuer_url);
  assert.equal(Date.parse(payload.validFrom), expected.published_at * 1000);
  assert.equal(Date.parse(payload.validUntil), expected.next_update * 1000);
  assert.equal(payload.credentialSubject.type, 'BitstringStatusList');
  assert.equal(payload.credentialSubject.statusPurpose, purpose);
  // ttl: the same, in milliseconds.
  assert.equal(payload.credentialSubject.ttl, expected.ttl * 1000);
  return payload;
}

test('W3C credentials: jose verifies both with the published JWK', async () => {
  await verifiedW3c('revocation');
  await verifiedW3c('suspension');
});

test('W3C credentials: @digitalbazaar/vc-bitstring-status-list reads every index as revocard answers it', async () => {
  const revocation = await decodeList(
    (await verifiedW3c('revocation')).credentialSubject);
  const suspension = await decodeList(
    (await verifiedW3c('suspension')).credentialSubject);
  // The spec's herd-privacy minimum: 131,072 bits.
  assert.ok(revocation.length >= 131072);
  assert.equal(revocation.length, suspension.length);
  let mismatches = 0, first = -1;
  for(let i = 0; i < expected.capacity; i++) {
    const r = revocation.getStatus(i), s = suspension.getStatus(i);
    assert.ok(!(r && s), `index ${i} both revoked and suspended`);
    const answer = r ? REVOKED : (s ? SUSPENDED : VALID);
    if(answer !== expectedAt(i)) {
      mismatches++;
      if(first < 0) first = i;
    }
  }
  assert.equal(mismatches, 0, `first mismatch at index ${first}`);
  for(let i = expected.capacity; i < revocation.length; i++) {
    assert.equal(revocation.getStatus(i), false);
  }
});

test('W3C reference: checkStatus follows a credential\'s credentialStatus to the card\'s answer', async () => {
  const verified = {
    [expected.w3c_revocation_url]: await verifiedW3c('revocation'),
    [expected.w3c_suspension_url]: await verifiedW3c('suspension'),
  };
  // The status list credentials are JWTs verified by jose above; the library is
  // given the verified payloads (its own verification is for Data Integrity proofs).
  const documentLoader = async url => {
    if(!verified[url]) throw new Error(`unexpected URL ${url}`);
    return {document: verified[url]};
  };
  const seen = new Set();
  for(const ref of expected.references) {
    const credential = {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      type: ['VerifiableCredential'],
      issuer: expected.issuer_url,
      credentialSubject: {id: 'urn:example:holder'},
      credentialStatus: ref.credentialStatus,
    };
    const result = await checkStatus({
      credential, documentLoader, verifyBitstringStatusListCredential: false
    });
    assert.ok(result.verified, result.error && result.error.message);
    const by = Object.fromEntries(result.results.map(
      r => [r.credentialStatus.statusPurpose, r.status]));
    const answer = by.revocation ? REVOKED : (by.suspension ? SUSPENDED : VALID);
    assert.equal(answer, expectedAt(ref.index), `index ${ref.index}`);
    seen.add(answer);
  }
  assert.deepEqual([...seen].sort(), [VALID, REVOKED, SUSPENDED]);
});

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}
function withPayload(token, payload) {
  const [h, , s] = token.split('.');
  return [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
}
const firstRevoked = () => expected.statuses.indexOf(String(REVOKED));

test('a tampered IETF token is refused by jose', async () => {
  const [, p, s] = tokens.ietf.split('.');
  const payload = b64json(p);
  // Un-revoke a revoked card: the decoder reads the forgery, the signature check refuses it.
  const list = StatusList.decompressStatusList(payload.status_list.lst, 2);
  const index = firstRevoked();
  assert.equal(list.getStatus(index), REVOKED);
  list.setStatus(index, VALID);
  payload.status_list.lst = list.compressStatusList();
  const forged = withPayload(tokens.ietf, payload);
  assert.equal(getListFromStatusListJWT(forged).getStatus(index), VALID);
  await assert.rejects(jose.jwtVerify(forged, keySet, {...options, typ: 'statuslist+jwt'}),
    {code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'});
  // A later expiry, or a flipped signature bit, fares no better.
  await assert.rejects(jose.jwtVerify(
    withPayload(tokens.ietf, {...b64json(p), exp: b64json(p).exp + 86400}),
    keySet, options), {code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'});
  const sig = Buffer.from(s, 'base64url');
  sig[0] ^= 1;
  const flipped = tokens.ietf.split('.').slice(0, 2).concat(sig.toString('base64url')).join('.');
  await assert.rejects(jose.jwtVerify(flipped, keySet, options),
    {code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'});
  // A token signed by another key under the published kid is refused too.
  const {privateKey} = await jose.generateKeyPair('EdDSA', {crv: 'Ed25519'});
  const impostor = await new jose.SignJWT(payload)
    .setProtectedHeader({alg: 'EdDSA', kid: expected.key_id, typ: 'statuslist+jwt'})
    .sign(privateKey);
  await assert.rejects(jose.jwtVerify(impostor, keySet, options),
    {code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'});
});

test('a tampered W3C credential is refused by jose', async () => {
  const [, p] = tokens.revocation.split('.');
  const payload = b64json(p);
  const list = await BitstringStatusList.decode(payload.credentialSubject);
  const index = firstRevoked();
  assert.equal(list.getStatus(index), true);
  list.setStatus(index, false);
  payload.credentialSubject.encodedList = await list.encode();
  const forged = withPayload(tokens.revocation, payload);
  assert.equal((await decodeList(b64json(forged.split('.')[1]).credentialSubject))
    .getStatus(index), false);
  await assert.rejects(jose.jwtVerify(forged, keySet, {...options, typ: 'vc+jwt'}),
    {code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'});
  // Swapping the purposes' payloads under one signature is refused as well.
  const swapped = withPayload(tokens.revocation, b64json(tokens.suspension.split('.')[1]));
  await assert.rejects(jose.jwtVerify(swapped, keySet, options),
    {code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'});
});
