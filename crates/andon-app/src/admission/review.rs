//! An `AdmissionReview` (admission.k8s.io/v1) as the Kubernetes API server sends it, read
//! to what Andon judges: the object's containers and their images. Pure.

use andon_domain::admission::BREAK_GLASS_ANNOTATION;
use serde_json::{Value, json};

/// What Andon reads of a review.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Review {
    /// `request.uid`, echoed in the answer.
    pub uid: String,
    /// The object's kind (`Pod`, `Deployment`, ...).
    pub kind: String,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    /// The object's namespace.
    pub namespace: String,
    /// Its name (may be empty: a pod named by `generateName`).
    pub name: String,
    /// Who asked the API server.
    pub user: String,
    /// The API server will not persist the object: nothing is recorded.
    pub dry_run: bool,
    /// (container, image) of every container, init container and ephemeral container that
    /// is new: on UPDATE, those whose image the old object did not run.
    pub images: Vec<(String, String)>,
    /// The break-glass grant the object's annotation names (on the object, or on its pod
    /// template: pods created from a template inherit only the template's annotations).
    pub break_glass: Option<String>,
}

/// A review that does not read, with its uid when it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// `request.uid`, or empty.
    pub uid: String,
    /// Why.
    pub why: String,
}

/// The kinds judged and where each keeps its pod template (the pod itself for a Pod).
fn template<'a>(kind: &str, object: &'a Value) -> Option<&'a Value> {
    let spec = &object["spec"];
    let found = match kind {
        "Pod" => object,
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => &spec["template"],
        "CronJob" => &spec["jobTemplate"]["spec"]["template"],
        _ => return None,
    };
    found.is_object().then_some(found)
}

/// The pod spec of a kind judged.
fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<&'a Value> {
    template(kind, object)
        .map(|t| &t["spec"])
        .filter(|s| s.is_object())
}

/// (container, image) of a pod spec, in the order the spec lists them.
fn containers(spec: &Value) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for field in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(list) = spec.get(field) else {
            continue;
        };
        let list = list
            .as_array()
            .ok_or_else(|| format!("{field} is not a list"))?;
        for c in list {
            let name = c["name"].as_str().unwrap_or_default().to_owned();
            let image = c["image"]
                .as_str()
                .ok_or_else(|| format!("container {name:?} has no image"))?;
            out.push((name, image.to_owned()));
        }
    }
    if out.is_empty() {
        return Err("the pod spec has no containers".into());
    }
    Ok(out)
}

/// Reads a review's body.
pub fn read(body: &[u8]) -> Result<Review, Malformed> {
    let bad = |uid: &str, why: &str| Malformed {
        uid: uid.to_owned(),
        why: why.to_owned(),
    };
    let v: Value = serde_json::from_slice(body).map_err(|e| bad("", &format!("not JSON: {e}")))?;
    let request = &v["request"];
    let uid = request["uid"].as_str().unwrap_or_default();
    if v["apiVersion"] != "admission.k8s.io/v1" || v["kind"] != "AdmissionReview" {
        return Err(bad(
            uid,
            "not an admission.k8s.io/v1 AdmissionReview (admissionReviewVersions: [v1])",
        ));
    }
    if !request.is_object() || uid.is_empty() {
        return Err(bad(uid, "the review has no request with a uid"));
    }
    let kind = request["kind"]["kind"].as_str().unwrap_or_default();
    let operation = request["operation"].as_str().unwrap_or_default();
    let mut review = Review {
        uid: uid.to_owned(),
        kind: kind.to_owned(),
        operation: operation.to_owned(),
        namespace: request["namespace"].as_str().unwrap_or_default().to_owned(),
        name: request["name"]
            .as_str()
            .or(request["object"]["metadata"]["name"].as_str())
            .unwrap_or_default()
            .to_owned(),
        user: request["userInfo"]["username"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        dry_run: request["dryRun"].as_bool().unwrap_or(false),
        images: Vec::new(),
        break_glass: None,
    };
    // Deleting or connecting starts nothing.
    if !matches!(operation, "CREATE" | "UPDATE") {
        return Ok(review);
    }
    let spec = pod_spec(kind, &request["object"]).ok_or_else(|| {
        bad(
            uid,
            &format!("no pod spec in the {kind:?} object: Andon judges pods and the workloads with pod templates"),
        )
    })?;
    let all = containers(spec).map_err(|why| bad(uid, &why))?;
    let old: Vec<String> = pod_spec(kind, &request["oldObject"])
        .and_then(|s| containers(s).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|(_, image)| image)
        .collect();
    review.images = all
        .into_iter()
        .filter(|(_, image)| !old.contains(image))
        .collect();
    let object = &request["object"];
    review.break_glass = [
        Some(object),
        template(kind, object).filter(|_| kind != "Pod"),
    ]
    .into_iter()
    .flatten()
    .find_map(|o| o["metadata"]["annotations"][BREAK_GLASS_ANNOTATION].as_str())
    .map(|s| s.trim().to_owned());
    Ok(review)
}

/// The `sha256:<hex>` an image reference is pinned to: `name@sha256:<64 hex>`, a tag
/// allowed before it.
pub fn pinned(image: &str) -> Option<String> {
    let (_, digest) = image.rsplit_once('@')?;
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// The `AdmissionReview` answering `uid`.
pub fn answer(uid: &str, allowed: bool, code: u16, message: &str, warnings: &[String]) -> Value {
    let mut response = json!({"uid": uid, "allowed": allowed});
    if !allowed {
        response["status"] = json!({
            "code": code,
            "reason": if code == 400 { "BadRequest" } else { "Forbidden" },
            "message": message,
        });
    }
    if !warnings.is_empty() {
        response["warnings"] = json!(warnings);
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_is_pinned_only_by_a_full_sha256_digest() {
        let hex = "a".repeat(64);
        assert_eq!(
            pinned(&format!("registry.example.com/shop@sha256:{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            pinned(&format!("host:5000/shop:1.4@sha256:{}", hex.to_uppercase())),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(pinned("registry.example.com/shop:1.4"), None);
        assert_eq!(pinned("shop@sha256:abc"), None);
        assert_eq!(pinned(&format!("shop@sha512:{hex}{hex}")), None);
    }

    #[test]
    fn a_review_without_a_request_or_of_another_version_is_malformed() {
        for (body, uid, says) in [
            (&b"{"[..], "", "not JSON"),
            (br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u1"}}"#, "u1", "admission.k8s.io/v1"),
            (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, "", "no request"),
            (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u2","kind":{"kind":"ConfigMap"},"operation":"CREATE","object":{}}}"#, "u2", "no pod spec"),
            (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u3","kind":{"kind":"Pod"},"operation":"CREATE","object":{"spec":{"containers":[{"name":"a"}]}}}}"#, "u3", "has no image"),
        ] {
            let e = read(body).unwrap_err();
            assert_eq!(e.uid, uid);
            assert!(e.why.contains(says), "{}", e.why);
        }
    }

    #[test]
    fn an_update_judges_only_the_images_it_brings() {
        let body = json!({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
            "uid":"u","kind":{"kind":"Deployment"},"operation":"UPDATE","namespace":"shop","name":"web",
            "object":{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"web:2"},{"name":"proxy","image":"proxy:1"}]}}}},
            "oldObject":{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"web:1"},{"name":"proxy","image":"proxy:1"}]}}}}}});
        let r = read(body.to_string().as_bytes()).expect("reads");
        assert_eq!(r.images, [("web".to_owned(), "web:2".to_owned())]);
        assert_eq!((r.namespace.as_str(), r.name.as_str()), ("shop", "web"));
    }
}
