//! The JSON shapes of tenancy resources as InfluxDB 2.7 answers them.

use serde::Serialize;
use serde_json::{Map, Value, json};

use meta::authorizations::Authorization;
use meta::buckets::Bucket;
use meta::labels::Label;
use meta::orgs::Org;
use meta::users::User;

#[derive(Debug, Serialize)]
pub(crate) struct OrgView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    #[serde(rename = "createdAt")]
    pub(crate) created_at: String,
    #[serde(rename = "updatedAt")]
    pub(crate) updated_at: String,
    pub(crate) links: Value,
}

pub(crate) fn org(o: &Org) -> OrgView {
    let id = o.id;
    let name = crate::paging::urlencode(&o.name);
    OrgView {
        id: id.to_string(),
        name: o.name.clone(),
        description: o.description.clone(),
        created_at: o.created_at.clone(),
        updated_at: o.updated_at.clone(),
        links: json!({
            "self": format!("/api/v2/orgs/{id}"),
            "members": format!("/api/v2/orgs/{id}/members"),
            "owners": format!("/api/v2/orgs/{id}/owners"),
            "labels": format!("/api/v2/orgs/{id}/labels"),
            "secrets": format!("/api/v2/orgs/{id}/secrets"),
            "buckets": format!("/api/v2/buckets?org={name}"),
            "tasks": format!("/api/v2/tasks?org={name}"),
            "dashboards": format!("/api/v2/dashboards?org={name}"),
        }),
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct UserView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) status: &'static str,
    pub(crate) links: Value,
}

pub(crate) fn user(u: &User) -> UserView {
    UserView {
        id: u.id.to_string(),
        name: u.name.clone(),
        status: u.status.as_str(),
        links: json!({ "self": format!("/api/v2/users/{}", u.id) }),
    }
}

/// A member or owner of an org or bucket.
pub(crate) fn member(u: &User, role: &str) -> Value {
    let mut v = serde_json::to_value(user(u)).unwrap_or_default();
    v["role"] = json!(role);
    v
}

#[derive(Debug, Serialize)]
pub(crate) struct RetentionRuleView {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(rename = "everySeconds")]
    pub(crate) every_seconds: i64,
    #[serde(rename = "shardGroupDurationSeconds")]
    pub(crate) shard_group_duration_seconds: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct BucketView {
    pub(crate) id: String,
    #[serde(rename = "orgID")]
    pub(crate) org_id: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) description: String,
    pub(crate) name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) rp: String,
    #[serde(rename = "schemaType")]
    pub(crate) schema_type: String,
    #[serde(rename = "retentionRules")]
    pub(crate) retention_rules: Vec<RetentionRuleView>,
    #[serde(rename = "createdAt")]
    pub(crate) created_at: String,
    #[serde(rename = "updatedAt")]
    pub(crate) updated_at: String,
    pub(crate) links: Value,
    pub(crate) labels: Vec<LabelView>,
}

pub(crate) fn bucket(b: &Bucket, labels: &[Label]) -> BucketView {
    let (id, org) = (b.id, b.org_id);
    BucketView {
        id: id.to_string(),
        org_id: org.to_string(),
        kind: b.kind.as_str(),
        description: b.description.clone(),
        name: b.name.clone(),
        rp: b.rp.clone(),
        schema_type: b.schema_type.clone(),
        // Like InfluxDB: infinite retention still shows its rule, with everySeconds 0.
        retention_rules: vec![RetentionRuleView {
            kind: "expire",
            every_seconds: b.retention_seconds,
            shard_group_duration_seconds: b.shard_group_seconds,
        }],
        created_at: b.created_at.clone(),
        updated_at: b.updated_at.clone(),
        links: json!({
            "self": format!("/api/v2/buckets/{id}"),
            "org": format!("/api/v2/orgs/{org}"),
            "members": format!("/api/v2/buckets/{id}/members"),
            "owners": format!("/api/v2/buckets/{id}/owners"),
            "labels": format!("/api/v2/buckets/{id}/labels"),
            "write": format!("/api/v2/write?org={org}&bucket={id}"),
        }),
        labels: labels.iter().map(label).collect(),
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct LabelView {
    pub(crate) id: String,
    #[serde(rename = "orgID")]
    pub(crate) org_id: String,
    pub(crate) name: String,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub(crate) properties: Map<String, Value>,
}

pub(crate) fn label(l: &Label) -> LabelView {
    LabelView {
        id: l.id.to_string(),
        org_id: l.org_id.to_string(),
        name: l.name.clone(),
        properties: l.properties.iter().map(|(k, v)| (k.clone(), json!(v))).collect(),
    }
}

/// Names that an authorization's answer spells out beside its IDs.
pub(crate) trait NameLookup {
    fn org_name(&self, id: meta::Id) -> Option<String>;
    fn user_name(&self, id: meta::Id) -> Option<String>;
    fn resource_name(&self, kind: meta::auth::ResourceType, id: meta::Id) -> Option<String>;
}

impl NameLookup for meta::Store {
    fn org_name(&self, id: meta::Id) -> Option<String> {
        self.find_org_by_id(id).ok().map(|o| o.name)
    }
    fn user_name(&self, id: meta::Id) -> Option<String> {
        self.find_user_by_id(id).ok().map(|u| u.name)
    }
    fn resource_name(&self, kind: meta::auth::ResourceType, id: meta::Id) -> Option<String> {
        use meta::auth::ResourceType as T;
        match kind {
            T::Buckets => self.find_bucket_by_id(id).ok().map(|b| b.name),
            T::Orgs => self.org_name(id),
            T::Users => self.user_name(id),
            T::Labels => self.find_label_by_id(id).ok().map(|l| l.name),
            _ => None,
        }
    }
}

/// An authorization; its token shows only when the value still carries it (on creation).
pub(crate) fn authorization(a: &Authorization, names: &dyn NameLookup) -> Value {
    let permissions: Vec<Value> = a
        .permissions
        .iter()
        .map(|p| {
            let mut r = json!({ "type": p.resource.kind.as_str() });
            if let Some(id) = p.resource.id {
                r["id"] = json!(id.to_string());
                if let Some(n) = names.resource_name(p.resource.kind, id) {
                    r["name"] = json!(n);
                }
            }
            if let Some(org) = p.resource.org_id {
                r["orgID"] = json!(org.to_string());
                if let Some(n) = names.org_name(org) {
                    r["org"] = json!(n);
                }
            }
            json!({ "action": p.action.to_string(), "resource": r })
        })
        .collect();
    let mut v = json!({
        "id": a.id.to_string(),
        "status": a.status.as_str(),
        "description": a.description,
        "orgID": a.org_id.to_string(),
        "org": names.org_name(a.org_id).unwrap_or_default(),
        "permissions": permissions,
        "createdAt": a.created_at,
        "updatedAt": a.updated_at,
        "links": { "self": format!("/api/v2/authorizations/{}", a.id) },
    });
    if let Some(t) = &a.token {
        v["token"] = json!(t);
    }
    if let Some(uid) = a.user_id {
        v["userID"] = json!(uid.to_string());
        v["user"] = json!(names.user_name(uid).unwrap_or_default());
        v["links"]["user"] = json!(format!("/api/v2/users/{uid}"));
    }
    v
}
