//! Workloads, each a name and the image (by digest) it runs, from what `env report` reads:
//! a plain list, a directory of deployed files, or a Kubernetes `PodList`.

use std::path::Path;

use andon_domain::access::Workload;
use anyhow::{Context as _, bail};
use serde_json::Value;

/// Workloads from a directory of deployed files: `<relative path>` running
/// `<name>@sha256:<digest of the bytes>`, named by `prefix/<relative path>`.
pub fn workloads_from_dir(dir: &Path, prefix: &str) -> anyhow::Result<Vec<Workload>> {
    use sha2::Digest as _;
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let e = e?;
            let t = e.file_type()?;
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                files.push(e.path());
            }
        }
    }
    files.sort();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
        let rel = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
        out.push(Workload {
            name: rel.clone(),
            image: format!(
                "{prefix}/{rel}@sha256:{}",
                hex::encode(sha2::Sha256::digest(&bytes))
            ),
        });
    }
    Ok(out)
}

/// Workloads from a plain list: `name image` per line, `#` comments.
pub fn workloads_from_list(text: &str) -> anyhow::Result<Vec<Workload>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(image), None) => out.push(Workload {
                name: name.to_owned(),
                image: image.to_owned(),
            }),
            _ => bail!("line {}: expected `name image@sha256:<hex>`", i + 1),
        }
    }
    Ok(out)
}

/// Workloads from `kubectl get pods -o json`: each running container, by its image
/// repository and the digest of `imageID` (what actually runs, whatever tag was asked for).
pub fn workloads_from_pods(json: &str) -> anyhow::Result<Vec<Workload>> {
    let v: Value = serde_json::from_str(json).context("not JSON from kubectl get pods -o json")?;
    workloads_from_pod_list(&v)
}

/// Workloads from a `PodList` (the API's answer, or kubectl's).
pub fn workloads_from_pod_list(v: &Value) -> anyhow::Result<Vec<Workload>> {
    let items = v["items"]
        .as_array()
        .context("no `items`: expected a kubectl PodList")?;
    let mut out = Vec::new();
    for pod in items {
        let pod_name = pod["metadata"]["name"].as_str().unwrap_or("pod");
        for status in pod["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let image_id = status["imageID"].as_str().unwrap_or("");
            let Some((_, digest)) = image_id.rsplit_once("@sha256:") else {
                continue;
            };
            let image = status["image"].as_str().unwrap_or("unknown");
            let repository = image.split('@').next().unwrap_or(image);
            let repository = match repository.rsplit_once(':') {
                Some((r, tag)) if !tag.contains('/') => r,
                _ => repository,
            };
            out.push(Workload {
                name: format!(
                    "{pod_name}/{}",
                    status["name"].as_str().unwrap_or("container")
                ),
                image: format!("{repository}@sha256:{digest}"),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::commands::env::workloads::{
        workloads_from_dir, workloads_from_list, workloads_from_pods,
    };

    #[test]
    fn pods_give_what_actually_runs() {
        let pods = r#"{"apiVersion":"v1","kind":"List","items":[
          {"metadata":{"name":"pay-7d9f-abc"},"status":{"containerStatuses":[
            {"name":"pay","image":"registry.example.com/pay:1.4.2",
             "imageID":"registry.example.com/pay@sha256:1111111111111111111111111111111111111111111111111111111111111111"},
            {"name":"proxy","image":"docker.io/envoyproxy/envoy:v1.30.1",
             "imageID":"docker-pullable://envoyproxy/envoy@sha256:2222222222222222222222222222222222222222222222222222222222222222"},
            {"name":"starting","image":"busybox","imageID":""}]}}]}"#;
        let w = workloads_from_pods(pods).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].name, "pay-7d9f-abc/pay");
        assert_eq!(
            w[0].image,
            "registry.example.com/pay@sha256:1111111111111111111111111111111111111111111111111111111111111111"
        );
        assert_eq!(
            w[1].image,
            "docker.io/envoyproxy/envoy@sha256:2222222222222222222222222222222222222222222222222222222222222222"
        );
    }

    #[test]
    fn a_directory_reports_each_file_by_its_digest() {
        let dir = std::env::temp_dir().join(format!("andon-dir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("bin/pay"), b"binary").unwrap();
        std::fs::write(dir.join("pay.conf"), b"conf").unwrap();
        let w = workloads_from_dir(&dir, "pay").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].name, "bin/pay");
        assert_eq!(
            w[0].image,
            "pay/bin/pay@sha256:9a3a45d01531a20e89ac6ae10b0b0beb0492acd7216a368aa062d1a5fecaf9cd"
        );
    }

    #[test]
    fn a_plain_list_reads_name_and_image() {
        let w =
            workloads_from_list("# host a\nweb registry.example.com/pay@sha256:ab\n\n").unwrap();
        assert_eq!(w.len(), 1);
        assert!(workloads_from_list("web").is_err());
    }
}
