//! Admission: the clusters whose API servers ask Andon, and what was refused.

use andon_domain::admission::{AdmissionEvent, Cluster, ClusterInput};

use crate::{Client, ClientError};

impl Client {
    /// Registers a cluster for admission or changes it (admin); the answer carries the
    /// cluster's token when one was issued.
    pub fn set_admission_cluster(
        &self,
        name: &str,
        input: &ClusterInput,
    ) -> Result<Cluster, ClientError> {
        self.put_json(&format!("/v1/admission/clusters/{name}"), input)
    }

    /// The registered clusters.
    pub fn admission_clusters(&self) -> Result<Vec<Cluster>, ClientError> {
        self.get("/v1/admission/clusters", &[])
    }

    /// Workloads refused at admission (or that audit mode would refuse), newest first.
    pub fn admission_events(
        &self,
        cluster: Option<&str>,
    ) -> Result<Vec<AdmissionEvent>, ClientError> {
        let q: Vec<(&str, String)> = cluster
            .map(|c| ("cluster", c.to_owned()))
            .into_iter()
            .collect();
        self.get("/v1/admission/events", &q)
    }

    /// Sends an `AdmissionReview` as the cluster's API server does: this client's token
    /// must be the cluster's. Answers the review Andon sends back.
    pub fn admission_review(
        &self,
        cluster: &str,
        review: &[u8],
    ) -> Result<serde_json::Value, ClientError> {
        self.post(&format!("/k8s/admission/v1/{cluster}"), &[], review)
    }
}
