//! PKCS#11 modules, PINs and Ed25519 keys in tokens.
//!
//! A [`TokenKey`] is a private key that never leaves its token: it is found (or made)
//! by its URI, the token is logged into once, and each signature is made by the token
//! in a session of its own (a pool: one session per concurrent signer, since a
//! PKCS#11 session serves one operation at a time) and checked against the public key
//! before it is returned.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use ed25519_dalek::ed25519::signature::{self, Keypair, Signer};
use ed25519_dalek::{Signature, VerifyingKey};
use zeroize::Zeroizing;

use crate::hsm::error::rv_name;
use crate::hsm::{HsmError, Pkcs11Uri};
use crate::issue::KeySigner;

/// `CKA_EC_PARAMS` for Ed25519: the DER of the curve's object identifier
/// `id-Ed25519` (1.3.101.112, RFC 8410), as PKCS#11 3.0 section 2.3.10 allows.
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// `CKA_EC_PARAMS` for Ed25519 as a DER PrintableString naming the curve
/// (`edwards25519`), which PKCS#11 3.0 also allows and older modules expect.
const ED25519_NAME: &[u8] = &[
    0x13, 0x0c, b'e', b'd', b'w', b'a', b'r', b'd', b's', b'2', b'5', b'5', b'1', b'9',
];

/// Idle sessions kept per key: more than the cores of any issuing machine. A session
/// beyond them is closed when its signer is done.
const MAX_IDLE_SESSIONS: usize = 64;

/// What the key signs when it is opened, to prove that the private key and the public
/// key under the label are a pair. Not a revocard message (those start with
/// `revocard/v`) and not a JWS signing input.
const PAIR_PROBE: &[u8] = b"revocard-hsm: key pair check";

/// A loaded and initialised PKCS#11 module (the vendor's library: SoftHSM, a Luna,
/// an nShield, a YubiHSM). Cheap to clone; loading the same path again returns the
/// same module (a module is initialised once per process, PKCS#11 section 5.4).
#[derive(Clone)]
pub struct Pkcs11Module {
    inner: Arc<ModuleInner>,
}

struct ModuleInner {
    path: PathBuf,
    context: Pkcs11,
}

/// The modules loaded in this process, by canonical path.
static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11Module>>> = OnceLock::new();

impl Pkcs11Module {
    /// Loads the module at `path` and initialises it (for use from several threads,
    /// with the operating system's locks), or returns the one already loaded from there.
    ///
    /// # Errors
    /// [`HsmError::NotAModule`] if the file does not exist, is not a shared library,
    /// has no `C_GetFunctionList`, or fails `C_Initialize`.
    pub fn load(path: &Path) -> Result<Self, HsmError> {
        let not_a_module = || HsmError::NotAModule {
            path: path.to_owned(),
        };
        let canonical = std::fs::canonicalize(path).map_err(|_| not_a_module())?;
        let mut modules = MODULES
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(module) = modules.get(&canonical) {
            return Ok(module.clone());
        }
        let context = Pkcs11::new(&canonical).map_err(|_| not_a_module())?;
        match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            // Another part of the process (or a test's own cryptoki) initialised it.
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(_) => return Err(not_a_module()),
        }
        let module = Self {
            inner: Arc::new(ModuleInner {
                path: canonical.clone(),
                context,
            }),
        };
        modules.insert(canonical, module.clone());
        Ok(module)
    }

    /// The module's path (canonical).
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The labels of the tokens present, in slot order: for an operator choosing one.
    ///
    /// # Errors
    /// [`HsmError::Token`] if the module cannot list its slots.
    pub fn token_labels(&self) -> Result<Vec<String>, HsmError> {
        let fail = |function, e: CkError| HsmError::Token {
            token: "?".to_owned(),
            object: "?".to_owned(),
            function,
            rv: rv_name(&e),
        };
        let ctx = &self.inner.context;
        let mut labels = Vec::new();
        for slot in ctx
            .get_slots_with_token()
            .map_err(|e| fail("C_GetSlotList", e))?
        {
            let info = ctx
                .get_token_info(slot)
                .map_err(|e| fail("C_GetTokenInfo", e))?;
            if info.token_initialized() {
                labels.push(info.label().to_owned());
            }
        }
        Ok(labels)
    }

    /// The one slot whose token the URI names.
    fn find_slot(&self, uri: &Pkcs11Uri) -> Result<Slot, HsmError> {
        let names = Names::of(uri);
        let ctx = &self.inner.context;
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| names.fail("C_GetSlotList", &e))?;
        let mut found = None;
        for slot in slots {
            if uri.slot_id().is_some_and(|id| id != slot.id()) {
                continue;
            }
            let info = ctx
                .get_token_info(slot)
                .map_err(|e| names.fail("C_GetTokenInfo", &e))?;
            let matches = info.token_initialized()
                && uri.token().is_none_or(|t| t == info.label())
                && uri
                    .manufacturer()
                    .is_none_or(|m| m == info.manufacturer_id())
                && uri.model().is_none_or(|m| m == info.model())
                && uri.serial().is_none_or(|s| s == info.serial_number());
            if matches {
                if found.is_some() {
                    return Err(HsmError::Ambiguous {
                        token: names.token,
                        object: names.object,
                    });
                }
                found = Some((slot, info.user_pin_locked()));
            }
        }
        match found {
            None => Err(HsmError::NoToken { token: names.token }),
            Some((_, true)) => Err(HsmError::PinLocked { token: names.token }),
            Some((slot, false)) => Ok(slot),
        }
    }
}

impl fmt::Debug for Pkcs11Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Module")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// A token's user PIN: zeroized on drop, never printed (`Debug` shows `TokenPin(..)`).
pub struct TokenPin(Zeroizing<String>);

impl TokenPin {
    /// Wraps a PIN read from a file, the environment or a prompt (never argv).
    #[must_use]
    pub fn new(pin: Zeroizing<String>) -> Self {
        Self(pin)
    }

    fn auth(&self) -> AuthPin {
        AuthPin::new(self.0.as_str().into())
    }
}

impl fmt::Debug for TokenPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenPin(..)")
    }
}

/// What a key in a token may be. The default refuses a key that can leave its token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Accept (or generate) a key with `CKA_EXTRACTABLE` true or `CKA_SENSITIVE`
    /// false: only when the operator says so explicitly (a test token, a migration).
    pub allow_extractable: bool,
}

/// A key's protection attributes, as the token reports them (for tests and auditors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyAttributes {
    /// `CKA_EXTRACTABLE`: the key can be wrapped out of the token.
    pub extractable: bool,
    /// `CKA_SENSITIVE`: the key's value can never be read in the clear.
    pub sensitive: bool,
    /// `CKA_NEVER_EXTRACTABLE`: the key has never been extractable.
    pub never_extractable: bool,
    /// `CKA_ALWAYS_SENSITIVE`: the key has always been sensitive.
    pub always_sensitive: bool,
    /// `CKA_LOCAL`: the key was generated in the token.
    pub local: bool,
}

/// The token and object labels, for errors.
struct Names {
    token: String,
    object: String,
}

impl Names {
    fn of(uri: &Pkcs11Uri) -> Self {
        Self {
            token: uri.token_name(),
            object: uri.object_name(),
        }
    }

    fn fail(&self, function: &'static str, e: &CkError) -> HsmError {
        HsmError::Token {
            token: self.token.clone(),
            object: self.object.clone(),
            function,
            rv: rv_name(e),
        }
    }

    fn error(&self, make: fn(String, String) -> HsmError) -> HsmError {
        make(self.token.clone(), self.object.clone())
    }
}

/// An Ed25519 private key in a PKCS#11 token. Cheap to clone (clones share one login
/// and one session pool). Implements [`KeySigner`], so
/// `IssuerKey::from_signer(issuer, validity, token_key)` signs with it.
#[derive(Clone)]
pub struct TokenKey {
    inner: Arc<TokenInner>,
}

struct TokenInner {
    module: Pkcs11Module,
    uri: Pkcs11Uri,
    location: String,
    names: Names,
    slot: Slot,
    private: ObjectHandle,
    public: VerifyingKey,
    /// The session that logged in: while it is open, every session of this process
    /// with the token is logged in (PKCS#11 section 5.6).
    _login: Mutex<Session>,
    /// Sessions not signing right now.
    idle: Mutex<Vec<Session>>,
}

impl TokenKey {
    /// Opens the Ed25519 key the URI names (`token=`, `object=`, optionally `id=`,
    /// `serial=`, ...), logging into its token with `pin`. Refuses a key that can leave
    /// the token (see [`Self::open_with_policy`]).
    ///
    /// # Errors
    /// [`HsmError::NoToken`], [`HsmError::WrongPin`], [`HsmError::PinLocked`],
    /// [`HsmError::NoObject`], [`HsmError::Ambiguous`], [`HsmError::WrongKeyType`],
    /// [`HsmError::CannotSign`], [`HsmError::Extractable`], [`HsmError::KeyMismatch`],
    /// [`HsmError::Token`].
    pub fn open(module: &Pkcs11Module, uri: &Pkcs11Uri, pin: &TokenPin) -> Result<Self, HsmError> {
        Self::open_with_policy(module, uri, pin, KeyPolicy::default())
    }

    /// [`Self::open`], accepting an extractable or non-sensitive key if `policy` says so.
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_with_policy(
        module: &Pkcs11Module,
        uri: &Pkcs11Uri,
        pin: &TokenPin,
        policy: KeyPolicy,
    ) -> Result<Self, HsmError> {
        let names = Names::of(uri);
        let slot = module.find_slot(uri)?;
        let session = login(module, slot, pin, &names)?;
        let private = find_one(&session, uri, ObjectClass::PRIVATE_KEY, &names)?
            .ok_or_else(|| names.error(|token, object| HsmError::NoObject { token, object }))?;
        check_private(&session, private, policy, &names)?;
        let public_object = find_one(&session, uri, ObjectClass::PUBLIC_KEY, &names)?
            .ok_or_else(|| names.error(|token, object| HsmError::NoObject { token, object }))?;
        Self::assemble(module, uri, slot, session, private, public_object, names)
    }

    /// Generates an Ed25519 key pair in the token the URI names, labelled with the
    /// URI's `object` (and `id`, if given): `CKA_TOKEN`, `CKA_SENSITIVE`, `CKA_SIGN`
    /// true and `CKA_EXTRACTABLE` false (true only if `policy` allows it). The private
    /// key never exists outside the token.
    ///
    /// # Errors
    /// [`HsmError::BadUri`] if the URI names no token or no object;
    /// [`HsmError::AlreadyExists`] if the token holds an object with that label (nothing
    /// is generated); as [`Self::open`] otherwise.
    pub fn generate(
        module: &Pkcs11Module,
        uri: &Pkcs11Uri,
        pin: &TokenPin,
        policy: KeyPolicy,
    ) -> Result<Self, HsmError> {
        use crate::hsm::UriError;
        let label = uri.object().ok_or(HsmError::BadUri {
            reason: UriError::NoObject,
        })?;
        if uri.token().is_none() {
            return Err(HsmError::BadUri {
                reason: UriError::NoToken,
            });
        }
        let names = Names::of(uri);
        let slot = module.find_slot(uri)?;
        let session = login(module, slot, pin, &names)?;
        let taken = session
            .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
            .map_err(|e| names.fail("C_FindObjects", &e))?;
        if !taken.is_empty() {
            return Err(names.error(|token, object| HsmError::AlreadyExists { token, object }));
        }
        let rw = module
            .inner
            .context
            .open_rw_session(slot)
            .map_err(|e| names.fail("C_OpenSession", &e))?;
        let mut common = vec![
            Attribute::Token(true),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        if let Some(id) = uri.id() {
            common.push(Attribute::Id(id.to_vec()));
        }
        let mut private_template = common.clone();
        private_template.extend([
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(policy.allow_extractable),
            Attribute::Sign(true),
        ]);
        let mut generated = None;
        let mut last_error = None;
        for params in [ED25519_OID, ED25519_NAME] {
            let mut public_template = common.clone();
            public_template.extend([
                Attribute::Private(false),
                Attribute::Verify(true),
                Attribute::EcParams(params.to_vec()),
            ]);
            match rw.generate_key_pair(
                &Mechanism::EccEdwardsKeyPairGen,
                &public_template,
                &private_template,
            ) {
                Ok(pair) => {
                    generated = Some(pair);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let (public_object, private) = match (generated, last_error) {
            (Some(pair), _) => pair,
            (None, Some(e)) => return Err(names.fail("C_GenerateKeyPair", &e)),
            (None, None) => {
                return Err(names.error(|token, object| HsmError::NoObject { token, object }));
            }
        };
        drop(rw);
        check_private(&session, private, policy, &names)?;
        Self::assemble(module, uri, slot, session, private, public_object, names)
    }

    fn assemble(
        module: &Pkcs11Module,
        uri: &Pkcs11Uri,
        slot: Slot,
        session: Session,
        private: ObjectHandle,
        public_object: ObjectHandle,
        names: Names,
    ) -> Result<Self, HsmError> {
        let public = read_public(&session, public_object, &names)?;
        let uri = uri.key_only();
        let key = Self {
            inner: Arc::new(TokenInner {
                module: module.clone(),
                location: uri.to_string(),
                uri,
                names,
                slot,
                private,
                public,
                _login: Mutex::new(session),
                idle: Mutex::new(Vec::new()),
            }),
        };
        // The pair check: a signature by the private key verifies under the public one.
        match key.sign_checked(PAIR_PROBE) {
            Ok(_) => Ok(key),
            Err(HsmError::BadSignature { token, object }) => {
                Err(HsmError::KeyMismatch { token, object })
            }
            Err(e) => Err(e),
        }
    }

    /// The key's public half, read from the token when it was opened.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        self.inner.public
    }

    /// The key's URI (token and object; no module path, no PIN source).
    #[must_use]
    pub fn uri(&self) -> &Pkcs11Uri {
        &self.inner.uri
    }

    /// The key's protection attributes, read from the token now.
    ///
    /// # Errors
    /// [`HsmError::Token`] if the token cannot be read.
    pub fn attributes(&self) -> Result<KeyAttributes, HsmError> {
        let session = self.session()?;
        let read = key_attributes(&session, self.inner.private, &self.inner.names);
        self.give_back(session);
        read
    }

    /// Signs with the token and checks the signature before returning it.
    fn sign_checked(&self, message: &[u8]) -> Result<Signature, HsmError> {
        let inner = &self.inner;
        let session = self.session()?;
        let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let signed = session.sign(&mechanism, inner.private, message);
        let bytes = match signed {
            Ok(bytes) => {
                self.give_back(session);
                bytes
            }
            // The session may be dead (closed, token removed): drop it, never reuse it.
            Err(e) => return Err(inner.names.fail("C_Sign", &e)),
        };
        let bad = || {
            inner
                .names
                .error(|token, object| HsmError::BadSignature { token, object })
        };
        let signature = Signature::from_slice(&bytes).map_err(|_| bad())?;
        inner
            .public
            .verify_strict(message, &signature)
            .map_err(|_| bad())?;
        Ok(signature)
    }

    /// An idle session, or a new one (logged in through the login session).
    fn session(&self) -> Result<Session, HsmError> {
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(session) => Ok(session),
            None => self
                .inner
                .module
                .inner
                .context
                .open_ro_session(self.inner.slot)
                .map_err(|e| self.inner.names.fail("C_OpenSession", &e)),
        }
    }

    fn give_back(&self, session: Session) {
        let mut idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_SESSIONS {
            idle.push(session);
        }
    }
}

impl Signer<Signature> for TokenKey {
    fn try_sign(&self, message: &[u8]) -> Result<Signature, signature::Error> {
        self.sign_checked(message)
            .map_err(signature::Error::from_source)
    }
}

impl Keypair for TokenKey {
    type VerifyingKey = VerifyingKey;

    fn verifying_key(&self) -> VerifyingKey {
        self.inner.public
    }
}

impl KeySigner for TokenKey {
    fn location(&self) -> String {
        self.inner.location.clone()
    }

    /// A token key checks every signature itself ([`TokenKey`] never returns one that
    /// does not verify), so the seam need not check it again.
    fn needs_verify_after_sign(&self) -> bool {
        false
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKey")
            .field("uri", &self.inner.location)
            .field("module", &self.inner.module.path())
            .finish_non_exhaustive()
    }
}

impl Drop for TokenInner {
    fn drop(&mut self) {
        // Closing the sessions (the login one last) logs this process out of the token.
        self.idle
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Opens a session and logs in as the user, reporting a locked PIN as such.
fn login(
    module: &Pkcs11Module,
    slot: Slot,
    pin: &TokenPin,
    names: &Names,
) -> Result<Session, HsmError> {
    let session = module
        .inner
        .context
        .open_ro_session(slot)
        .map_err(|e| names.fail("C_OpenSession", &e))?;
    match session.login(UserType::User, Some(&pin.auth())) {
        // Another key of this process is logged into the same token: one login serves
        // every session of the process (PKCS#11 section 5.6).
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(e) => {
            // A token may lock on this very attempt and still answer "incorrect".
            let locked = module
                .inner
                .context
                .get_token_info(slot)
                .is_ok_and(|info| info.user_pin_locked());
            Err(login_failure(&e, locked, names))
        }
    }
}

/// What a failed `C_Login` means: a locked PIN (said by the return value or by the
/// token's `CKF_USER_PIN_LOCKED` flag after the attempt), a wrong PIN, or a failure.
fn login_failure(e: &CkError, locked: bool, names: &Names) -> HsmError {
    let token = names.token.clone();
    match e {
        CkError::Pkcs11(RvError::PinLocked, _) => HsmError::PinLocked { token },
        CkError::Pkcs11(RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange, _) => {
            if locked {
                HsmError::PinLocked { token }
            } else {
                HsmError::WrongPin { token }
            }
        }
        other => names.fail("C_Login", other),
    }
}

/// The one object of `class` the URI names (by label and id); `None` if there is none.
fn find_one(
    session: &Session,
    uri: &Pkcs11Uri,
    class: ObjectClass,
    names: &Names,
) -> Result<Option<ObjectHandle>, HsmError> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(label) = uri.object() {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = uri.id() {
        template.push(Attribute::Id(id.to_vec()));
    }
    let found = session
        .find_objects(&template)
        .map_err(|e| names.fail("C_FindObjects", &e))?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(names.error(|token, object| HsmError::Ambiguous { token, object })),
    }
}

/// Refuses a private key that is not Ed25519, may not sign, or can leave the token.
fn check_private(
    session: &Session,
    private: ObjectHandle,
    policy: KeyPolicy,
    names: &Names,
) -> Result<(), HsmError> {
    let attributes = session
        .get_attributes(private, &[AttributeType::KeyType, AttributeType::Sign])
        .map_err(|e| names.fail("C_GetAttributeValue", &e))?;
    let mut edwards = false;
    let mut sign = false;
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(t) => edwards = t == KeyType::EC_EDWARDS,
            Attribute::Sign(s) => sign = s,
            _ => {}
        }
    }
    if !edwards {
        return Err(names.error(|token, object| HsmError::WrongKeyType { token, object }));
    }
    if !sign {
        return Err(names.error(|token, object| HsmError::CannotSign { token, object }));
    }
    let protection = key_attributes(session, private, names)?;
    if (protection.extractable || !protection.sensitive) && !policy.allow_extractable {
        return Err(names.error(|token, object| HsmError::Extractable { token, object }));
    }
    Ok(())
}

fn key_attributes(
    session: &Session,
    private: ObjectHandle,
    names: &Names,
) -> Result<KeyAttributes, HsmError> {
    let read = session
        .get_attributes(
            private,
            &[
                AttributeType::Extractable,
                AttributeType::Sensitive,
                AttributeType::NeverExtractable,
                AttributeType::AlwaysSensitive,
                AttributeType::Local,
            ],
        )
        .map_err(|e| names.fail("C_GetAttributeValue", &e))?;
    // Unreported attributes count against the key: extractable, not sensitive.
    let mut out = KeyAttributes {
        extractable: true,
        sensitive: false,
        never_extractable: false,
        always_sensitive: false,
        local: false,
    };
    for attribute in read {
        match attribute {
            Attribute::Extractable(v) => out.extractable = v,
            Attribute::Sensitive(v) => out.sensitive = v,
            Attribute::NeverExtractable(v) => out.never_extractable = v,
            Attribute::AlwaysSensitive(v) => out.always_sensitive = v,
            Attribute::Local(v) => out.local = v,
            _ => {}
        }
    }
    Ok(out)
}

/// The Ed25519 public key in a public key object's `CKA_EC_POINT` (a DER OCTET STRING
/// of 32 bytes, or the 32 bytes bare as some modules give them), on edwards25519.
fn read_public(
    session: &Session,
    public: ObjectHandle,
    names: &Names,
) -> Result<VerifyingKey, HsmError> {
    let wrong = || names.error(|token, object| HsmError::WrongKeyType { token, object });
    let attributes = session
        .get_attributes(
            public,
            &[
                AttributeType::KeyType,
                AttributeType::EcParams,
                AttributeType::EcPoint,
            ],
        )
        .map_err(|e| names.fail("C_GetAttributeValue", &e))?;
    let (mut edwards, mut params, mut point) = (false, None, None);
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(t) => edwards = t == KeyType::EC_EDWARDS,
            Attribute::EcParams(p) => params = Some(p),
            Attribute::EcPoint(p) => point = Some(p),
            _ => {}
        }
    }
    let params = params.ok_or_else(wrong)?;
    if !edwards || (params != ED25519_OID && params != ED25519_NAME) {
        return Err(wrong());
    }
    let point = point.ok_or_else(wrong)?;
    let bytes: [u8; 32] = match point.as_slice() {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest.try_into().map_err(|_| wrong())?,
        bare if bare.len() == 32 => bare.try_into().map_err(|_| wrong())?,
        _ => return Err(wrong()),
    };
    VerifyingKey::from_bytes(&bytes).map_err(|_| wrong())
}

#[cfg(test)]
mod tests {
    use cryptoki::context::Function;

    use super::*;

    fn names() -> Names {
        Names {
            token: "office".to_owned(),
            object: "signing".to_owned(),
        }
    }

    /// SoftHSM never locks a PIN (tests/hsm.rs shows it), so the lock is tested here:
    /// `CKR_PIN_LOCKED`, or a wrong PIN after which the token says it is locked.
    #[test]
    fn a_locked_pin_is_reported_as_locked() {
        let locked = CkError::Pkcs11(RvError::PinLocked, Function::Login);
        let wrong = CkError::Pkcs11(RvError::PinIncorrect, Function::Login);
        let office = || "office".to_owned();
        assert_eq!(
            login_failure(&locked, false, &names()),
            HsmError::PinLocked { token: office() }
        );
        assert_eq!(
            login_failure(&wrong, true, &names()),
            HsmError::PinLocked { token: office() }
        );
        assert_eq!(
            login_failure(&wrong, false, &names()),
            HsmError::WrongPin { token: office() }
        );
        let removed = CkError::Pkcs11(RvError::DeviceRemoved, Function::Login);
        let e = login_failure(&removed, false, &names());
        assert_eq!(
            e.to_string(),
            "token \"office\", key \"signing\": C_Login failed with CKR_DEVICE_REMOVED"
        );
        assert_eq!(
            HsmError::PinLocked { token: office() }.to_string(),
            "token \"office\" is locked after too many wrong PINs: its security officer must reset the PIN"
        );
    }
}
