//! A real OpenID Connect provider for tests: panva's `oidc-provider` (OpenID Certified) on
//! Node.js, started as a child process on a free loopback port (`oidc/provider.mjs`, described
//! in `oidc/README.md`).
//!
//! It needs Node.js and oidc-provider installed by `.ci/oidc.sh` into `ANDON_OIDC_DEPS`
//! (default `/var/tmp/andon-oidc`). When either is missing, [`OidcProvider::start`] panics with a
//! message saying so: tests fail, they never skip.
//!
//! ```no_run
//! use andon_testkit::oidc::{OidcProvider, ProviderConfig};
//! use serde_json::json;
//!
//! let provider = OidcProvider::start(&ProviderConfig {
//!     ci_audiences: vec!["andon".into()],
//!     ..ProviderConfig::default()
//! });
//! let token = provider.ci_token(
//!     "andon",
//!     json!({"sub": "repo:acme/shop:ref:refs/heads/main", "repository": "acme/shop"}),
//!     "ES256",
//!     300,
//! );
//! # let _ = token;
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// The provider program.
const PROGRAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/oidc/provider.mjs");
/// How long the provider may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of the provider's stderr is kept for diagnostics.
const STDERR_KEPT: usize = 64 * 1024;

/// Where `.ci/oidc.sh` installs oidc-provider: `ANDON_OIDC_DEPS`, or `/var/tmp/andon-oidc`.
pub fn oidc_deps_dir() -> PathBuf {
    std::env::var_os("ANDON_OIDC_DEPS")
        .map_or_else(|| PathBuf::from("/var/tmp/andon-oidc"), PathBuf::from)
}

/// What the provider knows: its clients, its users and the audiences CI tokens can be issued
/// for. `oidc/README.md` describes each entry.
#[derive(Clone, Debug, Default)]
pub struct ProviderConfig {
    /// Relying parties for people's sign-in, e.g.
    /// `{"client_id": "andon-web", "client_secret": "s3cret", "redirect_uris": [...],
    /// "post_logout_redirect_uris": [...]}`; without `client_secret` a public client.
    pub clients: Vec<Value>,
    /// People who can sign in, e.g. `{"sub": "alice", "claims": {"email": ..., "groups": [...]}}`.
    pub users: Vec<Value>,
    /// The audiences [`OidcProvider::ci_token`] can issue tokens for.
    pub ci_audiences: Vec<String>,
}

impl ProviderConfig {
    /// The configuration as the provider program reads it (`OIDC_CONFIG`).
    pub fn to_json(&self) -> Value {
        json!({
            "clients": self.clients,
            "users": self.users,
            "ci_audiences": self.ci_audiences,
        })
    }
}

/// A real OpenID provider (oidc-provider on Node.js) on a free loopback port, stopped on drop.
pub struct OidcProvider {
    /// The issuer, `http://127.0.0.1:PORT` (no trailing slash); discovery is at
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    child: Child,
    /// Held open: the provider exits when it is closed.
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
    agent: ureq::Agent,
    /// The configured users' passwords, by sub (users without one accept any).
    passwords: BTreeMap<String, String>,
}

impl OidcProvider {
    /// Starts a provider with `config` and waits (up to 30 s) until it listens.
    ///
    /// Panics with a message naming `.ci/oidc.sh` when Node.js or oidc-provider is missing
    /// (tests must fail, never skip), and with the provider's stderr when it does not start.
    pub fn start(config: &ProviderConfig) -> Self {
        let deps = oidc_deps_dir();
        let package = deps.join("node_modules/oidc-provider/package.json");
        assert!(
            package.is_file(),
            "oidc-provider is not installed in {}: run `bash .ci/oidc.sh` (or set ANDON_OIDC_DEPS \
             to where it is installed)",
            deps.display()
        );
        let mut child = Command::new("node")
            .arg(PROGRAM)
            .env("OIDC_DEPS", &deps)
            .env("OIDC_CONFIG", config.to_json().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run Node.js (`node`), which the OpenID provider tests need: {e}. \
                     Run `bash .ci/oidc.sh` to install it and oidc-provider."
                )
            });

        // Both output pipes are drained for the child's whole life, so that it never blocks on
        // a full pipe; stderr is kept (up to a limit) for diagnostics.
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_thread = {
            let kept = Arc::clone(&stderr);
            let mut pipe = child.stderr.take().expect("piped stderr");
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut buf) {
                    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                    if kept.len() < STDERR_KEPT {
                        kept.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            })
        };
        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = ready_tx.send(lines.next());
            lines.for_each(drop);
        });

        let issuer = match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(Some(Ok(line))) => serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|v| v["issuer"].as_str().map(str::to_owned))
                .ok_or_else(|| format!("an unexpected first line on stdout: {line:?}")),
            Ok(Some(Err(e))) => Err(format!("reading its stdout failed: {e}")),
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err("it closed stdout without printing its issuer".to_owned())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "it printed no issuer within {} s",
                READY_TIMEOUT.as_secs()
            )),
        };
        let issuer = issuer.unwrap_or_else(|why| {
            let _ = child.kill();
            let status = child
                .wait()
                .map_or_else(|e| e.to_string(), |s| s.to_string());
            let _ = stderr_thread.join();
            let stderr = stderr.lock().unwrap_or_else(|e| e.into_inner());
            panic!(
                "the OpenID provider ({PROGRAM}) did not start: {why} ({status}). If Node.js \
                 or oidc-provider is missing, run `bash .ci/oidc.sh`. Its stderr:\n{stderr}"
            )
        });

        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let passwords = config
            .users
            .iter()
            .filter_map(|user| {
                let sub = user["sub"].as_str()?;
                let password = user["password"].as_str()?;
                Some((sub.to_owned(), password.to_owned()))
            })
            .collect();
        Self {
            issuer,
            stdin: child.stdin.take(),
            child,
            stderr,
            agent,
            passwords,
        }
    }

    /// A CI job's ID token, as GitHub Actions or GitLab issue them, from oidc-provider itself:
    /// `aud` = `audience` (one of the configured `ci_audiences`), `claims` (must include
    /// `"sub"`; must not set `iss`, `aud`, `exp`, `iat`, `nbf` or `jti`), signed with `alg`
    /// (`"RS256"`, `"ES256"` or `"EdDSA"`), valid for `ttl_secs` seconds (`exp` = `iat` + ttl).
    pub fn ci_token(&self, audience: &str, claims: Value, alg: &str, ttl_secs: u64) -> String {
        let body = json!({"audience": audience, "claims": claims, "alg": alg, "ttl": ttl_secs});
        let (status, reply) = self.request_json(
            "POST /test/ci-token",
            self.agent
                .post(format!("{}/test/ci-token", self.issuer))
                .send_json(&body),
        );
        match reply["id_token"].as_str() {
            Some(token) if status == 200 => token.to_owned(),
            _ => panic!("the OpenID provider refused a CI token ({status}): {reply}"),
        }
    }

    /// The provider's discovery document (`/.well-known/openid-configuration`).
    pub fn discovery(&self) -> Value {
        self.get_json(&format!("{}/.well-known/openid-configuration", self.issuer))
    }

    /// The provider's published JWKS (public keys), from the discovery document's `jwks_uri`.
    pub fn jwks(&self) -> Value {
        let discovery = self.discovery();
        let uri = discovery["jwks_uri"]
            .as_str()
            .unwrap_or_else(|| panic!("discovery has no jwks_uri: {discovery}"));
        self.get_json(uri)
    }

    /// What the provider has written on stderr so far (up to 64 KiB), for diagnostics.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Acts as the person at the provider for a device authorization: opens `verification_uri`,
    /// enters `user_code`, confirms it and signs in as `login` (a configured user's sub, with
    /// its configured password if it has one). Panics with what the provider answered when a
    /// step fails.
    pub fn approve_device(&self, verification_uri: &str, user_code: &str, login: &str) {
        let mut browser = Browser::new(&self.issuer);
        let what = format!("approving the device code {user_code} as {login}");
        let step = |method: &str, url: &str, reply: (u16, String, String), expected: u16| {
            let (status, location, body) = reply;
            assert!(
                status == expected,
                "{what}: {method} {url} answered {status} (expected {expected}), Location \
                 {location:?}:\n{body}\nThe provider's stderr:\n{}",
                self.stderr()
            );
            (location, body)
        };

        // The code entry form...
        let (_, html) = step("GET", verification_uri, browser.get(verification_uri), 200);
        let xsrf = attribute(&html, r#"name="xsrf""#, "value");
        // ...shows the confirmation for a known code...
        let entered = [("xsrf", xsrf.as_str()), ("user_code", user_code)];
        let reply = browser.post_form(verification_uri, &entered);
        let (_, html) = step("POST", verification_uri, reply, 200);
        assert!(
            html.contains(r#"id="user-code""#),
            "{what}: the provider did not confirm the code:\n{html}"
        );
        // ...which, confirmed, leads to the sign-in form...
        let confirmed = [entered[0], entered[1], ("confirm", "yes")];
        let reply = browser.post_form(verification_uri, &confirmed);
        let (login_page, _) = step("POST (confirm)", verification_uri, reply, 303);
        let (_, html) = step("GET", &login_page, browser.get(&login_page), 200);
        let action = browser.url(&attribute(&html, r#"<form id="login-form""#, "action"));
        let password = self.passwords.get(login).map_or("x", String::as_str);
        let reply = browser.post_form(&action, &[("login", login), ("password", password)]);
        let (resume, _) = step("POST", &action, reply, 303);
        // ...and then the device flow's own page says it is done.
        let (_, html) = step("GET", &resume, browser.get(&resume), 200);
        assert!(
            html.contains(r#"id="success""#),
            "{what}: the provider did not say the device is signed in:\n{html}"
        );
    }

    fn get_json(&self, url: &str) -> Value {
        let (status, value) = self.request_json(&format!("GET {url}"), self.agent.get(url).call());
        assert_eq!(status, 200, "GET {url}: {value}");
        value
    }

    /// The status and JSON body of a response; panics (with the provider's stderr) otherwise.
    fn request_json(
        &self,
        what: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> (u16, Value) {
        let mut response = response.unwrap_or_else(|e| {
            panic!(
                "{what} to the OpenID provider failed: {e}; its stderr:\n{}",
                self.stderr()
            )
        });
        let status = response.status().as_u16();
        let value = response
            .body_mut()
            .read_json::<Value>()
            .unwrap_or_else(|e| panic!("{what}: the OpenID provider's reply is not JSON: {e}"));
        (status, value)
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        // Closing stdin asks the provider to exit; killing makes sure of it.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- A plain HTTP client that follows no redirects and carries cookies by hand. ---------------

/// A cookie jar (by name, ignoring paths: one sign-in at a time) in front of an agent that
/// follows no redirects, for acting as a person's browser at the provider.
pub struct Browser {
    origin: String,
    agent: ureq::Agent,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A browser with no cookies; origin-relative URLs are taken relative to `origin` (e.g. the
    /// provider's issuer).
    pub fn new(origin: &str) -> Self {
        Self {
            origin: origin.to_owned(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into(),
            cookies: BTreeMap::new(),
        }
    }

    /// An absolute URL for a possibly origin-relative one.
    pub fn url(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.origin)
        } else {
            url.to_owned()
        }
    }

    /// GET: status, Location (absolute, or empty) and body.
    pub fn get(&mut self, url: &str) -> (u16, String, String) {
        let reply = self
            .agent
            .get(self.url(url))
            .header("cookie", self.cookie_header())
            .call();
        self.take(reply)
    }

    /// POST a form: status, Location (absolute, or empty) and body.
    pub fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let reply = self
            .agent
            .post(self.url(url))
            .header("cookie", self.cookie_header())
            .send_form(form.iter().copied());
        self.take(reply)
    }

    fn cookie_header(&self) -> String {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join("; ")
    }

    fn take(
        &mut self,
        reply: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> (u16, String, String) {
        let mut reply = reply.expect("request to the provider");
        for set in reply.headers().get_all("set-cookie") {
            let set = set.to_str().expect("an ASCII Set-Cookie");
            let pair = set.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("name=value");
            self.cookies.insert(name.to_owned(), value.to_owned());
        }
        let location = reply
            .headers()
            .get("location")
            .map(|l| self.url(l.to_str().expect("an ASCII Location")))
            .unwrap_or_default();
        let body = reply.body_mut().read_to_string().unwrap_or_default();
        (reply.status().as_u16(), location, body)
    }
}

/// The value of `attr` in the first tag of `html` that contains `marker` (`&amp;` decoded);
/// panics with the page when there is none.
pub fn attribute(html: &str, marker: &str, attr: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {html}"));
    let start = html[..=at].rfind('<').expect("a tag");
    let tag = &html[start..start + html[start..].find('>').expect("a closed tag")];
    let value = tag
        .split(&format!(r#"{attr}=""#))
        .nth(1)
        .unwrap_or_else(|| panic!("no {attr} in {tag}"));
    value[..value.find('"').expect("a closing quote")].replace("&amp;", "&")
}
