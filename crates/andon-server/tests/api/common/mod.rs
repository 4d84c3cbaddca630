//! What the server tests share: a server on a throwaway database of either backend, reached
//! through the same client the CLI uses.

pub mod release;

use andon_client::{Client, ClientError, github_signature};
use andon_domain::{Sha256Digest, SigningKey, Statement};
use andon_store::{Counts, Store};
use andon_testkit::{Backend, TestDb};
use serde_json::{Value, json};

pub struct Harness {
    pub url: String,
    /// The first server's application, for what only it can tell (its self-checks).
    pub app: andon_server::App,
    pub admin: Client,
    pub rt: tokio::runtime::Runtime,
    pub db: TestDb,
}

impl Harness {
    /// `GET path` as the admin, any status: (status, body), for answers the client does
    /// not model (exports, documents, errors).
    pub fn admin_get(&self, path: &str) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let token = self.admin.token().expect("admin token");
        let mut r = agent
            .get(&format!("{}{path}", self.url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("response");
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_string().expect("body"))
    }

    pub fn start(backend: Backend, max_body: usize) -> Self {
        Self::start_with(backend, max_body, std::time::Duration::ZERO)
    }

    pub fn start_with(backend: Backend, max_body: usize, linger: std::time::Duration) -> Self {
        Self::start_configured(backend, |c| {
            c.max_body_bytes = max_body;
            c.batch_linger = linger;
        })
    }

    /// A server on a fresh database, its configuration adjusted by `configure`.
    pub fn start_configured(
        backend: Backend,
        configure: impl FnOnce(&mut andon_server::Config),
    ) -> Self {
        Self::start_on(TestDb::new(backend), configure)
    }

    /// A server on `db` as it is (a restored backup, say); its admin client carries the
    /// first start's token when there was one, else `token`.
    pub fn start_on(db: TestDb, configure: impl FnOnce(&mut andon_server::Config)) -> Self {
        Self::start_on_with_token(db, configure, None)
    }

    pub fn start_on_with_token(
        db: TestDb,
        configure: impl FnOnce(&mut andon_server::Config),
        token: Option<String>,
    ) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("rt");
        let mut config = config_for(&db);
        configure(&mut config);
        let (url, minted, app) = rt.block_on(serve(config));
        let token = minted
            .or(token)
            .expect("an admin token: minted on a first start, or given");
        Self {
            admin: Client::new(&url, Some(token)),
            app,
            url,
            rt,
            db,
        }
    }

    /// Another server on this harness's database (several servers share one PostgreSQL
    /// ledger); answers its URL. It runs on the harness's runtime.
    pub fn another_server(&self) -> String {
        self.another_server_with(|_| {})
    }

    /// [`Harness::another_server`], its configuration adjusted by `configure`.
    pub fn another_server_with(&self, configure: impl FnOnce(&mut andon_server::Config)) -> String {
        let mut config = andon_server::Config::new(self.db.url.clone(), [1; 32]);
        configure(&mut config);
        self.rt.block_on(serve(config)).0
    }

    /// Waits for the self-check the server runs in the background as it starts: a test that
    /// edits tables by hand must not race it (on a loaded machine it could run after the
    /// edit and, rightly, raise an alert).
    pub fn wait_for_start_check(&self) {
        for _ in 0..400 {
            if self.app.last_check().is_some() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("the start-up self-check did not finish in ten seconds");
    }

    /// Submits a typed statement and returns the summary the server derived from it.
    pub fn typed_summary(
        &self,
        ci: &Client,
        key: &SigningKey,
        kind: &str,
        st: &Statement,
    ) -> serde_json::Value {
        let r = ci
            .submit_evidence("pay", None, Some(kind), &st.sign(key))
            .expect("accepted");
        self.admin
            .show_evidence(r.id.as_deref().expect("id"))
            .expect("show")
            .summary
            .expect("summary")
    }

    /// Submits a typed statement whose report must be refused as unparseable, and checks
    /// that nothing was written.
    pub fn assert_unparseable(&self, ci: &Client, key: &SigningKey, kind: &str, st: &Statement) {
        let before = self.counts();
        assert_eq!(
            code(ci.submit_evidence("pay", None, Some(kind), &st.sign(key))),
            (422, "unparseable_report".into())
        );
        assert_eq!(self.counts(), before, "a refused report wrote something");
    }

    pub fn counts(&self) -> Counts {
        self.rt.block_on(async {
            Store::connect(&self.db.url)
                .await
                .expect("store")
                .counts()
                .await
                .expect("counts")
        })
    }

    /// An application, a pipeline identity scoped to it, and its registered key.
    pub fn pipeline(&self, app: &str) -> (Client, SigningKey) {
        self.admin.create_application(app, "team").expect("app");
        let issued = self
            .admin
            .create_identity(&format!("ci-{app}"), "pipeline", &[app.to_owned()])
            .expect("identity");
        let key = SigningKey::from_seed(Sha256Digest::of(app.as_bytes()).as_bytes().to_owned());
        self.admin
            .register_key(&issued.identity, &key.public_key().to_ledger_text())
            .expect("key");
        (Client::new(&self.url, Some(issued.token)), key)
    }
}

/// The configuration every test server starts from: the test log key, and the checkpoint
/// file in the database's scratch directory (beside the file for SQLite).
pub fn config_for(db: &TestDb) -> andon_server::Config {
    let mut config = andon_server::Config::new(db.url.clone(), [1; 32]);
    if config.checkpoint_file.is_none() {
        config.checkpoint_file = Some(db.dir().join("andon.checkpoint"));
    }
    config
}

/// Opens a server with `config` and serves it on a loopback port: its URL, the admin token
/// a first start minted, and the application.
async fn serve(config: andon_server::Config) -> (String, Option<String>, andon_server::App) {
    let started = andon_server::App::open(config).await.expect("open");
    let app = started.app.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(andon_server::serve(
        listener,
        started.app,
        std::future::pending(),
    ));
    (format!("http://{addr}"), started.admin_token, app)
}

pub fn envelope(key: &SigningKey, n: u32) -> Vec<u8> {
    let st = Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(&n.to_be_bytes()))],
        "https://example.com/test/v1".into(),
        serde_json::json!({ "n": n }),
    );
    st.sign(key)
}

/// The status, code and message of an API error (panics on success).
pub fn refusal<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api {
            status,
            code,
            message,
        }) => (status, code, message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A Sigstore fixture (`andon-domain/tests/fixtures/sigstore`).
pub fn sigstore_fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../andon-domain/tests/fixtures/sigstore/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The public-good trusted root registered, and `application`'s keyless policy set to
/// admit `(issuer, identity regex)` signers.
pub fn keyless_app(h: &Harness, application: &str, signers: &[(&str, &str)]) {
    h.admin
        .set_trusted_root(
            "public-good",
            &sigstore_fixture("public-good.trusted_root.json"),
        )
        .expect("root");
    let identities = signers
        .iter()
        .map(|(issuer, regex)| andon_domain::sigstore::IdentityRule {
            issuer: (*issuer).into(),
            identity: None,
            identity_regex: Some((*regex).into()),
            claims: Default::default(),
        })
        .collect();
    h.admin
        .set_keyless_policy(
            application,
            &andon_domain::sigstore::KeylessPolicy { identities },
        )
        .expect("policy");
}

pub fn code(r: Result<andon_domain::api::Receipt, ClientError>) -> (u16, String) {
    match r {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

// Source control: GitHub deliveries built from octokit's published examples.

pub const SECRET: &str = "It's a Secret to Everybody";
pub const GITLAB_TOKEN: &str = "gitlab-hook-token";

pub fn fixture(path: &str) -> Value {
    let p = format!(
        "{}/../andon-evidence/tests/fixtures/webhooks/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(p).expect("fixture")).expect("json")
}

pub fn start(b: Backend) -> Harness {
    start_on_clock(b, andon_server::Clock::system())
}

/// [`start`] on `clock`: a test that records facts at fixed times moves it to each time,
/// so the facts arrive as they happen, within the late window.
pub fn start_on_clock(b: Backend, clock: andon_server::Clock) -> Harness {
    Harness::start_configured(b, |c| {
        c.github_webhook_secret = Some(SECRET.into());
        c.gitlab_webhook_token = Some(GITLAB_TOKEN.into());
        c.clock = clock;
    })
}

/// An RFC 3339 time as Unix ms.
pub fn at_ms(t: &str) -> i64 {
    t.parse::<jiff::Timestamp>().expect("time").as_millisecond()
}

pub fn github(
    h: &Harness,
    event: &str,
    delivery: &str,
    payload: &[u8],
) -> Result<Value, ClientError> {
    Client::new(&h.url, None).deliver_webhook(
        "/webhooks/github",
        &[
            ("X-GitHub-Event", event.into()),
            ("X-GitHub-Delivery", delivery.into()),
            ("X-Hub-Signature-256", github_signature(SECRET, payload)),
        ],
        payload,
    )
}

/// The status and code of an API error (panics on success).
pub fn err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String) {
    match r {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub fn sha(c: char) -> String {
    c.to_string().repeat(40)
}

/// A `pull_request` payload: octokit's published example with this PR's particulars.
pub fn pull_request(
    action: &str,
    number: u64,
    title: &str,
    author: (&str, u64),
    head: &str,
    merge: Option<&str>,
) -> Vec<u8> {
    let mut v = fixture("github/pull_request.opened.json");
    v["action"] = action.into();
    let pr = &mut v["pull_request"];
    pr["number"] = number.into();
    pr["title"] = title.into();
    pr["user"]["login"] = author.0.into();
    pr["user"]["id"] = author.1.into();
    pr["head"]["sha"] = head.into();
    pr["head"]["ref"] = format!("feature/{number}").into();
    if let Some(m) = merge {
        pr["merged"] = true.into();
        pr["merge_commit_sha"] = m.into();
        pr["merged_by"] = json!({"login": "release-bot", "id": 9});
    }
    serde_json::to_vec(&v).expect("json")
}

pub fn review(number: u64, reviewer: (&str, u64), state: &str, commit: &str) -> Vec<u8> {
    let mut v = fixture("github/pull_request_review.submitted.json");
    v["pull_request"]["number"] = number.into();
    v["review"]["user"]["login"] = reviewer.0.into();
    v["review"]["user"]["id"] = reviewer.1.into();
    v["review"]["state"] = state.into();
    v["review"]["commit_id"] = commit.into();
    serde_json::to_vec(&v).expect("json")
}

pub fn push(commits: &[(&str, &str)]) -> Vec<u8> {
    push_to("refs/heads/feature/PAY-7-refunds", commits)
}

/// A push of `commits` (id, message, author time) to `git_ref`.
pub fn push_timed(git_ref: &str, commits: &[(&str, &str, &str)]) -> Vec<u8> {
    let plain: Vec<(&str, &str)> = commits.iter().map(|(id, m, _)| (*id, *m)).collect();
    let mut v: Value = serde_json::from_slice(&push_to(git_ref, &plain)).expect("json");
    for (c, (_, _, at)) in v["commits"]
        .as_array_mut()
        .expect("commits")
        .iter_mut()
        .zip(commits)
    {
        c["timestamp"] = (*at).into();
    }
    serde_json::to_vec(&v).expect("json")
}

/// A push of `commits` (id, message) to `git_ref`, authored as in the octokit example.
pub fn push_to(git_ref: &str, commits: &[(&str, &str)]) -> Vec<u8> {
    let mut v = fixture("github/push.json");
    let template = v["commits"][0].clone();
    v["ref"] = git_ref.into();
    v["commits"] = commits
        .iter()
        .map(|(id, message)| {
            let mut c = template.clone();
            c["id"] = (*id).into();
            c["message"] = (*message).into();
            c
        })
        .collect();
    serde_json::to_vec(&v).expect("json")
}

pub fn deployment_status(commit: &str, environment: &str, state: &str) -> Vec<u8> {
    let mut v = fixture("github/deployment_status.json");
    v["deployment"]["sha"] = commit.into();
    v["deployment_status"]["environment"] = environment.into();
    v["deployment_status"]["state"] = state.into();
    serde_json::to_vec(&v).expect("json")
}

/// Request headers, lowercased names.
pub type Headers = Vec<(String, String)>;
/// What a receiver got: (headers, body) per request.
pub type Received = std::sync::Arc<std::sync::Mutex<Vec<(Headers, Vec<u8>)>>>;

/// A minimal HTTP receiver on loopback: answers 500 to its first request, 200 after.
pub fn receiver() -> (String, Received) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/itsm/change",
        listener.local_addr().expect("addr")
    );
    let got: Received = Default::default();
    let log = got.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).expect("request line");
            loop {
                line.clear();
                reader.read_line(&mut line).expect("header");
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
                }
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).expect("body");
            log.lock().expect("lock").push((headers, body));
            let status = if n == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, got)
}
