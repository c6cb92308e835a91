//! The off-chain worker's part of federated jobs: a member's worker trains and commits its
//! update of each round; a validator's worker judges each round and signs its verdict.

use super::{Action, EngineError, Progress, LOG_TARGET};
use crate::{pallet::*, FederationOf, FederationStage, ValidatorWorkers};
use aicchain_primitives::{
	engine_api::{EngineRequest, EngineResponse, PreviousRound, TaskStatus, UpdateSource},
	JobId, NodeId,
};
use alloc::vec::Vec;
use codec::Encode;
use frame_system::pallet_prelude::BlockNumberFor;

impl<T: Config> Pallet<T> {
	/// Does what this node's keys owe the stored federated jobs. `Err` when the engine is
	/// unreachable.
	pub(super) fn federated_work(
		now: BlockNumberFor<T>,
		accounts: &[T::AccountId],
		validator: &Option<T::AccountId>,
		left: &mut u32,
	) -> Result<Progress, EngineError> {
		let mut progress = Progress::Idle;
		for federation in FederationIds::<T>::get() {
			let Some(job) = Federations::<T>::get(federation) else { continue };
			let step = match (job.stage, validator) {
				(FederationStage::Training, _) => {
					Self::train_updates(now, federation, &job, accounts, left)?
				},
				(FederationStage::Aggregating, Some(v)) => {
					Self::judge_round(now, federation, &job, v, left)?
				},
				_ => Progress::Idle,
			};
			if step == Progress::Working {
				progress = Progress::Working;
			}
		}
		Ok(progress)
	}

	/// The claim id of a member's (or, with index `u8::MAX`, a validator's) action in a round.
	fn round_claim(federation: JobId, round: u8, index: u8) -> u64 {
		federation.saturating_mul(1 << 16) | (u64::from(round) << 8) | u64::from(index)
	}

	fn engine_url(node: NodeId) -> Option<Vec<u8>> {
		pallet_compute_registry::EngineUrls::<T>::get(node).map(|url| url.into_inner())
	}

	fn train_updates(
		now: BlockNumberFor<T>,
		federation: JobId,
		job: &FederationOf<T>,
		accounts: &[T::AccountId],
		left: &mut u32,
	) -> Result<Progress, EngineError> {
		let Some(spec) = job.requirements.training.clone() else { return Ok(Progress::Idle) };
		let previous = job.previous.as_ref().map(|(aggregate, kept)| PreviousRound {
			aggregate: *aggregate,
			kept: kept
				.iter()
				.filter_map(|(index, update)| {
					let member = job.members.get(usize::from(*index))?;
					Some(UpdateSource {
						index: *index,
						update: *update,
						engine: Self::engine_url(member.node),
					})
				})
				.collect(),
		});
		let mut progress = Progress::Idle;
		for (index, member) in job.active() {
			if member.update.is_some() || *left == 0 {
				continue;
			}
			// Only a key that accepted the binding works for the node.
			let worker = pallet_compute_registry::Nodes::<T>::get(member.node)
				.filter(|n| n.worker_bound && accounts.contains(&n.worker))
				.map(|n| n.worker);
			let Some(worker) = worker else { continue };
			let index = u8::try_from(index).unwrap_or(u8::MAX);
			let request = EngineRequest::FederatedUpdate {
				federation,
				round: job.round,
				spec: spec.clone(),
				federated: job.federated,
				index,
				worker: worker.encode(),
				previous: previous.clone(),
			};
			let claim = Self::round_claim(federation, job.round, index);
			match Self::call_engine(&request)? {
				EngineResponse::Task(TaskStatus::Updated { update })
					if Self::may_act(Action::Update, claim, now) =>
				{
					let call = Call::<T>::submit_update { federation, round: job.round, update };
					Self::send(Action::Update, claim, &worker, call, left);
				},
				EngineResponse::Task(TaskStatus::Queued | TaskStatus::Running) => {
					progress = Progress::Working;
				},
				EngineResponse::Task(TaskStatus::Failed(reason)) => {
					log::warn!(
						target: LOG_TARGET,
						"federated job {federation} round {}: no update: {}",
						job.round,
						alloc::string::String::from_utf8_lossy(&reason)
					);
				},
				_ => {},
			}
		}
		Ok(progress)
	}

	fn judge_round(
		now: BlockNumberFor<T>,
		federation: JobId,
		job: &FederationOf<T>,
		validator: &T::AccountId,
		left: &mut u32,
	) -> Result<Progress, EngineError> {
		let voted = RoundVotes::<T>::get(federation).iter().any(|(v, _, _)| v == validator);
		if voted || *left == 0 || !T::Validators::is_validator_worker(validator) {
			return Ok(Progress::Idle);
		}
		let Some(spec) = job.requirements.training.clone() else { return Ok(Progress::Idle) };
		let updates: Vec<UpdateSource> = job
			.active()
			.filter_map(|(index, member)| {
				Some(UpdateSource {
					index: u8::try_from(index).ok()?,
					update: member.update?,
					engine: Self::engine_url(member.node),
				})
			})
			.collect();
		let request = EngineRequest::FederatedAggregate {
			federation,
			round: job.round,
			spec,
			federated: job.federated,
			updates,
		};
		let claim = Self::round_claim(federation, job.round, u8::MAX);
		match Self::call_engine(&request)? {
			EngineResponse::Task(TaskStatus::Aggregated { verdict, metrics })
				if Self::may_act(Action::Aggregate, claim, now) =>
			{
				let call =
					Call::<T>::attest_round { federation, round: job.round, verdict, metrics };
				Self::send(Action::Aggregate, claim, validator, call, left);
			},
			EngineResponse::Task(TaskStatus::Queued | TaskStatus::Running) => {
				return Ok(Progress::Working)
			},
			EngineResponse::Task(TaskStatus::Failed(reason)) => {
				log::warn!(
					target: LOG_TARGET,
					"federated job {federation} round {}: cannot judge: {}",
					job.round,
					alloc::string::String::from_utf8_lossy(&reason)
				);
			},
			_ => {},
		}
		Ok(Progress::Idle)
	}
}
