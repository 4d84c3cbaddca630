//! Admission (docs/admission.md): a Kubernetes validating admission webhook. A registered
//! cluster's API server asks before a pod, or a workload with a pod template, is created or
//! changed; Andon admits each new container image only when it is pinned by digest and the
//! latest gate decision for it in the cluster's environment allows it and is recent enough.
//! `enforce` refuses the rest, `audit` admits them with a warning; both record each refusal
//! as a ledger entry and raise an alert.

pub mod cache;
pub mod clusters;
pub mod review;
pub mod webhook;
