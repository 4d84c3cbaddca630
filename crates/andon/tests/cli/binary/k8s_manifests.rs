//! The Kubernetes manifests (`integrations/kubernetes`, docs/kubernetes.md) validate
//! against Kubernetes' own schemas (`.ci/kubernetes.sh`, strict: an unknown field fails),
//! and say what `andon serve` reads: the probes at `/livez` and `/readyz`, the database from
//! a Secret, only settings `andon serve --help` lists, a disruption budget over the very
//! pods of the Deployment.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::BIN;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `bash .ci/kubernetes.sh args...`: installs kubernetes-validate when missing, renders and
/// validates.
fn check(args: &[&std::ffi::OsStr]) -> Output {
    Command::new("bash")
        .arg(repo().join(".ci/kubernetes.sh"))
        .args(args)
        .output()
        .expect("bash")
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The one document of `kind`.
fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<_> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} in the base");
    found[0]
}

/// `labels` holds every pair of `selector` (both JSON maps of strings).
fn selects(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_object().expect("a selector map");
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The variable names `andon serve --help` lists (`[env: NAME=]`, `[env: NAME]`).
fn serve_variables() -> BTreeSet<String> {
    let help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .expect("andon serve --help");
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).expect("utf-8");
    help.split("[env: ")
        .skip(1)
        .map(|rest| {
            rest.split(['=', ']'])
                .next()
                .expect("a name")
                .trim()
                .to_owned()
        })
        .collect()
}

#[test]
fn the_kubernetes_manifests_validate_and_say_what_the_server_reads() {
    let dir = tempfile::tempdir().expect("dir");
    let rendered = dir.path().join("base.json");
    let out = check(&["--json".as_ref(), rendered.as_os_str()]);
    assert!(out.status.success(), "{}", said(&out));
    for what in ["base", "example", "secret.example.yaml"] {
        assert!(
            said(&out).contains(&format!("integrations/kubernetes/{what}: ")),
            "{what} validated: {}",
            said(&out)
        );
    }
    let docs: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&rendered).expect("rendered"))
            .expect("a JSON array of documents");

    let deployment = one(&docs, "Deployment");
    let spec = &deployment["spec"];
    let replicas = spec["replicas"].as_u64().expect("replicas");
    assert!(replicas >= 2, "several servers: {replicas}");
    assert_eq!(spec["strategy"]["type"], "RollingUpdate");
    assert_eq!(spec["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
    assert_eq!(spec["strategy"]["rollingUpdate"]["maxSurge"], 1);
    let pod_labels = &spec["template"]["metadata"]["labels"];
    assert!(selects(&spec["selector"]["matchLabels"], pod_labels));
    let pod = &spec["template"]["spec"];
    assert!(
        pod["terminationGracePeriodSeconds"]
            .as_u64()
            .expect("grace")
            >= 30
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(
        pod["enableServiceLinks"], false,
        "no ANDON_PORT... variables"
    );

    let containers = pod["containers"].as_array().expect("containers");
    let andon = containers
        .iter()
        .find(|c| c["name"] == "andon")
        .expect("the andon container");
    assert_eq!(andon["command"], serde_json::json!(["andon", "serve"]));
    assert_eq!(andon["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(andon["livenessProbe"]["httpGet"]["path"], "/livez");
    assert_eq!(andon["startupProbe"]["httpGet"]["path"], "/livez");
    let port = andon["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == andon["readinessProbe"]["httpGet"]["port"])
        .expect("the probes' port is the container's");
    let security = &andon["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    for (what, at) in [("cpu", "/requests/cpu"), ("memory", "/requests/memory")] {
        assert!(andon["resources"].pointer(at).is_some(), "a {what} request");
    }
    assert!(andon["resources"]["limits"]["memory"].is_string());

    let env = andon["env"].as_array().expect("env");
    let var = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} set"))
    };
    assert_eq!(
        var("ANDON_LISTEN")["value"],
        format!("0.0.0.0:{}", port["containerPort"])
    );
    let database = var("ANDON_DATABASE_URL");
    assert!(
        database.get("value").is_none(),
        "never written in the manifest"
    );
    let from = &database["valueFrom"]["secretKeyRef"];
    assert!(
        from["name"].is_string() && from["key"].is_string(),
        "{from}"
    );
    assert_ne!(from["optional"], true);
    // The log key and the data directory are files on the right volumes.
    let volume_of = |path: &str| {
        let mount = andon["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .find(|m| Path::new(path).starts_with(m["mountPath"].as_str().expect("mountPath")))
            .unwrap_or_else(|| panic!("{path} is mounted"));
        pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == mount["name"])
            .expect("the mount's volume")
            .clone()
    };
    let key = var("ANDON_LOG_KEY_FILE")["value"].as_str().expect("a path");
    assert!(volume_of(key)["secret"]["secretName"].is_string(), "{key}");
    let data = var("ANDON_DATA_DIR")["value"].as_str().expect("a path");
    assert!(volume_of(data)["emptyDir"].is_object(), "{data}");
    assert!(
        volume_of("/tmp/x")["emptyDir"].is_object(),
        "a writable /tmp"
    );

    // Every setting named is one `andon serve` reads, and so is every flag.
    let known = serve_variables();
    assert!(known.contains("ANDON_DATABASE_URL"), "{known:?}");
    let named: BTreeSet<String> = docs
        .iter()
        .filter_map(|d| d["spec"]["template"]["spec"]["containers"].as_array())
        .flatten()
        .filter_map(|c| c["env"].as_array())
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .filter(|n| n.starts_with("ANDON_"))
        .map(str::to_owned)
        .collect();
    assert!(named.len() >= 4, "{named:?}");
    let unknown: Vec<_> = named.difference(&known).collect();
    assert!(unknown.is_empty(), "not in andon serve --help: {unknown:?}");
    let help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in andon["args"].as_array().expect("args") {
        let flag = flag.as_str().expect("an argument");
        if flag.starts_with("--") {
            assert!(help.contains(&format!("{flag} <")), "{flag} in --help");
        }
    }

    // The disruption budget and the Service cover exactly the Deployment's pods.
    let pdb = one(&docs, "PodDisruptionBudget");
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        spec["selector"]["matchLabels"]
    );
    assert!(selects(&pdb["spec"]["selector"]["matchLabels"], pod_labels));
    assert_eq!(
        pdb["spec"]["minAvailable"].as_u64(),
        Some(replicas - 1),
        "one server at a time"
    );
    let service = one(&docs, "Service");
    assert!(selects(&service["spec"]["selector"], pod_labels));
    assert_eq!(service["spec"]["ports"][0]["targetPort"], port["name"]);
}

/// Copies the base kustomization into a directory of its own.
fn copy_base(to: &Path) {
    let base = repo().join("integrations/kubernetes/base");
    for e in std::fs::read_dir(base).expect("base") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

#[test]
fn the_kubernetes_check_refuses_an_unknown_field_and_an_unsupported_feature() {
    let dir = tempfile::tempdir().expect("dir");
    copy_base(dir.path());
    let out = check(&[dir.path().as_os_str()]);
    assert!(out.status.success(), "the copy validates: {}", said(&out));

    let deployment = dir.path().join("deployment.yaml");
    let text = std::fs::read_to_string(&deployment).expect("deployment");
    let anchor = "          readinessProbe:\n";
    assert!(text.contains(anchor));
    std::fs::write(
        &deployment,
        text.replacen(
            anchor,
            &format!("          readynessProbe: {{}}\n{anchor}"),
            1,
        ),
    )
    .expect("write");
    let out = check(&[dir.path().as_os_str()]);
    assert!(!out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains("'readynessProbe' was unexpected"),
        "{}",
        said(&out)
    );

    std::fs::write(&deployment, text).expect("write");
    let kustomization = dir.path().join("kustomization.yaml");
    let mut k = std::fs::read_to_string(&kustomization).expect("kustomization");
    k.push_str("patches:\n  - path: deployment.yaml\n");
    std::fs::write(&kustomization, k).expect("write");
    let out = check(&[dir.path().as_os_str()]);
    assert!(!out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains("patches not supported"),
        "{}",
        said(&out)
    );
}

/// The admission webhook's configuration validates, reaches Andon's review route over TLS
/// for one cluster, asks only for what the webhook judges, never records a dry run, and
/// leaves out the namespaces Andon and Kubernetes run in.
#[test]
fn the_admission_webhook_configuration_validates_and_matches_the_route() {
    let dir = tempfile::tempdir().expect("dir");
    let rendered = dir.path().join("admission.json");
    let admission = repo().join("integrations/kubernetes/admission");
    let out = check(&[
        "--json".as_ref(),
        rendered.as_os_str(),
        admission.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", said(&out));
    let docs: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&rendered).expect("rendered"))
            .expect("documents");
    let config = one(&docs, "ValidatingWebhookConfiguration");
    assert_eq!(config["apiVersion"], "admissionregistration.k8s.io/v1");
    let hooks = config["webhooks"].as_array().expect("webhooks");
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    assert_eq!(hook["admissionReviewVersions"], serde_json::json!(["v1"]));
    assert_eq!(hook["sideEffects"], "NoneOnDryRun");
    assert!(hook["timeoutSeconds"].as_u64().is_some_and(|t| t <= 5));
    assert!(matches!(
        hook["failurePolicy"].as_str(),
        Some("Ignore" | "Fail")
    ));
    let url = hook["clientConfig"]["url"].as_str().expect("a url");
    let (scheme, path) = url.split_once("://").expect("a scheme");
    assert_eq!(scheme, "https", "API servers call webhooks over TLS only");
    let route = path.split_once('/').expect("a path").1;
    let cluster = route
        .strip_prefix("k8s/admission/v1/")
        .expect("the review route");
    assert!(!cluster.is_empty() && !cluster.contains('/'), "{url}");
    let excluded = &hook["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(excluded["key"], "kubernetes.io/metadata.name");
    assert_eq!(excluded["operator"], "NotIn");
    for ns in ["kube-system", "andon"] {
        assert!(
            excluded["values"]
                .as_array()
                .expect("values")
                .iter()
                .any(|v| v == ns),
            "{ns} excluded"
        );
    }
    // Every kind the webhook reads a pod spec from, and nothing else.
    let mut resources: Vec<String> = hook["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .flat_map(|r| {
            assert_eq!(r["operations"], serde_json::json!(["CREATE", "UPDATE"]));
            r["resources"]
                .as_array()
                .expect("resources")
                .iter()
                .map(|x| x.as_str().expect("a resource").to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    resources.sort();
    assert_eq!(
        resources,
        [
            "cronjobs",
            "daemonsets",
            "deployments",
            "jobs",
            "pods",
            "pods/ephemeralcontainers",
            "replicasets",
            "replicationcontrollers",
            "statefulsets"
        ]
    );
}
