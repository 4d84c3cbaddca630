//! Queries: Policies, waivers and the Risk Control Matrix.
