//! The demo's production access: a break-glass write grant approved by someone else, a
//! read grant, a persistent account used twice, an unknown digest appearing in production
//! while the write grant is active, and the access debt that adds up to.

use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_domain::access::Workload;
use andon_domain::api::{AccessRequestInput, AccountInput, AccountUseInput, SnapshotInput};

use crate::cli::output::plural;
use crate::demo::history::History;

/// Runs the access part against the history's busiest application.
pub fn run(admin: &Client, h: &History, suffix: &str) -> anyhow::Result<()> {
    let app = h.app.as_str();
    let person = |name: &str| -> anyhow::Result<Client> {
        let issued = admin.create_identity(&format!("{name}-{suffix}"), "approver", &[])?;
        Ok(Client::new(admin.base(), Some(issued.token)))
    };
    let (erin, frank) = (person("erin")?, person("frank")?);
    let ask = |level: &str, reason: &str, ticket: &str, minutes| {
        erin.request_access(&AccessRequestInput {
            application: app.to_owned(),
            environment: "production".into(),
            level: level.into(),
            reason: reason.into(),
            ticket: ticket.into(),
            minutes,
        })
    };
    let write = ask(
        "write",
        "checkout 5xx after deploy, need to restart pods",
        "INC-412",
        60,
    )?;
    let write_id = write["id"].as_str().unwrap_or_default().to_owned();
    let refused = erin.decide_access(&write_id, "approve", None).is_err();
    frank.decide_access(&write_id, "approve", Some("on call lead, go"))?;
    let read = ask("read", "look at the checkout logs", "INC-412", 30)?;
    let read_id = read["id"].as_str().unwrap_or_default().to_owned();
    frank.decide_access(&read_id, "approve", None)?;
    println!(
        "\n$ andon access request --app {app} --env production --level write --ticket INC-412 --minutes 60    # break-glass"
    );
    println!(
        "    {write_id}: erin-{suffix} asked; approving her own request was {}; frank-{suffix} approved: write access for 60 minutes. Then a 30-minute read grant {read_id}.",
        if refused {
            "refused"
        } else {
            "ALLOWED (wrong)"
        }
    );
    for g in admin.access_grants(&[("environment", "production".to_owned())])? {
        if g["application"] == app {
            println!(
                "    grant {} {} {} until {} (approved by {})",
                g["request"].as_str().unwrap_or(""),
                g["holder"].as_str().unwrap_or(""),
                g["level"].as_str().unwrap_or(""),
                g["expires_at"].as_str().unwrap_or(""),
                g["approved_by"].as_str().unwrap_or("")
            );
        }
    }

    // A persistent account: registered with owners, used twice.
    let account = format!("{app}-root");
    admin.register_account(&AccountInput {
        name: account.clone(),
        environment: "production".into(),
        application: Some(app.to_owned()),
        owners: vec![format!("erin-{suffix}"), format!("frank-{suffix}")],
    })?;
    for actor in ["erin", "frank"] {
        h.ci.account_used(
            &account,
            &AccountUseInput {
                at: None,
                actor: Some(format!("{actor}-{suffix}")),
                source: Some("teleport".into()),
                late: None,
            },
        )?;
    }
    let standing: Vec<String> = admin
        .standing_access()?
        .iter()
        .filter(|p| {
            p["accounts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == account.as_str()))
        })
        .filter_map(|p| p["person"].as_str().map(str::to_owned))
        .collect();
    println!(
        "\n$ andon access standing    # people with standing access to production through {account}, used twice: {}",
        standing.join(", ")
    );

    // While erin holds write access, production runs something no deployment put there.
    let unknown = format!(
        "registry.example.com/checkout@{}",
        Sha256Digest::of(format!("{app}-hotpatch").as_bytes())
    );
    let r = h.ci.report_snapshot(
        "production",
        &SnapshotInput {
            application: Some(app.to_owned()),
            whole_environment: false,
            taken_at: None,
            late: None,
            source: "kubernetes".into(),
            workloads: vec![
                Workload {
                    name: "checkout-7d9f/app".into(),
                    image: h.last_artifact.clone(),
                },
                Workload {
                    name: "checkout-8b1c/app".into(),
                    image: unknown,
                },
            ],
        },
    )?;
    println!("\n$ andon env report --env production --app {app} --kubernetes pods.json");
    crate::cli::output::print_alerts(&r, "    ");
    erin.decide_access(&write_id, "revoke", None)?;
    println!("    erin-{suffix} revoked her write grant {write_id} when done");

    let debt = admin.access_debt(&[
        ("application", app.to_owned()),
        ("period", "week".to_owned()),
    ])?;
    let t = &debt["total"];
    let n = |k: &str, one: &str, many: &str| plural(t[k].as_u64().unwrap_or(0), one, many);
    println!(
        "\n$ andon access debt --app {app} --period week    # Production Access Debt of the demo period: {} ({} x 10, {} x 5, {} x 1)",
        n("points", "point", "points"),
        n("account_uses", "account use", "account uses"),
        n("write_grants", "write grant", "write grants"),
        n("read_grants", "read grant", "read grants"),
    );
    Ok(())
}
