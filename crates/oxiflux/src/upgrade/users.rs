//! 1.x users become v1 authorizations, as `influxd upgrade` makes them: one
//! per user who holds privileges, its username the token, read and/or write
//! on the buckets made from each database it was granted, and its bcrypt
//! password hash carried over so the same password keeps signing in. Admins
//! and users without privileges are not carried (as 2.7); they are named in
//! the report, with what to do instead.

use std::collections::BTreeMap;

use meta::Id;
use meta::auth::{Action, Permission, Resource, ResourceType};
use meta::authorizations::AuthStatus;
use meta::legacy::{LegacyFilter, NewLegacyAuthorization};
use tsm::meta::{Privilege, User};

/// What became of one 1.x user.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A v1 authorization signs in with the 1.x password.
    Carried,
    /// Already carried by an earlier run.
    AlreadyThere,
    /// A v1 authorization exists but the hash could not be carried.
    NeedsPassword(String),
    Skipped(&'static str),
}

/// Makes the v1 authorizations; `buckets` gives each database's bucket IDs.
pub(crate) fn upgrade(
    store: &meta::Store,
    org: Id,
    owner: Id,
    users: &[User],
    buckets: &BTreeMap<String, Vec<Id>>,
) -> anyhow::Result<Vec<(String, Outcome)>> {
    let mut users: Vec<&User> = users.iter().collect();
    users.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    for user in users {
        let outcome = if user.admin {
            Outcome::Skipped("an admin: use the operator token, or make a v1 authorization for it")
        } else {
            let mut permissions = Vec::new();
            for p in &user.privileges {
                let actions: &[Action] = match p.privilege() {
                    Privilege::Read => &[Action::Read],
                    Privilege::Write => &[Action::Write],
                    Privilege::All => &[Action::Read, Action::Write],
                    Privilege::None => &[],
                };
                for &bucket in buckets.get(&p.database).into_iter().flatten() {
                    for &action in actions {
                        permissions
                            .push(Permission::new(action, Resource::one_in_org(ResourceType::Buckets, bucket, org)));
                    }
                }
            }
            if permissions.is_empty() {
                Outcome::Skipped("no privileges on an upgraded database")
            } else {
                carry(store, org, owner, user, permissions)?
            }
        };
        out.push((user.name.clone(), outcome));
    }
    Ok(out)
}

fn carry(
    store: &meta::Store,
    org: Id,
    owner: Id,
    user: &User,
    permissions: Vec<Permission>,
) -> anyhow::Result<Outcome> {
    let filter = LegacyFilter { token: Some(user.name.clone()), ..Default::default() };
    if !store.list_legacy_authorizations(&filter)?.is_empty() {
        return Ok(Outcome::AlreadyThere);
    }
    let auth = store.create_legacy_authorization(&NewLegacyAuthorization {
        org_id: org,
        user_id: Some(owner),
        token: user.name.clone(),
        description: format!("{}'s Legacy Token", user.name),
        status: AuthStatus::Active,
        permissions,
    })?;
    Ok(match store.set_legacy_password_hash(auth.id, &user.hash) {
        Ok(()) => Outcome::Carried,
        Err(e) => Outcome::NeedsPassword(e.to_string()),
    })
}
