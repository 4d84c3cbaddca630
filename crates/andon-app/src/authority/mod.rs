//! Who may act, as the ledger says: identities, their roles and groups, tokens, signing keys,
//! enrollment codes, revocations, disabled identities and how many keys must sign.
//!
//! Authorization reads only this state, and this state is built only from ledger entries
//! ([`Authority::apply`], the same function at start, after every batch and for entries
//! other servers appended). A row inserted into the database's identity, token or key tables
//! without its entry grants nothing: the tables are a view for people, not a source of
//! authority.

mod load;
mod state;

pub use load::{AUTHORITY_KINDS, absorb, load};
pub use state::{
    Authority, Disabled, EnrollmentOrigin, EnrollmentState, IdentityState, IssuerState, KeyState,
    MAX_THRESHOLD, PersonRuleState, RuleState, SigningPolicy, SsoLink, TokenState,
};
