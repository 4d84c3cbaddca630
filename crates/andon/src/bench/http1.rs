//! A load generator's connections: one HTTP/1.1 connection per simulated client, every
//! client a task on one thread, so that what a benchmark offers costs the cores it shares
//! with the server as little as it can (a blocking client per OS thread spent a fifth of
//! the machine switching between them).

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// One keep-alive connection to a server over plain HTTP (benchmark servers listen on
/// loopback), with the token every request carries.
pub(crate) struct Conn {
    sender: SendRequest<Full<Bytes>>,
    authority: String,
    authorization: Option<String>,
}

/// A server's `host:port` from its base URL (`http://host:port`, no path).
fn authority(base: &str) -> anyhow::Result<&str> {
    let rest = base.strip_prefix("http://").with_context(|| {
        format!("the load generator speaks plain HTTP to a loopback server, not {base}")
    })?;
    Ok(rest.split('/').next().unwrap_or(rest))
}

impl Conn {
    /// Connects to the server at `base`; `token` goes in each request's `Authorization`.
    pub(crate) async fn open(base: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let authority = authority(base)?.to_owned();
        let stream = tokio::net::TcpStream::connect(&authority)
            .await
            .with_context(|| format!("connecting to {authority}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake")?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            authority,
            authorization: token.map(|t| format!("Bearer {t}")),
        })
    }

    /// POSTs a JSON `body` to `path_and_query`: the answer's status and body.
    pub(crate) async fn post(
        &mut self,
        path_and_query: &str,
        body: Bytes,
    ) -> anyhow::Result<(u16, Bytes)> {
        let mut req = hyper::Request::post(path_and_query)
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::CONTENT_TYPE, "application/json");
        if let Some(a) = &self.authorization {
            req = req.header(hyper::header::AUTHORIZATION, a);
        }
        self.sender.ready().await.context("the connection closed")?;
        let answer = self.sender.send_request(req.body(Full::new(body))?).await?;
        let status = answer.status().as_u16();
        let body = answer.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

#[cfg(test)]
mod tests {
    use super::authority;

    #[test]
    fn only_plain_http_base_urls_name_a_server() {
        assert_eq!(
            authority("http://127.0.0.1:8080").expect("plain"),
            "127.0.0.1:8080"
        );
        assert_eq!(
            authority("http://127.0.0.1:8080/").expect("slash"),
            "127.0.0.1:8080"
        );
        let e = authority("https://andon.example").expect_err("TLS");
        assert!(e.to_string().contains("plain HTTP"), "{e}");
    }
}
