//! The kinds of resource a template holds, spelled as 2.7 spells them.

/// A template object's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Label,
    Bucket,
    CheckDeadman,
    CheckThreshold,
    NotificationEndpointHttp,
    NotificationEndpointPagerDuty,
    NotificationEndpointSlack,
    NotificationRule,
    Task,
    Variable,
    Dashboard,
    Telegraf,
}

/// What a stack records and an action names: checks and endpoints as one kind each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    Label,
    Bucket,
    Check,
    NotificationEndpoint,
    NotificationRule,
    Task,
    Variable,
    Dashboard,
    Telegraf,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Label,
        Kind::Bucket,
        Kind::CheckDeadman,
        Kind::CheckThreshold,
        Kind::NotificationEndpointHttp,
        Kind::NotificationEndpointPagerDuty,
        Kind::NotificationEndpointSlack,
        Kind::NotificationRule,
        Kind::Task,
        Kind::Variable,
        Kind::Dashboard,
        Kind::Telegraf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Label => "Label",
            Kind::Bucket => "Bucket",
            Kind::CheckDeadman => "CheckDeadman",
            Kind::CheckThreshold => "CheckThreshold",
            Kind::NotificationEndpointHttp => "NotificationEndpointHTTP",
            Kind::NotificationEndpointPagerDuty => "NotificationEndpointPagerDuty",
            Kind::NotificationEndpointSlack => "NotificationEndpointSlack",
            Kind::NotificationRule => "NotificationRule",
            Kind::Task => "Task",
            Kind::Variable => "Variable",
            Kind::Dashboard => "Dashboard",
            Kind::Telegraf => "Telegraf",
        }
    }

    /// The kind a name spells, exactly (2.7 compares kinds case-sensitively).
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn group(self) -> Group {
        match self {
            Kind::Label => Group::Label,
            Kind::Bucket => Group::Bucket,
            Kind::CheckDeadman | Kind::CheckThreshold => Group::Check,
            Kind::NotificationEndpointHttp | Kind::NotificationEndpointPagerDuty | Kind::NotificationEndpointSlack => {
                Group::NotificationEndpoint
            }
            Kind::NotificationRule => Group::NotificationRule,
            Kind::Task => Group::Task,
            Kind::Variable => Group::Variable,
            Kind::Dashboard => Group::Dashboard,
            Kind::Telegraf => Group::Telegraf,
        }
    }
}

impl Group {
    pub const ALL: [Group; 9] = [
        Group::Label,
        Group::Bucket,
        Group::Check,
        Group::NotificationEndpoint,
        Group::NotificationRule,
        Group::Task,
        Group::Variable,
        Group::Dashboard,
        Group::Telegraf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Label => "Label",
            Group::Bucket => "Bucket",
            Group::Check => "Check",
            Group::NotificationEndpoint => "NotificationEndpoint",
            Group::NotificationRule => "NotificationRule",
            Group::Task => "Task",
            Group::Variable => "Variable",
            Group::Dashboard => "Dashboard",
            Group::Telegraf => "Telegraf",
        }
    }

    /// A kind's group from its name: a group name, or a kind of one.
    pub fn parse(s: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.as_str() == s).or_else(|| Kind::parse(s).map(Kind::group))
    }

    /// The API path of the group's resources (`/api/v2/<this>/<id>`).
    pub fn api_path(self) -> &'static str {
        match self {
            Group::Label => "labels",
            Group::Bucket => "buckets",
            Group::Check => "checks",
            Group::NotificationEndpoint => "notificationEndpoints",
            Group::NotificationRule => "notificationRules",
            Group::Task => "tasks",
            Group::Variable => "variables",
            Group::Dashboard => "dashboards",
            Group::Telegraf => "telegrafs",
        }
    }

    /// The resource type of label mappings (`labelMappings[].resourceType`).
    pub fn resource_type(self) -> &'static str {
        self.api_path()
    }
}
