//! A whole-store snapshot taken while the store is open, and the store
//! replaced by one: only a sound snapshot of this kind is taken.

use meta::Store;

#[test]
fn a_snapshot_replaces_another_store_whole() {
    let dir = tempfile::tempdir().unwrap();
    let from = Store::open(&dir.path().join("from.sqlite")).unwrap();
    from.create_org("acme", "the org", None).unwrap();
    let snap = dir.path().join("snap.sqlite");
    from.snapshot_to(&snap).unwrap();
    from.create_org("later", "", None).unwrap();
    assert_eq!(Store::check_file(&snap).unwrap(), from.schema_version().unwrap());

    let to = Store::open(&dir.path().join("to.sqlite")).unwrap();
    to.create_org("mine", "", None).unwrap();
    let before = to.generation();
    to.replace_with(&snap).unwrap();
    assert_ne!(to.generation(), before, "caches keyed on the generation see the change");
    assert_eq!(to.find_org_by_name("acme").unwrap().description, "the org");
    assert!(to.find_org_by_name("mine").is_err());
    assert!(to.find_org_by_name("later").is_err(), "the snapshot is the instant it was taken");
    to.integrity_check().unwrap();
}

#[test]
fn a_file_that_is_not_a_sound_snapshot_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let to = Store::open(&dir.path().join("to.sqlite")).unwrap();
    to.create_org("mine", "", None).unwrap();
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"no database here").unwrap();
    assert!(matches!(to.replace_with(&junk), Err(meta::Error::Invalid(_))));

    let full = dir.path().join("full.sqlite");
    to.snapshot_to(&full).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let half = dir.path().join("half.sqlite");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let e = to.replace_with(&half).unwrap_err();
    assert!(matches!(e, meta::Error::Invalid(_)), "{e}");

    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE t (x); PRAGMA user_version = 1;").unwrap();
    let e = to.replace_with(&other).unwrap_err();
    assert!(e.to_string().contains("no oxiflux metadata"), "{e}");
    assert!(to.find_org_by_name("mine").is_ok());
}

#[test]
fn a_shard_keeps_its_number_and_goes_with_its_bucket() {
    let store = Store::open_in_memory().unwrap();
    let org = store.create_org("acme", "", None).unwrap();
    let bucket = store.create_bucket(&meta::buckets::NewBucket::user(org.id, "b", 0)).unwrap();
    let a = store.shard(bucket.id, 0, 7).unwrap();
    let b = store.shard(bucket.id, 7, 7).unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(store.shard(bucket.id, 0, 99).unwrap(), a, "numbered once, as first seen");
    assert_eq!(store.find_shard(a.id).unwrap(), Some(a.clone()));
    assert_eq!(store.find_shard(u64::MAX).unwrap(), None);
    store.delete_bucket(bucket.id).unwrap();
    assert_eq!(store.find_shard(a.id).unwrap(), None);
}

#[test]
fn resealing_moves_every_secret_to_another_key_or_none() {
    let store = Store::open_in_memory().unwrap();
    let org = store.create_org("acme", "", None).unwrap();
    let (a, b) = (
        meta::secrets::SecretKey::from_bytes(&[1; 32]).unwrap(),
        meta::secrets::SecretKey::from_bytes(&[2; 32]).unwrap(),
    );
    let values = [("hook".to_owned(), "https://example".to_owned())].into_iter().collect();
    store.put_secrets(org.id, &a, &values).unwrap();
    assert!(store.reseal(&b, &a).is_err(), "not sealed under b: nothing changes");
    assert_eq!(store.secret(org.id, &a, "hook").unwrap().as_deref(), Some("https://example"));
    assert_eq!(store.reseal(&a, &b).unwrap(), 1);
    assert_eq!(store.secret(org.id, &b, "hook").unwrap().as_deref(), Some("https://example"));
    assert!(store.secret(org.id, &a, "hook").is_err());
    assert!(meta::secrets::SecretKey::from_bytes(&[0; 5]).is_err());
}
