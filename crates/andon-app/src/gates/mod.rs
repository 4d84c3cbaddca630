//! Release gates: policies, decisions, waivers and the Risk Control Matrix.

pub mod policies;
