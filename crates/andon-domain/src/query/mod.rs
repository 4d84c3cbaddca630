//! The query strings of the API's listings and searches, as typed inputs: the HTTP layer
//! parses them, the application takes them. One module per capability.

pub mod access;
pub mod changes;
pub mod evidence;
pub mod gates;
pub mod ledger;
pub mod metrics;
pub mod telemetry;
pub mod vulns;

/// What orders the change and deployment listings; ties go by ledger index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    /// When it was recorded (ledger order): the default, newest first.
    Recorded,
    /// When it happened (deployments only), newest first by default.
    Deployed,
    /// The application, A to Z by default.
    Application,
    /// The environment, A to Z by default.
    Environment,
    /// A deployment's state (deployments only).
    State,
    /// A change's class (changes only).
    Class,
    /// A change's status (changes only).
    Status,
}

impl SortKey {
    /// Every key, as the query names it.
    pub const ALL: [SortKey; 7] = [
        SortKey::Recorded,
        SortKey::Deployed,
        SortKey::Application,
        SortKey::Environment,
        SortKey::State,
        SortKey::Class,
        SortKey::Status,
    ];

    /// The key as the query names it.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Recorded => "recorded",
            SortKey::Deployed => "deployed",
            SortKey::Application => "application",
            SortKey::Environment => "environment",
            SortKey::State => "state",
            SortKey::Class => "class",
            SortKey::Status => "status",
        }
    }

    /// The key named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether it sorts newest or highest first unless told otherwise (times do).
    pub fn descending_by_default(self) -> bool {
        matches!(self, SortKey::Recorded | SortKey::Deployed)
    }

    /// Whether the listing runs descending: as `order` says, else this key's default.
    pub fn descending(self, order: Option<SortOrder>) -> bool {
        match order {
            Some(SortOrder::Desc) => true,
            Some(SortOrder::Asc) => false,
            None => self.descending_by_default(),
        }
    }
}

impl SortOrder {
    /// The direction named `s` (`asc`, `desc`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "asc" => Some(SortOrder::Asc),
            "desc" => Some(SortOrder::Desc),
            _ => None,
        }
    }
}

/// The direction of a sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest, earliest or A first.
    Asc,
    /// Largest, latest or Z first.
    Desc,
}

/// How a listing is answered: JSON (the default) or CSV, for a spreadsheet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON, as every other answer.
    #[default]
    Json,
    /// CSV (RFC 4180) with a header line: one row per item, nested values as JSON.
    Csv,
}
