//! The keys that sign: an issuer's signing keys, its offline root, and a card's own key.
//! Secrets live in private fields, never print through `Debug`, and are zeroized on
//! drop (ed25519-dalek's `SigningKey` zeroizes itself).

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey};
use rand::CryptoRng;
use zeroize::Zeroizing;

use crate::issue::signer::KeyHolder;
use crate::issue::{CardError, Credential, IssueError, KeySetDraft, KeySigner, SignError};
use crate::model::{
    CardPublicKey, Claims, CredentialRequest, IssuerId, KeyId, Serial, UnixTime, Validity,
};
use crate::verify::{
    CheckedCardKey, IssuerPublicKey, RootPublicKey, TrustError, UnverifiedCredential,
};
use crate::wire::{self, Challenge, credential_digest};

/// Serials are drawn by the issuer.
impl Serial {
    /// Draws a fresh serial from `rng`.
    pub fn random(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }
}

/// An issuer's signing key, with its id and the window in which it signs and is trusted.
pub struct IssuerKey {
    signing: KeyHolder,
    public: IssuerPublicKey,
}

impl IssuerKey {
    /// Generates a fresh key from `rng`.
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] if the public key is refused as [`IssuerPublicKey::from_parts`]
    /// refuses keys; a key derived from a secret is always a point of order `l`, so never.
    pub fn generate(
        issuer: IssuerId,
        validity: Validity,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, TrustError> {
        Self::from_signing(issuer, validity, SigningKey::generate(rng))
    }

    /// Rebuilds a key from its 32 secret bytes (as kept in an HSM export or key file).
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] if the derived public key is refused as
    /// [`IssuerPublicKey::from_parts`] refuses keys (never, as for [`Self::generate`]).
    pub fn from_secret_bytes(
        issuer: IssuerId,
        validity: Validity,
        secret: &[u8; 32],
    ) -> Result<Self, TrustError> {
        Self::from_signing(issuer, validity, SigningKey::from_bytes(secret))
    }

    /// A key that signs through `signer`: a key in a hardware security module
    /// (`revocard::TokenKey`, feature `pkcs11`) or any other [`KeySigner`]. Its
    /// public half is read once, here; every signature it returns is checked against
    /// it before use (see [`KeySigner::needs_verify_after_sign`]).
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] if the signer's public key is refused as
    /// [`IssuerPublicKey::from_parts`] refuses keys (small order, torsion, not canonical).
    pub fn from_signer(
        issuer: IssuerId,
        validity: Validity,
        signer: impl KeySigner,
    ) -> Result<Self, TrustError> {
        Self::from_holder(issuer, validity, KeyHolder::from_signer(signer))
    }

    fn from_signing(
        issuer: IssuerId,
        validity: Validity,
        signing: SigningKey,
    ) -> Result<Self, TrustError> {
        Self::from_holder(issuer, validity, KeyHolder::Software(signing))
    }

    /// The one way to an `IssuerKey`: its public half goes through the same check as
    /// every trust anchor ([`IssuerPublicKey::from_parts`]).
    fn from_holder(
        issuer: IssuerId,
        validity: Validity,
        signing: KeyHolder,
    ) -> Result<Self, TrustError> {
        let public =
            IssuerPublicKey::from_parts(issuer, signing.verifying_key().as_bytes(), validity)?;
        Ok(Self { signing, public })
    }

    /// The 32 secret bytes of a key held in this process, in a buffer that zeroizes
    /// itself; `None` for a key held elsewhere (a token never gives its key out). Store
    /// them only somewhere safe.
    #[must_use]
    pub fn to_secret_bytes(&self) -> Option<Zeroizing<[u8; 32]>> {
        self.signing
            .software()
            .map(|key| Zeroizing::new(key.to_bytes()))
    }

    /// Where the key lives, for errors and logs: `"software"` or a token key's PKCS#11
    /// URI ([`KeySigner::location`]).
    #[must_use]
    pub fn location(&self) -> String {
        self.signing.location()
    }

    /// The key's id.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.public.key_id()
    }

    /// The issuer this key signs for.
    #[must_use]
    pub fn issuer(&self) -> &IssuerId {
        self.public.issuer()
    }

    /// The window in which the key signs and is trusted.
    #[must_use]
    pub fn validity(&self) -> Validity {
        self.public.validity()
    }

    /// The public half, to publish to verifiers.
    #[must_use]
    pub fn public(&self) -> &IssuerPublicKey {
        &self.public
    }

    /// Issues a credential: draws a fresh random serial, fills in the issuer, key id
    /// and issue time, and signs.
    ///
    /// # Errors
    /// [`IssueError::KeyNotValidNow`] if `now` is outside the key's window;
    /// [`IssueError::OutlivesKey`] if the credential's validity is not inside it;
    /// [`IssueError::WeakCardKey`] if the card public key is refused as
    /// [`IssuerPublicKey::from_parts`] refuses keys (not a point, not canonical, of
    /// small order, or with a torsion component); [`IssueError::Sign`] if a key held
    /// outside the process (a token) failed to sign or returned a bad signature.
    pub fn issue(
        &self,
        request: CredentialRequest,
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Credential, IssueError> {
        let card_key = request
            .card_key
            .map(CheckedCardKey::check)
            .transpose()
            .map_err(|_| IssueError::WeakCardKey)?;
        self.issue_checked(request, card_key, Serial::random(rng), now)
    }

    /// [`Self::issue`] for a card key checked already (when its blank-card list was
    /// received) and a serial drawn already: the registry's bulk work, which draws a
    /// chunk's serials together and signs without checking again. The credential binds
    /// `card_key`; `request.card_key` is not read. `serial` must come from
    /// [`Serial::random`].
    pub(crate) fn issue_checked(
        &self,
        request: CredentialRequest,
        card_key: Option<CheckedCardKey>,
        serial: Serial,
        now: UnixTime,
    ) -> Result<Credential, IssueError> {
        let window = self.window_at(now)?;
        if !window.contains(&request.validity) {
            return Err(IssueError::OutlivesKey {
                key_id: self.key_id(),
            });
        }
        let claims = self.claims(request, card_key, serial, now);
        let body = wire::encode_claims(&claims);
        let signature = self.sign(wire::CREDENTIAL_DOMAIN, wire::FORMAT_VERSION, &body)?;
        Ok(Credential::new(
            wire::assemble_signed(wire::FORMAT_VERSION, &signature, &body),
            claims,
        ))
    }

    /// [`Self::issue_checked`] for many credentials at once, signed as one batch
    /// ([`KeyHolder::sign_batch`](super::signer::KeyHolder::sign_batch): with the
    /// software key, one field inversion for the batch). The same credentials, in order;
    /// the first refusal refuses the batch.
    pub(crate) fn issue_checked_many(
        &self,
        items: impl IntoIterator<Item = (CredentialRequest, CheckedCardKey, Serial)>,
        now: UnixTime,
    ) -> Result<Vec<Credential>, IssueError> {
        let window = self.window_at(now)?;
        let mut claims = Vec::new();
        let mut messages = Vec::new();
        let mut bodies = Vec::new();
        for (request, card_key, serial) in items {
            if !window.contains(&request.validity) {
                return Err(IssueError::OutlivesKey {
                    key_id: self.key_id(),
                });
            }
            let c = self.claims(request, Some(card_key), serial, now);
            let body = wire::encode_claims(&c);
            messages.push(wire::signed_message(
                wire::CREDENTIAL_DOMAIN,
                wire::FORMAT_VERSION,
                &body,
            ));
            bodies.push(body);
            claims.push(c);
        }
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let signatures = self.signing.sign_batch(&refs)?;
        Ok(claims
            .into_iter()
            .zip(bodies)
            .zip(signatures)
            .map(|((c, body), signature)| {
                Credential::new(
                    wire::assemble_signed(wire::FORMAT_VERSION, &signature, &body),
                    c,
                )
            })
            .collect())
    }

    /// The key's validity window, if it holds `now` (the key may sign credentials now).
    fn window_at(&self, now: UnixTime) -> Result<Validity, IssueError> {
        let window = self.public.validity();
        if now < window.not_before || now > window.not_after {
            return Err(IssueError::KeyNotValidNow {
                key_id: self.key_id(),
                not_before: window.not_before,
                not_after: window.not_after,
                now,
            });
        }
        Ok(window)
    }

    /// The claims a credential of `request` signed now under this key makes.
    fn claims(
        &self,
        request: CredentialRequest,
        card_key: Option<CheckedCardKey>,
        serial: Serial,
        now: UnixTime,
    ) -> Claims {
        Claims {
            serial,
            kind: request.kind,
            holder: request.holder,
            vetting: request.vetting,
            issuer: self.public.issuer().clone(),
            key_id: self.key_id(),
            status_index: request.status_index,
            print_batch: request.print_batch,
            issued_at: now,
            validity: request.validity,
            card_key: card_key.map(CheckedCardKey::key),
            supersedes: request.supersedes,
        }
    }

    /// Signs `domain || version || body` (through the seam: a token's signature is
    /// verified before it is returned).
    pub(crate) fn sign(
        &self,
        domain: &[u8],
        version: u8,
        body: &[u8],
    ) -> Result<[u8; 64], SignError> {
        self.signing
            .sign(&wire::signed_message(domain, version, body))
    }

    /// Signs a JWS signing input (`BASE64URL(header) "." BASE64URL(payload)`, RFC 7515
    /// section 5.1) with EdDSA, for the standard status-list tokens published beside
    /// revocard's own lists.
    ///
    /// Only a JWS signing input whose header is a JSON object is signed: base64url
    /// characters and exactly one `.`, starting with `eyJ` (the base64url of `{"`).
    /// Every revocard signature covers bytes starting with `revocard/v` (a domain
    /// string holding `/`, which base64url never does), so no input this signs is a
    /// message any revocard verifier accepts, and no revocard message can be passed here.
    ///
    /// # Errors
    /// [`IssueError::NotJwsSigningInput`] for anything else; [`IssueError::Sign`] if a
    /// key held outside the process failed to sign or returned a bad signature.
    pub fn sign_jws(&self, signing_input: &[u8]) -> Result<[u8; 64], IssueError> {
        if !is_jws_signing_input(signing_input) {
            return Err(IssueError::NotJwsSigningInput {
                len: signing_input.len(),
            });
        }
        Ok(self.signing.sign(signing_input)?)
    }
}

/// Whether `input` has the shape of a compact JWS signing input with a JSON-object
/// header: `eyJ`, then base64url characters with exactly one `.` (not last).
fn is_jws_signing_input(input: &[u8]) -> bool {
    let base64url = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    match input.iter().position(|&b| b == b'.') {
        Some(dot) => {
            let (header, payload) = input.split_at(dot);
            let payload = payload.get(1..).unwrap_or_default();
            header.starts_with(b"eyJ")
                && header.iter().all(base64url)
                && !payload.is_empty()
                && payload.iter().all(base64url)
        }
        None => false,
    }
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerKey")
            .field("key_id", &self.public.key_id())
            .field("issuer", &self.public.issuer())
            .field("validity", &self.public.validity())
            .field("location", &self.signing.location())
            .finish_non_exhaustive()
    }
}

/// A card's own key: the secret stays on the card (or in the phone wallet's secure
/// storage); its public half goes into the credential for holder binding.
pub struct CardKey {
    signing: SigningKey,
}

impl CardKey {
    /// Generates a card key from `rng`, refusing the (astronomically unlikely) weak key.
    pub fn generate(rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        loop {
            let signing = SigningKey::generate(rng);
            if !signing.verifying_key().is_weak() {
                return Self { signing };
            }
        }
    }

    /// Rebuilds a card key from its secret bytes.
    #[must_use]
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(secret),
        }
    }

    /// The public half, to put in the credential.
    #[must_use]
    pub fn public(&self) -> CardPublicKey {
        CardPublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Signs `domain || version || body` with the card key.
    pub(crate) fn sign(&self, domain: &[u8], version: u8, body: &[u8]) -> [u8; 64] {
        self.signing
            .sign(&wire::signed_message(domain, version, body))
            .to_bytes()
    }
}

impl fmt::Debug for CardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardKey")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

/// An issuer's root key: kept offline, it signs only key sets.
pub struct RootKey {
    signing: KeyHolder,
    public: RootPublicKey,
}

impl RootKey {
    /// Generates a root key from `rng`.
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] in the (astronomically unlikely) case the key is weak.
    pub fn generate(
        issuer: IssuerId,
        validity: Validity,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self, TrustError> {
        Self::from_signing(issuer, validity, SigningKey::generate(rng))
    }

    /// Rebuilds a root key from its 32 secret bytes.
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] if the derived public key is weak.
    pub fn from_secret_bytes(
        issuer: IssuerId,
        validity: Validity,
        secret: &[u8; 32],
    ) -> Result<Self, TrustError> {
        Self::from_signing(issuer, validity, SigningKey::from_bytes(secret))
    }

    /// A root that signs through `signer`: a key in a hardware security module kept
    /// offline (`revocard::TokenKey`, feature `pkcs11`) or any other
    /// [`KeySigner`]. Every signature it returns is checked before use.
    ///
    /// # Errors
    /// [`TrustError::WeakKey`] if the signer's public key is weak.
    pub fn from_signer(
        issuer: IssuerId,
        validity: Validity,
        signer: impl KeySigner,
    ) -> Result<Self, TrustError> {
        Self::from_holder(issuer, validity, KeyHolder::from_signer(signer))
    }

    fn from_signing(
        issuer: IssuerId,
        validity: Validity,
        signing: SigningKey,
    ) -> Result<Self, TrustError> {
        Self::from_holder(issuer, validity, KeyHolder::Software(signing))
    }

    fn from_holder(
        issuer: IssuerId,
        validity: Validity,
        signing: KeyHolder,
    ) -> Result<Self, TrustError> {
        let public =
            RootPublicKey::from_parts(issuer, signing.verifying_key().as_bytes(), validity)?;
        Ok(Self { signing, public })
    }

    /// The 32 secret bytes of a root held in this process, in a buffer that zeroizes
    /// itself; `None` for a root held elsewhere (a token).
    #[must_use]
    pub fn to_secret_bytes(&self) -> Option<Zeroizing<[u8; 32]>> {
        self.signing
            .software()
            .map(|key| Zeroizing::new(key.to_bytes()))
    }

    /// Where the root lives: `"software"` or a token key's PKCS#11 URI.
    #[must_use]
    pub fn location(&self) -> String {
        self.signing.location()
    }

    /// The public half: the anchor a door is configured with.
    #[must_use]
    pub fn public(&self) -> &RootPublicKey {
        &self.public
    }

    /// Signs the bytes of a draft (its [`KeySetDraft::to_be_signed`]) and returns the
    /// signed key set.
    ///
    /// # Errors
    /// [`SignError`] if a root held outside the process (a token) failed to sign or
    /// returned a signature that does not verify; nothing is returned then.
    pub fn sign_key_set(&self, draft: &KeySetDraft) -> Result<Vec<u8>, SignError> {
        Ok(draft.assemble(&self.sign(&draft.to_be_signed())?))
    }

    /// Signs a prepared message (what an HSM holding the root would do).
    ///
    /// # Errors
    /// As [`Self::sign_key_set`].
    pub fn sign(&self, to_be_signed: &[u8]) -> Result<[u8; 64], SignError> {
        self.signing.sign(to_be_signed)
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl CardKey {
    /// Answers a door's challenge, presenting `credential` (the exact bytes that will
    /// be tapped with the response). The card side of holder binding; [`Card`] wraps it.
    #[must_use]
    pub fn respond(&self, challenge: &Challenge, credential: &[u8]) -> Vec<u8> {
        let mut body = wire::challenge_body(challenge.fields());
        body.extend_from_slice(&credential_digest(credential));
        let signature = self.sign(wire::CHALLENGE_RESPONSE_DOMAIN, wire::FORMAT_VERSION, &body);
        wire::encode_response(
            &signature,
            &challenge.fields().door,
            &challenge.fields().nonce,
        )
    }
}

/// A card as it is carried: its credential bytes and its own key (a smart card's
/// chip, or a phone wallet's secure storage). For tests, examples and wallets.
pub struct Card {
    credential: Vec<u8>,
    key: CardKey,
}

impl Card {
    /// Assembles a card, checking that the credential names this card key.
    ///
    /// # Errors
    /// [`CardError::Malformed`] if the bytes are not a credential;
    /// [`CardError::NoCardKey`] if it names no card key; [`CardError::KeyMismatch`] if
    /// it names another.
    pub fn new(credential: Vec<u8>, key: CardKey) -> Result<Self, CardError> {
        let named = UnverifiedCredential::from_bytes(&credential)?
            .unverified_claims()
            .card_key
            .ok_or(CardError::NoCardKey)?;
        if named != key.public() {
            return Err(CardError::KeyMismatch);
        }
        Ok(Self { credential, key })
    }

    /// The credential bytes, to present at a door.
    #[must_use]
    pub fn credential(&self) -> &[u8] {
        &self.credential
    }

    /// The card's public key.
    #[must_use]
    pub fn public_key(&self) -> CardPublicKey {
        self.key.public()
    }

    /// Answers a door's challenge for this card's credential.
    #[must_use]
    pub fn respond(&self, challenge: &Challenge) -> Vec<u8> {
        self.key.respond(challenge, &self.credential)
    }
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card")
            .field("credential_len", &self.credential.len())
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}
