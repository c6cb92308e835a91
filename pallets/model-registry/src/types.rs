//! A model and its versions as the registry stores them (the types live in
//! `aicchain-primitives`, where engines decode them too).

pub use aicchain_primitives::{Model, ModelVersion};
