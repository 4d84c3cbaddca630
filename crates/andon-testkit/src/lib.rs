//! Test support: a throwaway database per test, on SQLite or PostgreSQL.
//!
//! PostgreSQL tests use `ANDON_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) to create a fresh database per test and drop it
//! afterwards. When PostgreSQL is unreachable they fail with a message saying so: they never
//! skip.

use std::path::PathBuf;

use sqlx::Connection as _;

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the machine's PostgreSQL.
    Postgres,
}

/// The PostgreSQL URL tests create their databases from.
pub fn postgres_admin_url() -> String {
    std::env::var("ANDON_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database that exists for one test.
pub struct TestDb {
    /// The URL to give Andon.
    pub url: String,
    /// The backend.
    pub backend: Backend,
    dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    /// Creates a fresh, empty database (blocking; callable from sync and async tests).
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", dir.path().join("andon.db").display()),
                backend,
                dir,
                pg_name: None,
            },
            Backend::Postgres => {
                let mut rnd = [0u8; 8];
                getrandom::fill(&mut rnd).expect("randomness");
                let name = format!("andon_t_{}", hex::encode(rnd));
                let admin = postgres_admin_url();
                let (admin2, name2) = (admin.clone(), name.clone());
                run_blocking(async move {
                    let (admin, name) = (admin2, name2);
                    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL is required for this test and is unreachable at {admin}: {e}. \
                             Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) \
                             or set ANDON_TEST_POSTGRES_URL."
                        )
                    });
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut c)
                        .await
                        .expect("create test database");
                });
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(b, _)| b)
                    .to_owned();
                Self {
                    url: format!("{base}/{name}"),
                    backend,
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// A scratch directory that lives as long as the database.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let admin = postgres_admin_url();
            run_blocking(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        }
    }
}

fn run_blocking<F: std::future::Future<Output = ()> + Send + 'static>(f: F) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// Defines each listed test twice, `sqlite::name` and `postgres::name`, calling
/// `name(Backend)`. A storage behaviour is never tested on one backend only.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name($crate::Backend::Postgres) } )*
        }
    };
}
