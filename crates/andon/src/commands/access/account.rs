//! `andon access account`: the register of persistent production accounts and their uses.

use andon_domain::api::{AccountInput, AccountUseInput};

use crate::cli::output::{Listing, Output, emit};

/// `andon access account`.
#[derive(clap::Subcommand, Debug)]
pub enum AccountCmd {
    /// Register a persistent account and its owners (admin).
    Add {
        /// Its name.
        name: String,
        /// Environment.
        #[arg(long = "env")]
        environment: String,
        /// The application it reaches.
        #[arg(long)]
        app: Option<String>,
        /// A person who can use it (repeatable).
        #[arg(long = "owner", required = true)]
        owners: Vec<String>,
    },
    /// Record a use of it.
    Use {
        /// Its name.
        name: String,
        /// When (RFC 3339; default: now).
        #[arg(long)]
        at: Option<String>,
        /// Who used it.
        #[arg(long)]
        actor: Option<String>,
        /// Who reports it.
        #[arg(long)]
        source: Option<String>,
        /// Record it although --at is older than the server's late window (admins only):
        /// why it arrives late. It is marked late, with the reason.
        #[arg(long, value_name = "REASON")]
        late: Option<String>,
    },
    /// Retire it (admin).
    Retire {
        /// Its name.
        name: String,
    },
    /// The register.
    List,
}

/// Runs an access account verb with the client `c`.
pub fn run(c: &andon_client::Client, cmd: &AccountCmd, out: Output) -> anyhow::Result<()> {
    let show = |a: &andon_domain::access::StandingAccount| {
        listing(std::slice::from_ref(a)).print("");
    };
    match cmd {
        AccountCmd::Add {
            name,
            environment,
            app,
            owners,
        } => {
            let a = c.register_account(&AccountInput {
                name: name.clone(),
                environment: environment.clone(),
                application: app.clone(),
                owners: owners.clone(),
            })?;
            emit(out, &a, show)?;
        }
        AccountCmd::Use {
            name,
            at,
            actor,
            source,
            late,
        } => {
            let a = c.account_used(
                name,
                &AccountUseInput {
                    at: at.clone(),
                    actor: actor.clone(),
                    source: source.clone(),
                    late: crate::commands::change::late_flag(late),
                },
            )?;
            emit(out, &a, show)?;
        }
        AccountCmd::Retire { name } => {
            let a = c.retire_account(name)?;
            emit(out, &a, show)?;
        }
        AccountCmd::List => {
            let list = c.accounts()?;
            emit(out, &list, |l| listing(l).print("no accounts registered"))?;
        }
    }
    Ok(())
}

/// The register as a listing.
fn listing(accounts: &[andon_domain::access::StandingAccount]) -> Listing {
    let mut l = Listing::new(
        &["name", "env", "app", "owners", "uses", "state"],
        &["uses"],
    );
    for a in accounts {
        l.row([
            a.name.clone(),
            a.environment.clone(),
            a.application.clone().unwrap_or_else(|| "-".into()),
            a.owners.join(", "),
            a.uses.to_string(),
            if a.retired_at.is_some() {
                "retired"
            } else {
                "active"
            }
            .to_owned(),
        ]);
    }
    l
}
