//! What pipelines run: the CI integrations' own commands, and test and coverage reports
//! attested with the CLI.

use std::process::Command;

use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

/// The CI integrations, each checked as a file and run: the GitHub action's step script and
/// the GitLab template's and Jenkinsfile's commands, with their variables set as those CI
/// systems would, against a live server. Each pipeline attests a real SBOM, passes a gate
/// that asks for one, and records a deployment; nothing secret reaches the output.
fn the_ci_integrations_run_the_same_commands(b: Backend) {
    use yaml_rust2::{Yaml, YamlLoader};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let load = |rel: &str| -> Yaml {
        let text = std::fs::read_to_string(root.join(rel)).expect("integration file");
        YamlLoader::load_from_str(&text)
            .unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
            .remove(0)
    };
    let action = load("integrations/github/action.yml");
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    for input in ["command", "server", "app", "subject", "token", "key"] {
        assert!(
            !action["inputs"][input].is_badvalue(),
            "action input {input}"
        );
    }
    let step = action["runs"]["steps"]
        .as_vec()
        .expect("steps")
        .iter()
        .find(|s| s["name"].as_str() == Some("Andon"))
        .expect("the Andon step")
        .clone();
    let workflow = load("integrations/github/example-workflow.yml");
    let uses = workflow["jobs"]["release"]["steps"]
        .as_vec()
        .expect("steps")
        .iter()
        .filter(|s| s["uses"].as_str() == Some("./integrations/github"))
        .count();
    assert_eq!(uses, 3, "the example attests, gates and records");
    let gitlab = load("integrations/gitlab/andon.gitlab-ci.yml");
    let script = |job: &str| -> String {
        gitlab[job]["script"][0]
            .as_str()
            .unwrap_or_else(|| panic!("{job} has a script"))
            .to_owned()
    };
    let jenkins = std::fs::read_to_string(root.join("integrations/jenkins/Jenkinsfile"))
        .expect("Jenkinsfile");
    let jenkins_sh: Vec<String> = jenkins
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("sh '")?
                .strip_suffix('\'')
                .map(str::to_owned)
        })
        .filter(|l| l.contains("andon-pipeline.sh"))
        .collect();
    assert_eq!(jenkins_sh.len(), 3, "{jenkins_sh:?}");
    let recipe = root.join("integrations/shell/andon-pipeline.sh");
    assert!(
        Command::new("bash")
            .arg("-n")
            .arg(&recipe)
            .status()
            .expect("bash")
            .success()
    );

    // A server, an application whose staging gate checks the tests, a pipeline identity.
    let db = TestDb::new(b);
    let server = start(&db, true);
    let admin = Client::new(&server.url, server.token.clone());
    admin.create_application("pay", "team").expect("app");
    admin
        .publish_policy(&serde_json::json!({
            "name": "pay-staging", "applications": ["pay"], "environments": ["staging"],
            "builtin": true,
            "disabled": ["peer-review", "pipeline-reviewed", "tests-pass", "coverage", "static-analysis",
                         "vulnerabilities", "provenance", "change-approval", "tested-before-production", "no-secrets", "dynamic-scan", "hardening"],
        }))
        .expect("policy");
    let token = admin
        .create_identity("ci-pay", "pipeline", &["pay".to_owned()])
        .expect("identity")
        .token;
    let dir = db.dir().join("ci");
    std::fs::create_dir_all(&dir).expect("dir");
    let key_file = dir.join("ci.key");
    let admin_env = [
        ("ANDON_SERVER", server.url.clone()),
        ("ANDON_TOKEN", server.token.clone().expect("admin token")),
    ];
    assert!(
        Command::new(BIN)
            .args(["keygen", "--out"])
            .arg(&key_file)
            .status()
            .expect("keygen")
            .success()
    );
    assert!(
        Command::new(BIN)
            .args(["identity", "add-key", "ci-pay", "--key"])
            .arg(&key_file)
            .envs(admin_env.iter().cloned())
            .status()
            .expect("add-key")
            .success()
    );
    let key_pem = std::fs::read_to_string(&key_file).expect("key");
    // The report: cyclonedx-py's SBOM (the staging gate asks for one).
    let report = root.join("crates/andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-1.6.json");
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The GitHub pipeline's artifact is a binary a host will run: its digest is the file's.
    let host = dir.join("host");
    std::fs::create_dir_all(host.join("bin")).expect("host dir");
    std::fs::write(host.join("bin/pay"), b"pay binary 1.0").expect("binary");
    let subject = |n: &str| {
        let bytes: &[u8] = if n == "github" {
            b"pay binary 1.0"
        } else {
            n.as_bytes()
        };
        format!("registry.example.com/pay@{}", Sha256Digest::of(bytes))
    };
    let run = |what: &str, script: &str, env: &[(&str, String)]| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(&root)
            .env("PATH", &path)
            .envs(env.iter().cloned())
            .output()
            .expect("bash");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{what}: {text}");
        assert!(!text.contains(&token), "{what} printed the token");
        assert!(!text.contains("PRIVATE KEY"), "{what} printed the key");
        text
    };

    // GitHub Actions: the step's script with its env, inputs substituted.
    let gh_script = step["run"].as_str().expect("run").to_owned();
    let action_dir = root.join("integrations/github");
    for (command, kind, file, environment) in [
        ("attest", "sbom", report.display().to_string(), ""),
        ("gate", "", String::new(), "staging"),
        ("deploy", "", String::new(), "staging"),
    ] {
        let inputs = [
            ("command", command.to_owned()),
            ("kind", kind.to_owned()),
            ("file", file.clone()),
            ("environment", environment.to_owned()),
            ("server", server.url.clone()),
            ("app", "pay".to_owned()),
            ("subject", subject("github")),
            ("token", token.clone()),
            ("key", key_pem.clone()),
            ("audience", "andon".to_owned()),
        ];
        let mut env: Vec<(&str, String)> =
            vec![("GITHUB_ACTION_PATH", action_dir.display().to_string())];
        for (k, v) in step["env"].as_hash().expect("env") {
            let value = v.as_str().expect("string");
            let value = if value == "${{ github.run_id }}" {
                "4242".to_owned()
            } else {
                let name = value
                    .trim_start_matches("${{ inputs.")
                    .trim_end_matches(" }}");
                inputs
                    .iter()
                    .find(|(i, _)| *i == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| panic!("unknown input in {value}"))
            };
            env.push((k.as_str().expect("key"), value));
        }
        run(&format!("github {command}"), &gh_script, &env);
    }

    // The host runs what the GitHub pipeline deployed: no drift (exit 0). A binary changed
    // by hand is unauthorized, and the deployed one missing (exit 1).
    let env_report = |what: &str| {
        Command::new(BIN)
            .args(["env", "report", "--env", "staging", "--app", "pay", "--dir"])
            .arg(&host)
            .envs(admin_env.iter().cloned())
            .output()
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    };
    // Without its scope, a snapshot is refused before anything is read or sent.
    let unscoped = Command::new(BIN)
        .args(["env", "report", "--env", "staging", "--dir"])
        .arg(&host)
        .envs(admin_env.iter().cloned())
        .env_remove("ANDON_APP")
        .output()
        .expect("env report");
    let said = String::from_utf8_lossy(&unscoped.stderr);
    assert_eq!(unscoped.status.code(), Some(2), "{said}");
    assert!(
        said.contains("--app") && said.contains("--whole-environment"),
        "{said}"
    );
    let clean = env_report("clean");
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    std::fs::write(host.join("bin/pay"), b"pay binary 1.0, patched on the host").expect("patch");
    let drift = env_report("drift");
    let text = String::from_utf8_lossy(&drift.stdout);
    assert_eq!(drift.status.code(), Some(1), "{text}");
    assert!(
        text.contains("UNAUTHORIZED") && text.contains("MISSING"),
        "{text}"
    );
    assert!(text.contains("ALERT high unauthorized_change"), "{text}");

    // GitLab CI, with no Andon secret: each job's ID token (the template's id_tokens, issued
    // here by a real OpenID provider with GitLab's claims) is mapped by a workload rule to
    // the pipeline, and the job signs with a key it makes for itself.
    let aud = gitlab[".andon"]["id_tokens"]["ANDON_ID_TOKEN"]["aud"]
        .as_str()
        .expect("the template asks GitLab for an ID token")
        .to_owned();
    let idp = andon_testkit::oidc::OidcProvider::start(&andon_testkit::oidc::ProviderConfig {
        ci_audiences: vec![aud.clone()],
        ..Default::default()
    });
    for args in [
        vec![
            "oidc",
            "issuer",
            "add",
            "gitlab",
            "--issuer",
            &idp.issuer,
            "--audience",
            &aud,
        ],
        vec![
            "oidc",
            "rule",
            "set",
            "pay-main",
            "--issuer",
            "gitlab",
            "--claim",
            "project_path=acme/pay",
            "--claim",
            "ref_protected=true",
            "--identity",
            "ci-pay",
        ],
    ] {
        let out = Command::new(BIN)
            .args(&args)
            .envs(admin_env.iter().cloned())
            .output()
            .expect("andon oidc");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let job_token = |job: &str| {
        idp.ci_token(
            &aud,
            serde_json::json!({
                "sub": "project_path:acme/pay:ref_type:branch:ref:main",
                "namespace_path": "acme", "project_path": "acme/pay", "pipeline_id": "777",
                "pipeline_source": "push", "job_id": job, "ref": "main", "ref_type": "branch",
                "ref_protected": "true", "user_login": "alice",
            }),
            "RS256",
            3600,
        )
    };
    let common = |s: &str| {
        vec![
            (
                "ANDON_RECIPE",
                gitlab["variables"]["ANDON_RECIPE"]
                    .as_str()
                    .expect("recipe")
                    .to_owned(),
            ),
            ("ANDON_SERVER", server.url.clone()),
            ("ANDON_APP", "pay".to_owned()),
            ("ANDON_SUBJECT", subject(s)),
            ("CI_PIPELINE_ID", "777".to_owned()),
            ("TMPDIR", dir.display().to_string()),
        ]
    };
    let mut env = common("gitlab");
    env.extend([
        ("ANDON_KIND", "sbom".to_owned()),
        ("ANDON_FILE", report.display().to_string()),
        ("ANDON_ID_TOKEN", job_token("1001")),
    ]);
    run("gitlab attest", &script(".andon-attest"), &env);
    let mut env = common("gitlab");
    env.push(("ANDON_ENVIRONMENT", "staging".to_owned()));
    env.push(("ANDON_ID_TOKEN", job_token("1002")));
    let gate = run("gitlab gate", &script(".andon-gate"), &env);
    assert!(gate.contains("ALLOW"), "{gate}");
    env.push(("ANDON_ID_TOKEN", job_token("1003")));
    run("gitlab deploy", &script(".andon-deploy"), &env);
    let sessions: Vec<_> = admin
        .list_tokens(Some("ci-pay"))
        .expect("tokens")
        .into_iter()
        .filter(|t| t.issued_by == "oidc:gitlab")
        .collect();
    assert_eq!(
        sessions.len(),
        3,
        "one session per GitLab job: {sessions:?}"
    );

    // Jenkins: its sh steps, the key as a credentials file.
    let env = vec![
        ("ANDON_SERVER", server.url.clone()),
        ("ANDON_APP", "pay".to_owned()),
        ("ANDON_SUBJECT", subject("jenkins")),
        ("ANDON_TOKEN", token.clone()),
        ("ANDON_KEY_FILE", key_file.display().to_string()),
        ("BUILD_TAG", "jenkins-pay-7".to_owned()),
    ];
    for sh in &jenkins_sh {
        let sh = sh
            .replace(
                "attest junit target/nextest/ci/junit.xml",
                &format!("attest sbom {}", report.display()),
            )
            .replace("gate production", "gate staging")
            .replace("deploy production", "deploy staging");
        run(&format!("jenkins {sh}"), &sh, &env);
    }

    let deployed = admin
        .deployments(Some("pay"), Some("staging"))
        .expect("deployments");
    assert_eq!(deployed.len(), 3, "{deployed:?}");
    assert!(
        deployed.iter().all(|d| !d.bypass),
        "every deployment passed its gate"
    );
    let runs: Vec<Option<String>> = deployed.iter().map(|d| d.run.clone()).collect();
    for r in ["4242", "777", "jenkins-pay-7"] {
        assert!(runs.contains(&Some(r.to_owned())), "{runs:?}");
    }
    drop(server_guard(server));
}

fn a_pipeline_attests_test_and_coverage_reports_with_the_cli(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let andon = |tok: &str, args: &[&str]| {
        let out = Command::new(BIN)
            .args(["--server", &server.url, "--token", tok])
            .args(args)
            .output()
            .expect("run andon");
        assert!(
            out.status.success(),
            "andon {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let show = |id: &str| -> serde_json::Value {
        serde_json::from_str(&andon(
            &token,
            &["--output", "json", "evidence", "show", id],
        ))
        .expect("json")
    };
    andon(&token, &["app", "create", "pay", "--team", "payments"]);
    let created = andon(
        &token,
        &[
            "--output", "json", "identity", "create", "ci-pay", "--role", "pipeline", "--app",
            "pay",
        ],
    );
    let ci_token = serde_json::from_str::<serde_json::Value>(&created).expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let key = db.dir().join("ci.key");
    let key = key.to_str().expect("path");
    andon(&token, &["keygen", "--out", key]);
    andon(&token, &["identity", "add-key", "ci-pay", "--key", key]);
    let report = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures/junit/cargo-nextest-0.9.143.xml"
    );
    let subject = format!("registry.example.com/pay@{}", Sha256Digest::of(b"image"));
    let receipt = andon(
        &ci_token,
        &[
            "--output",
            "json",
            "attest",
            "junit",
            "--app",
            "pay",
            "--run",
            "77",
            "--subject",
            &subject,
            "--key",
            key,
            "--file",
            report,
        ],
    );
    let id = serde_json::from_str::<serde_json::Value>(&receipt).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let shown = show(&id);
    assert_eq!(shown["summary"]["kind"], "junit");
    assert_eq!(
        (
            shown["summary"]["tests"].as_u64(),
            shown["summary"]["failures"].as_u64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(
        shown["summary"]["failing"][0],
        "nxsample::tests::overflow_is_reported"
    );
    let listed = andon(
        &token,
        &[
            "evidence",
            "list",
            "--app",
            "pay",
            "--predicate-type",
            "https://andon.dev/attestations/junit/v1",
        ],
    );
    assert!(listed.contains(&id), "{listed}");

    // A vulnerability scan and the pipeline definition, then the trace of the commit.
    let trivy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures/vulnerabilities/trivy-alpine-310.sarif"
    );
    let common = ["--app", "pay", "--subject", &subject, "--key", key];
    let scanned = andon(
        &ci_token,
        &[
            &[
                "--output",
                "json",
                "attest",
                "vulnerabilities",
                "--file",
                trivy,
            ][..],
            &common[..],
        ]
        .concat(),
    );
    let id = serde_json::from_str::<serde_json::Value>(&scanned).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let shown = show(&id);
    assert_eq!(shown["summary"]["max_severity"], "medium");
    let workflow = db.dir().join("release.yml");
    std::fs::write(&workflow, "on: push\njobs: {}\n").expect("write");
    let commit = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    andon(
        &ci_token,
        &[
            &[
                "attest",
                "pipeline-definition",
                "--file",
                workflow.to_str().expect("path"),
                "--repository",
                "acme/pay",
                "--commit",
                commit,
            ][..],
            &common[..],
        ]
        .concat(),
    );
    let traced = andon(&token, &["trace", &commit[..10]]);
    assert!(traced.contains("pipeline-definition"), "{traced}");
    assert!(traced.contains("release.yml"), "{traced}");
    assert!(traced.contains("no pull request recorded"), "{traced}");
    let traced = andon(
        &token,
        &["trace", &subject[subject.find('@').expect("@") + 1..]],
    );
    assert!(traced.contains("open findings (max medium)"), "{traced}");

    // Provenance as the generator wrote it, and the same statement in the DSSE envelope a
    // generator hands out (.intoto.jsonl): one summary; the envelope is said to be one.
    let provenance = |file: &str| {
        let out = Command::new(BIN)
            .args([
                "--server",
                &server.url,
                "--token",
                &ci_token,
                "--output",
                "json",
            ])
            .args(["attest", "provenance", "--file", file])
            .args(common)
            .output()
            .expect("andon attest provenance");
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{said}");
        let id = serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let shown = show(&id);
        (shown["summary"].clone(), said)
    };
    let (bare, said) = provenance(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures/provenance/npmcli-provenance-cli-0.0.3.json"
    ));
    assert!(said.is_empty(), "{said}");
    assert_eq!(bare["kind"], "provenance", "{bare}");
    assert!(!bare["builder_id"].is_null(), "{bare}");
    let (enveloped, said) = provenance(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/provenance/npm-provenance.intoto.jsonl"
    ));
    assert_eq!(enveloped, bare);
    assert!(said.contains("is a DSSE envelope"), "{said}");
    drop(server_guard(server));
}

both_backends!(
    the_ci_integrations_run_the_same_commands,
    a_pipeline_attests_test_and_coverage_reports_with_the_cli,
);
