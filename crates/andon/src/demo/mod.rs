//! `andon demo`: a small, realistic history driven through the real API, so a newcomer sees
//! real data at once. Each capability adds itself here.

pub mod access;
pub mod admission;
pub mod changes;
pub mod drills;
pub mod federation;
pub mod gates;
pub mod history;
pub mod identities;
pub mod keyless;
pub mod late;
pub mod scans;
pub mod signing;
pub mod telemetry;
pub mod vulns;

use std::process::ExitCode;

use andon_client::{Client, EvidenceQuery};
use andon_domain::{JUNIT_PREDICATE_V1, ReportPredicate, Sha256Digest, Statement};
use andon_ledger::NoteVerifier;

use crate::cli::context::Context;
use crate::demo::gates::{Gated, Role, gates};
use crate::fixtures::build::{junit_report, provenance};
use crate::fixtures::github_history::{Hook, PullRequest};

/// Flags of `andon demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Builds per application.
    #[arg(long, default_value_t = 18)]
    pub builds: u32,
    /// Start a throwaway server in this process (fresh SQLite) instead of --server/--token.
    #[arg(long)]
    pub embedded: bool,
    /// The server's GitHub webhook secret, to replay a pull-request history as GitHub would
    /// send it (by default the demo asks the server: GET /v1/admin/webhooks).
    #[arg(long, env = "ANDON_GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub github_webhook_secret: Option<String>,
    /// Days of delivery history the three history teams get (a quarter by default).
    #[arg(long, default_value_t = 91)]
    pub history_days: i64,
    /// Where to keep the audit package the demo exports, for `andon verify --package`
    /// (default: `andon-demo-<application>.tar` in the current directory).
    #[arg(long)]
    pub package_out: Option<std::path::PathBuf>,
}

/// The pull-request history of one build, as its repository's webhook delivers it. Most
/// changes are reviewed by someone else on the head that is merged; every sixth gets a push
/// after the approval; `self_approved` is approved only by its author.
fn pull_request_history(
    hook: &mut Hook<'_>,
    ticket: &str,
    build: u32,
    merge_commit: &str,
    self_approved: bool,
) -> anyhow::Result<()> {
    let (author, reviewer) = if build.is_multiple_of(2) {
        ("alice", "bob")
    } else {
        ("dave", "erin")
    };
    let head = |n: &str| {
        hex::encode(
            Sha256Digest::of(format!("{}{build}{n}", hook.repository).as_bytes()).as_bytes(),
        )[..40]
            .to_owned()
    };
    let (h1, h2) = (head("h1"), head("h2"));
    let number = 100 + u64::from(build);
    let branch = format!("feature/{ticket}");
    let title = format!(
        "{ticket} {}",
        [
            "refund limits",
            "currency rounding",
            "retry budget",
            "audit log fields"
        ][build as usize % 4]
    );
    hook.push(&branch, &[(&h1, &format!("{ticket} first cut"), author)])?;
    let pr = PullRequest {
        number,
        title: &title,
        author,
        branch: &branch,
    };
    hook.pull_request("opened", &pr, &h1, None)?;
    let merged_head = if self_approved {
        hook.review(number, author, "approved", &h1)?;
        h1
    } else if build.is_multiple_of(6) {
        hook.review(number, reviewer, "approved", &h1)?;
        hook.push(&branch, &[(&h2, "fix review nit", author)])?;
        hook.pull_request("synchronize", &pr, &h2, None)?;
        h2
    } else {
        if build % 4 == 1 {
            hook.review(number, reviewer, "changes_requested", &h1)?;
        }
        hook.review(number, reviewer, "approved", &h1)?;
        h1
    };
    let merger = if self_approved { author } else { reviewer };
    hook.pull_request("closed", &pr, &merged_head, Some((merge_commit, merger)))?;
    let merge_message = format!("Merge pull request #{number} from example/{branch}\n\n{title}");
    hook.push("main", &[(merge_commit, &merge_message, merger)])?;
    hook.deployment_status(merge_commit, "staging", "success")
}

/// Runs `andon demo`.
pub fn run(ctx: &Context, d: &DemoArgs) -> anyhow::Result<ExitCode> {
    let server = d
        .embedded
        .then(|| crate::fixtures::embedded::embedded("temp"))
        .transpose()?;
    let admin = match &server {
        Some(s) => Client::new(&s.url, Some(s.admin_token.clone())),
        None => Client::new(&ctx.server, ctx.token.clone()),
    };
    let who = admin.whoami()?;
    anyhow::ensure!(
        who.role == "admin",
        "the demo needs an admin token, {} is {}",
        who.name,
        who.role
    );
    let mut rnd = [0u8; 3];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    let suffix = hex::encode(rnd);
    println!("Andon demo against {}", admin.base());
    // The server it drives says its webhook secret (admins may ask); one given on the
    // command line wins, for a server that keeps none.
    let secret = match server
        .as_ref()
        .map(|s| s.github_webhook_secret.clone())
        .or_else(|| d.github_webhook_secret.clone())
    {
        Some(s) => Some(s),
        None => admin.webhooks()?["github"]["secret"]
            .as_str()
            .map(str::to_owned),
    };
    anyhow::ensure!(
        secret.is_some(),
        "the server has no GitHub webhook secret to replay the pull-request history with; pass --github-webhook-secret"
    );
    let hooks_client = Client::new(admin.base(), None);
    let mut traced: Vec<(String, Sha256Digest, String)> = Vec::new();
    let mut gated: Option<Gated> = None;
    let mut storefront: Option<(String, Client, andon_domain::PrivateKey)> = None;
    let apps = [("payments", "team-payments"), ("storefront", "team-web")];
    let mut sent = 0;
    for (app, team) in apps {
        let name = format!("{app}-{suffix}");
        // One pipeline signs as cosign does, with an ECDSA P-256 key; the other with Ed25519.
        let algorithm = if app == "storefront" {
            andon_domain::KeyAlgorithm::EcdsaP256
        } else {
            andon_domain::KeyAlgorithm::Ed25519
        };
        let (ci, key) =
            crate::fixtures::application::pipeline_with(&admin, &name, team, algorithm)?;
        println!(
            "  application {name} (owner {team}) with pipeline identity ci-{name} and its {} signing key{}",
            key.algorithm(),
            if app == "storefront" {
                " (the kind cosign makes)"
            } else {
                ""
            }
        );
        if app == "storefront" {
            storefront = Some((name.clone(), ci.clone(), key.clone()));
        }
        let repo = format!("https://github.com/example/{app}");
        let mut hook = secret.as_deref().map(|secret| Hook {
            client: &hooks_client,
            secret,
            repository: format!("example/{app}-{suffix}"),
            sent: 0,
            run_id: format!("{app}-{suffix}"),
        });
        let prefix = if app == "payments" { "PAY" } else { "WEB" };
        for build in 1..=d.builds {
            let run = format!("{}", 9_000_000 + build * 17);
            let commit =
                hex::encode(Sha256Digest::of(format!("{app}{build}").as_bytes()).as_bytes())[..40]
                    .to_owned();
            let image = format!("registry.example.com/{app}");
            let digest = Sha256Digest::of(format!("{app}-image-{build}").as_bytes());
            if let Some(hook) = hook.as_mut() {
                let ticket = format!("{prefix}-{}", 40 + build);
                let self_approved = build + 1 == d.builds;
                pull_request_history(hook, &ticket, build, &commit, self_approved)?;
                traced.push((name.clone(), digest, commit.clone()));
                // Three payments releases carry a whole run's evidence, to be gated.
                if app == "payments" && d.builds >= 4 && build + 3 >= d.builds && build < d.builds {
                    let subject = (image.clone(), digest);
                    let vulnerable = build + 3 == d.builds;
                    let repository = format!("example/{app}-{suffix}");
                    for (kind, st) in crate::fixtures::sample_release::evidence(
                        &subject,
                        &repository,
                        &commit,
                        &run,
                        vulnerable,
                    )? {
                        ci.submit_evidence(&name, Some(&run), Some(kind), &st.sign(&key))?;
                    }
                    let role = match d.builds - build {
                        3 => Role::Vulnerable,
                        2 => Role::Clean,
                        _ => Role::SelfApproved,
                    };
                    gated
                        .get_or_insert_with(|| Gated {
                            app: name.clone(),
                            ci: ci.clone(),
                            key: key.clone(),
                            repo: (repo.clone(), repository.clone()),
                            releases: Vec::new(),
                        })
                        .releases
                        .push((role, format!("{image}@{digest}"), commit.clone()));
                }
            }
            let statements = [
                Statement::new(
                    vec![(image.clone(), digest)],
                    "https://slsa.dev/provenance/v1".into(),
                    provenance(&repo, &commit, &run),
                ),
                Statement::new(
                    vec![(image.clone(), digest)],
                    JUNIT_PREDICATE_V1.into(),
                    serde_json::to_value(ReportPredicate::new(
                        "application/xml",
                        Some("target/nextest/ci/junit.xml".into()),
                        junit_report(app, build).as_bytes(),
                    ))?,
                ),
            ];
            // A run's attestations go together, as a CI job sends them.
            let envelopes: Vec<Vec<u8>> = statements.iter().map(|st| st.sign(&key)).collect();
            // The JUnit report is typed: Andon parses it and keeps the summary.
            sent += ci
                .submit_evidence_batch(&name, Some(&run), &envelopes)?
                .len();
        }
        // A pipeline retry re-sends its last envelope: Andon answers with the same entry.
        let page = admin.list_evidence(&EvidenceQuery {
            app: Some(name.clone()),
            limit: Some(1),
            ..Default::default()
        })?;
        println!(
            "    {} builds, {} signed attestations (SLSA provenance + JUnit); newest: #{} {}",
            d.builds,
            d.builds * 2,
            page.evidence[0].ledger_index,
            page.evidence[0].predicate_type
        );
        let junit = admin.list_evidence(&EvidenceQuery {
            app: Some(name.clone()),
            predicate_type: Some(JUNIT_PREDICATE_V1.into()),
            limit: Some(1000),
            ..Default::default()
        })?;
        let red = junit
            .evidence
            .iter()
            .filter(|e| {
                e.summary
                    .as_ref()
                    .is_some_and(|s| s["failures"].as_u64() > Some(0))
            })
            .count();
        println!(
            "    JUnit summaries derived by Andon from the reports: {red} of {} builds had failing tests",
            junit.evidence.len()
        );
    }
    if !traced.is_empty() {
        let (mut exact, mut after, mut unreviewed) = (0, 0, 0);
        let mut example = None;
        for (app, digest, commit) in &traced {
            let t = admin.trace_commit(commit)?;
            let Some(pr) = t.commits.first().and_then(|c| c.pull_requests.first()) else {
                continue;
            };
            let r = &pr.review;
            if r.independent_approvers.is_empty() {
                unreviewed += 1;
                example.get_or_insert((app.clone(), *digest));
            } else if r.approved_exact_head {
                exact += 1;
            } else {
                after += 1;
            }
        }
        println!(
            "  GitHub webhooks replayed: {} pull requests; {exact} independently approved on the merged head, {after} with commits pushed after the approval, {unreviewed} merged without an independent review",
            traced.len()
        );
        if let Some((app, digest)) = example {
            println!(
                "\n$ andon trace {digest}    # a {app} artifact whose change was approved only by its author"
            );
            crate::commands::trace::print(&admin.trace_artifact(&digest.to_string())?);
        }
    }
    if let Some(release) = gated {
        gates(&admin, &release, &suffix)?;
        crate::demo::changes::run(&admin, &release, &suffix)?;
        crate::demo::late::run(&admin, &release)?;
        crate::demo::scans::run(&admin, &release, &suffix)?;
        let drill = crate::demo::drills::run(&admin, &release, &suffix)?;
        crate::demo::vulns::run(&admin, &release, storefront.as_ref(), drill.as_deref())?;
        crate::demo::admission::run(&admin, &release, &suffix)?;
    }
    if let Some(secret) = secret.as_deref()
        && let Some(history) = crate::demo::history::run(&admin, secret, &suffix, d.history_days)?
    {
        crate::demo::telemetry::run(&history)?;
        crate::demo::access::run(&admin, &history, &suffix)?;
    }
    crate::demo::identities::run(&admin, &format!("payments-{suffix}"), &suffix)?;
    if let Some((app, ci, key)) = &storefront {
        crate::demo::signing::run(&admin, app, ci, key)?;
    }
    crate::demo::keyless::run(&admin, &suffix)?;
    crate::demo::federation::run(&admin, &suffix)?;
    let info = admin.ledger_info()?;
    let verifier = NoteVerifier::parse(&info.verifier_key)?;
    let cp = verifier.verify(&info.checkpoint)?;
    let newest = cp.size - 1;
    let p = admin.inclusion_proof(newest, Some(cp.size))?;
    andon_client::check_inclusion(&p, &cp)?;
    println!(
        "  sent {sent} attestations; the ledger holds {} entries",
        cp.size
    );
    println!(
        "  entry {newest} is included in the signed checkpoint (proof of {} hashes verified)",
        p.proof.len()
    );
    // The server audits its own store as an auditor's `andon verify --database` would: every
    // entry, document and checkpoint, and every table against the ledger replayed, from one
    // read of the entries.
    println!("\n$ curl -X POST $ANDON_SERVER/v1/ledger/verify");
    let audited = admin.verify_ledger()?;
    if audited["verified"] != true {
        anyhow::bail!("the demo's ledger does not verify: {audited}");
    }
    println!(
        "  verified {} entries and {} stored checkpoints, and {} tables against the ledger replayed",
        audited["entries_checked"], audited["checkpoints_checked"], audited["tables_compared"]
    );
    println!("\nSigned checkpoint:\n{}", info.checkpoint);
    println!("Verifier key: {}", info.verifier_key);

    // What an auditor takes away: one application's quarter in one archive, checked with
    // nothing but the file and the log key.
    let app = format!("payments-{suffix}");
    let package = d
        .package_out
        .clone()
        .unwrap_or_else(|| format!("andon-demo-{app}.tar").into());
    println!(
        "\n$ andon export package --app {app} --out {}",
        package.display()
    );
    crate::commands::package::export_from(
        &admin,
        &crate::commands::package::PackageArgs {
            app: app.clone(),
            since: None,
            until: None,
            out: package.clone(),
        },
        crate::cli::output::Output::Text,
    )?;
    println!(
        "$ andon verify --package {} --log-key ...",
        package.display()
    );
    let verified = crate::commands::package::verify(
        &package,
        Some(&info.verifier_key),
        crate::cli::output::Output::Text,
    )?;
    if verified != ExitCode::SUCCESS {
        anyhow::bail!("the demo's audit package does not verify");
    }
    println!(
        "  kept {}: check it yourself, anywhere, with\n  andon verify --package {} --log-key '{}'",
        package.display(),
        package.display(),
        info.verifier_key
    );

    // The matrix in the form assessors' tools read: OSCAL assessment results.
    println!("\n$ andon export controls --app {app} --format oscal-assessment-results");
    let ar: serde_json::Value = serde_json::from_str(&admin.controls_document(
        "/v1/controls/oscal/assessment-results",
        &[("application", app.clone())],
    )?)?;
    let findings = ar["assessment-results"]["results"][0]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let unmet: Vec<&str> = findings
        .iter()
        .filter(|f| f["target"]["status"]["state"] == "not-satisfied")
        .filter_map(|f| f["target"]["target-id"].as_str())
        .collect();
    println!(
        "  OSCAL {} assessment results: {} controls assessed over the last 90 days, {} held every time, not always: {}",
        andon_domain::oscal::OSCAL_VERSION,
        findings.len(),
        findings.len() - unmet.len(),
        if unmet.is_empty() {
            "none".to_owned()
        } else {
            unmet.join(", ")
        }
    );
    if server.is_none() {
        // The auditor's own way in: a read-only identity for the web interface.
        let auditor = admin.create_identity(&format!("auditor-{suffix}"), "auditor", &[])?;
        println!(
            "\nThe web interface: {}/ui/ (overview, evidence, deployment traces, the Risk Control Matrix, changes, access, alerts, charts, the ledger)",
            admin.base()
        );
        println!(
            "Sign in as the auditor {} (read-only) with this token, shown once:\n{}",
            auditor.identity, auditor.token
        );
        println!("\nTry: andon evidence list --app payments-{suffix}   and   andon verify");
    }
    Ok(ExitCode::SUCCESS)
}
