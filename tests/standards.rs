//! The standard status views (feature `standards`): what the registry publishes for
//! verifiers that speak only the IETF Token Status List or the W3C Bitstring Status
//! List answers every index as revocard's own list does, is signed only as a JWS, and
//! is written only with a key the registry may sign lists with. (interop/ checks the
//! same files with implementations revocard did not write.)
#![cfg(feature = "standards")]

mod common;

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use ed25519_dalek::{Signature, VerifyingKey};
use revocard::issue::*;
use revocard::net::standards::*;
use revocard::net::{PublishError, layout};
use revocard::registry::*;
use revocard::*;
use serde_json::Value;

const BASE: &str = "https://status.test-police.example/revocard";

fn roster(from: u32, n: u32) -> Vec<HolderRequest> {
    (from..from + n)
        .map(|i| HolderRequest {
            kind: Kind::WarrantCard,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(3600), NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

/// A registry with a breached supplier's batch revoked by scope (one of its cards
/// suspended before), two cards of the other supplier revoked and one suspended.
fn scenario(key: &IssuerKey) -> Registry<SqliteStore> {
    let mut rng = rng(14);
    let mut registry = create_registry(
        SqliteStore::open_in_memory().unwrap(),
        key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    for (supplier, holders) in [("breached", roster(0, 40)), ("other", roster(40, 20))] {
        registry
            .issue_roster(
                key,
                supplier,
                &holders,
                &mut fresh(&mut rng),
                NOW,
                &mut rng,
                &mut Hooks::default(),
            )
            .unwrap();
    }
    let cards = |registry: &Registry<SqliteStore>, batch| {
        registry
            .store()
            .credentials(&CredentialFilter::PrintBatches(vec![PrintBatchId(batch)]))
            .unwrap()
    };
    let (breached, other) = (cards(&registry, 1), cards(&registry, 2));
    assert_eq!((breached.len(), other.len()), (40, 20));
    let later = NOW.plus(10);
    let set = |registry: &mut Registry<SqliteStore>, serial, status| {
        registry
            .set_status(
                key,
                serial,
                status,
                RevocationReason::Lost,
                later,
                later.plus(3600),
            )
            .unwrap();
    };
    set(&mut registry, breached[0].serial, Status::Suspended);
    let incident = Incident::Supplier {
        supplier: "breached".into(),
    };
    let plan = registry.plan(&incident, later).unwrap();
    registry
        .declare(&plan, key, "elsewhere", later, later.plus(3600))
        .unwrap();
    set(&mut registry, other[0].serial, Status::Revoked);
    set(&mut registry, other[1].serial, Status::Revoked);
    set(&mut registry, other[2].serial, Status::Suspended);
    registry
}

/// Every index's answer from the published native files, as a door trusting only the
/// root reads them.
fn native_answers(registry: &Registry<SqliteStore>, issuer_dir: &Path) -> Vec<Status> {
    let read = |p: &str| std::fs::read(issuer_dir.join(p)).unwrap();
    let latest = layout::Latest::from_json(&read(layout::LATEST_FILE)).unwrap();
    let now = UnixTime(latest.published_at);
    let verifier = Verifier::new(TrustStore::new(), VerifyOptions::default());
    verifier
        .add_root(RootPublicKey::from_bytes(&read(&latest.anchor.path)).unwrap())
        .unwrap();
    verifier
        .install_key_set(&read(&latest.key_set.path), now)
        .unwrap();
    verifier
        .install_list(&read(&latest.list.path), now)
        .unwrap();
    let list = verifier.list(&issuer_id()).unwrap();
    let claims: HashMap<u32, Claims> = registry
        .store()
        .credentials(&CredentialFilter::All)
        .unwrap()
        .into_iter()
        .map(|r| {
            let c = UnverifiedCredential::from_bytes(&r.bytes).unwrap();
            (r.status_index.0, c.unverified_claims().clone())
        })
        .collect();
    (0..list.capacity())
        .map(|i| match claims.get(&i) {
            Some(c) => match list.status_of(c).unwrap() {
                StatusAnswer::Valid => Status::Valid,
                StatusAnswer::Suspended => Status::Suspended,
                StatusAnswer::Revoked(_) => Status::Revoked,
            },
            None => list.status_at(i).unwrap(),
        })
        .collect()
}

/// The payload of a compact JWS whose EdDSA signature verifies (strictly) under `x`.
fn verified_payload(jws: &str, x: &[u8; 32]) -> Value {
    let (input, signature) = jws.rsplit_once('.').unwrap();
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
    VerifyingKey::from_bytes(x)
        .unwrap()
        .verify_strict(input.as_bytes(), &signature)
        .unwrap();
    let payload = input.split_once('.').unwrap().1;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[test]
fn published_views_answer_every_index_as_the_native_list_does() {
    let key = issuer_key(&mut rng(1));
    let registry = scenario(&key);
    let dir = tempfile::tempdir().unwrap();
    registry
        .publish_to_with_standards(dir.path(), BASE, &key)
        .unwrap();
    let issuer_dir = dir.path().join(layout::issuer_dir_name(&issuer_id()));
    let native = native_answers(&registry, &issuer_dir);
    let count = |s| native.iter().filter(|&&x| x == s).count();
    // 40 breached (one of them suspended before: revoked now) + 2; 1 suspended.
    assert_eq!((count(Status::Revoked), count(Status::Suspended)), (42, 1));

    let read = |p: &str| std::fs::read_to_string(issuer_dir.join(p)).unwrap();
    let jwks: Value = serde_json::from_str(&read(JWKS_PATH)).unwrap();
    let jwk = &jwks["keys"][0];
    assert_eq!(
        (&jwk["kty"], &jwk["crv"], &jwk["kid"]),
        (
            &"OKP".into(),
            &"Ed25519".into(),
            &key.key_id().to_string().into()
        )
    );
    let x: [u8; 32] = URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(x, key.public().public_key_bytes());
    let urls = StatusUrls::new(BASE, &issuer_id()).unwrap();

    // IETF: 2 bits an index, low bits first, zlib.
    let ietf = verified_payload(&read(IETF_PATH), &x);
    assert_eq!(ietf["sub"], urls.ietf());
    assert_eq!(ietf["status_list"]["bits"], 2);
    // ttl is how long to cache the view (five minutes, the publisher's max-age), not
    // the list's lifetime: a standards verifier learns of a revocation within it.
    assert_eq!(ietf["ttl"].as_u64().unwrap(), DEFAULT_VIEW_TTL_SECS);
    assert_eq!(DEFAULT_VIEW_TTL_SECS, 300);
    assert!(ietf["exp"].as_u64().unwrap() - ietf["iat"].as_u64().unwrap() > DEFAULT_VIEW_TTL_SECS);
    let lst = URL_SAFE_NO_PAD
        .decode(ietf["status_list"]["lst"].as_str().unwrap())
        .unwrap();
    let mut bytes = Vec::new();
    flate2::read::ZlibDecoder::new(&lst[..])
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(bytes.len(), CAPACITY as usize / 4);
    // W3C: one bit an index, first bit first, gzip, multibase `u`.
    let w3c = |purpose: W3cPurpose| {
        let vc = verified_payload(&read(purpose.path()), &x);
        assert_eq!(vc["credentialSubject"]["statusPurpose"], purpose.as_str());
        assert_eq!(vc["id"], urls.w3c(purpose));
        let encoded = vc["credentialSubject"]["encodedList"].as_str().unwrap();
        assert!(encoded.starts_with('u'));
        let (_, gz) = multibase::decode(encoded).unwrap();
        let mut bits = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut bits)
            .unwrap();
        bits
    };
    let (revoked, suspended) = (w3c(W3cPurpose::Revocation), w3c(W3cPurpose::Suspension));
    for (i, want) in native.iter().enumerate() {
        let ietf_value = (bytes[i / 4] >> (2 * (i % 4))) & 0b11;
        let ietf_status = match ietf_value {
            IETF_VALID => Status::Valid,
            IETF_INVALID => Status::Revoked,
            IETF_SUSPENDED => Status::Suspended,
            other => panic!("index {i}: IETF value {other}"),
        };
        assert_eq!(ietf_status, *want, "IETF, index {i}");
        let bit = |bits: &[u8]| bits[i / 8] >> (7 - i % 8) & 1 == 1;
        let w3c_status = match (bit(&revoked), bit(&suspended)) {
            (false, false) => Status::Valid,
            (true, false) => Status::Revoked,
            (false, true) => Status::Suspended,
            (true, true) => panic!("index {i} in both W3C lists"),
        };
        assert_eq!(w3c_status, *want, "W3C, index {i}");
    }
}

#[test]
fn views_are_deterministic_and_rewritten_only_when_the_status_changes() {
    let key = issuer_key(&mut rng(2));
    let mut registry = scenario(&key);
    let dir = tempfile::tempdir().unwrap();
    let first = registry
        .publish_to_with_standards(dir.path(), BASE, &key)
        .unwrap();
    let issuer_dir = first.issuer_dir.clone();
    let ietf_before = std::fs::read(issuer_dir.join(IETF_PATH)).unwrap();
    let again = registry
        .publish_to_with_standards(dir.path(), BASE, &key)
        .unwrap();
    assert_eq!(
        again.written,
        vec![layout::LATEST_FILE.to_owned()],
        "the same state gives the same views"
    );
    let card = registry
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![PrintBatchId(2)]))
        .unwrap()[10]
        .clone();
    let t = NOW.plus(100);
    registry
        .set_status(
            &key,
            card.serial,
            Status::Revoked,
            RevocationReason::Stolen,
            t,
            t.plus(3600),
        )
        .unwrap();
    registry
        .publish_to_with_standards(dir.path(), BASE, &key)
        .unwrap();
    assert_ne!(
        std::fs::read(issuer_dir.join(IETF_PATH)).unwrap(),
        ietf_before
    );
    assert_eq!(
        native_answers(&registry, &issuer_dir)[card.status_index.0 as usize],
        Status::Revoked
    );
}

#[test]
fn only_a_key_the_registry_signs_lists_with_signs_the_views() {
    let key = issuer_key(&mut rng(3));
    let registry = scenario(&key);
    let dir = tempfile::tempdir().unwrap();
    let stranger = issuer_key(&mut rng(4));
    assert!(matches!(
        registry.publish_to_with_standards(dir.path(), BASE, &stranger),
        Err(PublishError::Registry(RegistryError::WrongKey {
            why: WrongKey::NotCertified,
            ..
        }))
    ));
    assert!(matches!(
        registry.publish_to_with_standards(dir.path(), "status.example/x", &key),
        Err(PublishError::Standards(StandardsError::BaseUrl { .. }))
    ));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn sign_jws_signs_jws_signing_inputs_and_nothing_revocard_verifies() {
    let key = issuer_key(&mut rng(5));
    let input = b"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0";
    let signature = key.sign_jws(input).unwrap();
    VerifyingKey::from_bytes(&key.public().public_key_bytes())
        .unwrap()
        .verify_strict(input, &Signature::from_bytes(&signature))
        .unwrap();
    let mut credential_message = revocard::format::CREDENTIAL_DOMAIN.to_vec();
    credential_message.extend_from_slice(b"\x01eyJ.eyJ");
    let mut list_message = revocard::format::LIST_DOMAIN.to_vec();
    list_message.extend_from_slice(b"eyJ.eyJ");
    for refused in [
        &b""[..],
        b"eyJhbGciOiJFZERTQSJ9",
        b"eyJhbGciOiJFZERTQSJ9.",
        b"e30.eyJzdWIiOiJ4In0",
        b"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln",
        b"eyJhbGci/OiJFZERTQSJ9.eyJzdWIiOiJ4In0",
        b"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOi=JFZ",
        &credential_message,
        &list_message,
    ] {
        assert!(
            matches!(
                key.sign_jws(refused),
                Err(IssueError::NotJwsSigningInput { .. })
            ),
            "{:?}",
            String::from_utf8_lossy(refused)
        );
    }
}

/// A bounded HTTP/1.0 GET on loopback with an optional `Accept`: (status, head, body).
#[cfg(feature = "serve")]
fn get(addr: std::net::SocketAddr, path: &str, accept: Option<&str>) -> (u16, String, Vec<u8>) {
    use std::io::Write as _;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{accept}\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.take(4 << 20).read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, response[split + 4..].to_vec())
}

#[cfg(feature = "serve")]
#[test]
fn revocard_serve_answers_the_views_by_content_type() {
    use revocard::net::layout::StatusView;
    use revocard::net::serve::{ServeConfig, spawn};
    let key = issuer_key(&mut rng(6));
    let registry = scenario(&key);
    let dir = tempfile::tempdir().unwrap();
    let report = registry
        .publish_to_with_standards(dir.path(), BASE, &key)
        .unwrap();
    let server = spawn(ServeConfig::new(dir.path(), "127.0.0.1:0".parse().unwrap())).unwrap();
    let addr = server.local_addr();
    let folder = layout::issuer_dir_name(&issuer_id());
    for view in StatusView::ALL {
        let path = format!("/{folder}/{}", view.path());
        let on_disk = std::fs::read(report.issuer_dir.join(view.path())).unwrap();
        for accept in [Some(view.media_type()), None, Some("*/*")] {
            let (status, head, body) = get(addr, &path, accept);
            assert_eq!(status, 200, "{path} {accept:?}");
            assert!(
                head.contains(&format!("content-type: {}", view.media_type())),
                "{path}: {head}"
            );
            assert_eq!(body, on_disk);
        }
        let other = if view == StatusView::Ietf {
            StatusView::W3cRevocation
        } else {
            StatusView::Ietf
        };
        let (status, _, _) = get(addr, &path, Some(other.media_type()));
        assert_eq!(status, 406, "{path} asked as {}", other.media_type());
    }
    // Nothing else under status/ is served.
    let (status, _, _) = get(addr, &format!("/{folder}/status/other.jwt"), None);
    assert_eq!(status, 404);
    server.shutdown();
}
