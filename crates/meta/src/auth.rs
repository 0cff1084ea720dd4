//! The permission vocabulary: actions on resources, and the rule that decides
//! whether a granted permission covers a requested one (InfluxDB 2.7's rule).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Id;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Read,
    Write,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Read => "read",
            Action::Write => "write",
        })
    }
}

macro_rules! resource_types {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// Every resource type a permission can name, as the API spells them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ResourceType {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl ResourceType {
            pub const ALL: &'static [ResourceType] = &[$(ResourceType::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(ResourceType::$variant => $name,)* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($name => Some(ResourceType::$variant),)* _ => None }
            }
        }
    };
}

resource_types! {
    Authorizations => "authorizations",
    Buckets => "buckets",
    Dashboards => "dashboards",
    Orgs => "orgs",
    Sources => "sources",
    Tasks => "tasks",
    Telegrafs => "telegrafs",
    Users => "users",
    Variables => "variables",
    Scrapers => "scrapers",
    Secrets => "secrets",
    Labels => "labels",
    Views => "views",
    Documents => "documents",
    NotificationRules => "notificationRules",
    NotificationEndpoints => "notificationEndpoints",
    Checks => "checks",
    Dbrp => "dbrp",
    Notebooks => "notebooks",
    Annotations => "annotations",
    Remotes => "remotes",
    Replications => "replications",
    Instance => "instance",
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a permission applies to: all resources of a type, those of one org, or one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: ResourceType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Id>,
    #[serde(default, rename = "orgID", skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
}

impl Resource {
    pub fn all(kind: ResourceType) -> Self {
        Self { kind, id: None, org_id: None }
    }
    pub fn in_org(kind: ResourceType, org_id: Id) -> Self {
        Self { kind, id: None, org_id: Some(org_id) }
    }
    pub fn one(kind: ResourceType, id: Id) -> Self {
        Self { kind, id: Some(id), org_id: None }
    }
    pub fn one_in_org(kind: ResourceType, id: Id, org_id: Id) -> Self {
        Self { kind, id: Some(id), org_id: Some(org_id) }
    }
}

/// Written the way InfluxDB's error messages print it, e.g. `orgs/<org>/buckets/<id>`.
impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.org_id, self.id) {
            (Some(org), Some(id)) => write!(f, "orgs/{org}/{}/{id}", self.kind),
            (Some(org), None) => write!(f, "orgs/{org}/{}", self.kind),
            (None, Some(id)) => write!(f, "{}/{id}", self.kind),
            (None, None) => write!(f, "{}", self.kind),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub action: Action,
    pub resource: Resource,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.action, self.resource)
    }
}

impl Permission {
    pub fn new(action: Action, resource: Resource) -> Self {
        Self { action, resource }
    }

    /// Whether this granted permission covers the `requested` one.
    ///
    /// Same action and type (or a grant on `instance`); then a grant with no
    /// org and no ID covers the whole type, a grant for an org covers every
    /// resource of the type in that org, and a grant for an ID covers that ID.
    pub fn covers(&self, requested: &Permission) -> bool {
        if self.action != requested.action {
            return false;
        }
        let (g, r) = (&self.resource, &requested.resource);
        if g.kind == ResourceType::Instance {
            return true;
        }
        if g.kind != r.kind {
            return false;
        }
        match (g.org_id, g.id) {
            (None, None) => true,
            (Some(org), None) => r.org_id == Some(org),
            (_, Some(id)) => r.id == Some(id),
        }
    }
}

/// Read and write on every resource type but `instance`: what an operator token holds.
pub fn operator_permissions() -> Vec<Permission> {
    ResourceType::ALL
        .iter()
        .filter(|t| **t != ResourceType::Instance)
        .flat_map(|t| [Action::Read, Action::Write].map(|a| Permission::new(a, Resource::all(*t))))
        .collect()
}

/// Read and write on everything in one org: what an all-access token and an org owner hold.
pub fn org_owner_permissions(org_id: Id) -> Vec<Permission> {
    ResourceType::ALL
        .iter()
        .filter(|t| **t != ResourceType::Instance)
        .flat_map(|t| {
            [Action::Read, Action::Write].map(|a| {
                let resource =
                    if *t == ResourceType::Orgs { Resource::one(*t, org_id) } else { Resource::in_org(*t, org_id) };
                Permission::new(a, resource)
            })
        })
        .collect()
}

/// Read on everything in one org: what an org member holds.
pub fn org_member_permissions(org_id: Id) -> Vec<Permission> {
    ResourceType::ALL
        .iter()
        .filter(|t| **t != ResourceType::Instance)
        .map(|t| {
            let resource =
                if *t == ResourceType::Orgs { Resource::one(*t, org_id) } else { Resource::in_org(*t, org_id) };
            Permission::new(Action::Read, resource)
        })
        .collect()
}

/// Read and write on one's own user.
pub fn me_permissions(user_id: Id) -> Vec<Permission> {
    [Action::Read, Action::Write].map(|a| Permission::new(a, Resource::one(ResourceType::Users, user_id))).to_vec()
}

/// Whether a set of permissions is the operator's: read and write on every type, unscoped.
pub fn is_operator(perms: &[Permission]) -> bool {
    operator_permissions().iter().all(|p| perms.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(action: Action, resource: Resource) -> Permission {
        Permission::new(action, resource)
    }

    #[test]
    fn grant_scopes_cover_as_influxdb_does() {
        let (org, other, bucket) = (Id::generate(), Id::generate(), Id::generate());
        let want = p(Action::Read, Resource::one_in_org(ResourceType::Buckets, bucket, org));
        assert!(p(Action::Read, Resource::all(ResourceType::Buckets)).covers(&want));
        assert!(p(Action::Read, Resource::in_org(ResourceType::Buckets, org)).covers(&want));
        assert!(!p(Action::Read, Resource::in_org(ResourceType::Buckets, other)).covers(&want));
        assert!(p(Action::Read, Resource::one(ResourceType::Buckets, bucket)).covers(&want));
        assert!(!p(Action::Write, Resource::all(ResourceType::Buckets)).covers(&want));
        assert!(!p(Action::Read, Resource::all(ResourceType::Orgs)).covers(&want));
        assert!(p(Action::Read, Resource::all(ResourceType::Instance)).covers(&want));
    }

    #[test]
    fn permission_prints_like_influxdb() {
        let org: Id = "020f755c3c083000".parse().unwrap();
        let b: Id = "0000000000000002".parse().unwrap();
        let perm = p(Action::Write, Resource::one_in_org(ResourceType::Buckets, b, org));
        assert_eq!(perm.to_string(), "write:orgs/020f755c3c083000/buckets/0000000000000002");
    }

    #[test]
    fn operator_set_is_recognised() {
        assert!(is_operator(&operator_permissions()));
        assert!(!is_operator(&org_owner_permissions(Id::generate())));
    }
}
