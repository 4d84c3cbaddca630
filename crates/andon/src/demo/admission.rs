//! The demo's admission: the production cluster registers in enforce mode, and its API
//! server asks before two pods start (a review captured from GKE, its image replaced):
//! the allowed payments release starts; an image by tag, which no gate ever saw, is refused
//! with the control that refused it.

use andon_client::Client;
use andon_domain::admission::ClusterInput;

use super::gates::{Gated, Role};

const REVIEW: &[u8] =
    include_bytes!("../../../andon-server/tests/api/fixtures/admission/gke-pod-create.json");

/// Registers the cluster and sends the two reviews.
pub(crate) fn run(admin: &Client, release: &Gated, suffix: &str) -> anyhow::Result<()> {
    let Some((_, clean, _)) = release.releases.iter().find(|(r, _, _)| *r == Role::Clean) else {
        return Ok(());
    };
    let cluster = format!("prod-{suffix}");
    let registered = admin.set_admission_cluster(
        &cluster,
        &ClusterInput {
            environment: "production".into(),
            mode: "enforce".into(),
            ..ClusterInput::default()
        },
    )?;
    println!(
        "\n$ andon admission cluster {cluster} --env production --mode enforce    # production's API server asks Andon before a pod starts"
    );
    let api = Client::new(admin.base(), registered.token.clone());
    for (n, (what, image)) in [
        ("the allowed payments release", clean.as_str()),
        (
            "a hotfix image by tag, never gated",
            "registry.example.com/payments:hotfix",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut review: serde_json::Value = serde_json::from_slice(REVIEW)?;
        let request = &mut review["request"];
        request["uid"] = format!("demo-{n}").into();
        request["namespace"] = "payments".into();
        request["name"] = "payments-web".into();
        request["object"]["metadata"]["namespace"] = "payments".into();
        request["object"]["metadata"]["name"] = "payments-web".into();
        request["object"]["spec"]["containers"][0]["name"] = "web".into();
        request["object"]["spec"]["containers"][0]["image"] = image.into();
        let answer = api.admission_review(&cluster, &serde_json::to_vec(&review)?)?;
        let response = &answer["response"];
        if response["allowed"] == true {
            println!("    pod with {what}: admitted");
        } else {
            println!(
                "    pod with {what}: REFUSED, {}",
                response["status"]["message"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}
