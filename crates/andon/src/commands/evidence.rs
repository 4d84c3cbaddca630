//! `andon evidence`: search and read the evidence the ledger holds.

use std::process::ExitCode;

use andon_client::EvidenceQuery;
use clap::Subcommand;

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit};

/// `andon evidence`.
#[derive(Subcommand, Debug)]
pub enum EvidenceCmd {
    /// List evidence, newest first.
    List {
        /// Application.
        #[arg(long)]
        app: Option<String>,
        /// Subject digest: sha256:<hex>, sha512:<hex>, sha384:<hex> or gitCommit:<hex>.
        #[arg(long)]
        subject: Option<String>,
        /// Predicate type.
        #[arg(long)]
        predicate_type: Option<String>,
        /// Pipeline run.
        #[arg(long)]
        run: Option<String>,
        /// Signing identity.
        #[arg(long)]
        signer: Option<String>,
        /// Accepted at or after (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Accepted before (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Page cursor (from the previous page).
        #[arg(long)]
        before: Option<u64>,
        /// Page size.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one evidence record with its statement.
    Show {
        /// Evidence id (sha256 of the envelope).
        id: String,
    },
}

/// Runs an evidence verb.
pub fn run(ctx: &Context, cmd: &EvidenceCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        EvidenceCmd::List {
            app,
            subject,
            predicate_type,
            run,
            signer,
            since,
            until,
            before,
            limit,
        } => {
            let page = client(ctx).list_evidence(&EvidenceQuery {
                app: app.clone(),
                subject: subject.clone(),
                predicate_type: predicate_type.clone(),
                run: run.clone(),
                signer: signer.clone(),
                since: since.clone(),
                until: until.clone(),
                before: *before,
                limit: Some(*limit),
            })?;
            emit(out, &page, |p| {
                let mut t = Listing::new(
                    &[
                        "entry",
                        "accepted at",
                        "application",
                        "predicate type",
                        "subjects",
                        "id",
                    ],
                    &["entry"],
                );
                for e in &p.evidence {
                    t.row([
                        e.ledger_index.to_string(),
                        e.accepted_at.clone(),
                        e.application.clone(),
                        e.predicate_type.clone(),
                        e.subjects.join(", "),
                        e.id.clone(),
                    ]);
                }
                t.print("no evidence");
                if let Some(b) = p.next_before {
                    println!("(more: --before {b})");
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCmd::Show { id } => {
            let e = client(ctx).show_evidence(id)?;
            emit(out, &e, |e| {
                println!("evidence     {}", e.id);
                println!("ledger index {}", e.ledger_index);
                println!("application  {}", e.application);
                println!("run          {}", e.run.as_deref().unwrap_or("-"));
                println!("predicate    {}", e.predicate_type);
                match &e.keyless {
                    Some(k) => {
                        println!("signer       {} (keyless)", k.identity);
                        println!("issuer       {}", k.issuer);
                        println!(
                            "verified     under trusted root {}; Rekor log index {}, logged {}",
                            k.trusted_root,
                            k.log_index.map_or("-".into(), |i| i.to_string()),
                            k.integrated_time.as_deref().unwrap_or("-")
                        );
                        for (name, value) in &k.claims {
                            println!("claim        {name} = {value}");
                        }
                    }
                    None => println!("signer       {} (key {})", e.signer, e.keyid),
                }
                for c in &e.cosigners {
                    println!("co-signer    key {c}");
                }
                for u in &e.unverified_signatures {
                    println!(
                        "unverified   signature {}",
                        if u.is_empty() { "(no keyid)" } else { u }
                    );
                }
                println!("accepted     {}", e.accepted_at);
                for s in &e.subjects {
                    println!("subject      {s}");
                }
                if let Some(summary) = &e.summary {
                    println!("summary (derived by Andon from the report):");
                    println!(
                        "{}",
                        serde_json::to_string_pretty(summary).unwrap_or_default()
                    );
                }
                if let Some(st) = &e.statement {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&st["predicate"]).unwrap_or_default()
                    );
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
