//! The pallet's invariants, checked after every test and by `try-runtime`.

use crate::{pallet::*, BalanceOf, JobStatus};
use aicchain_primitives::NodeId;
use alloc::vec::Vec;
use frame_support::{ensure, traits::fungible::InspectHold};
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// - each account's held `JobEscrow` equals the budgets of its open jobs;
	/// - every open job is queued at its deadline, and every queued job is open and due there
	///   (a stage that ended early freed its slot); no job id at or above `NextJobId`;
	/// - each node's running jobs and GPUs are exactly those of the open jobs assigned to it,
	///   and every assigned job has its matched terms;
	/// - proposals exist only for pending jobs, attestations only for submitted results;
	/// - a job is settled exactly when it has a receipt, whose cost splits exactly.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut escrow: Vec<(T::AccountId, BalanceOf<T>)> = Vec::new();
		let mut running: Vec<(NodeId, u32, u32)> = Vec::new();
		for (job_id, job) in Jobs::<T>::iter() {
			ensure!(job_id < NextJobId::<T>::get(), "job id at or above NextJobId");
			if job.status.is_open() {
				ensure!(
					Deadlines::<T>::get(job.deadline).contains(&job_id),
					"open job missing from its deadline queue"
				);
				match escrow.iter_mut().find(|(who, _)| *who == job.owner) {
					Some((_, sum)) => *sum = sum.saturating_add(job.budget),
					None => escrow.push((job.owner.clone(), job.budget)),
				}
			}
			if let JobStatus::Assigned { node, .. } | JobStatus::ResultSubmitted { node, .. } =
				job.status
			{
				ensure!(job.terms.is_some(), "assigned job without matched terms");
				let gpus = job.requirements.gpus;
				match running.iter_mut().find(|(n, _, _)| *n == node) {
					Some((_, jobs, sum)) => {
						*jobs = jobs.saturating_add(1);
						*sum = sum.saturating_add(gpus);
					},
					None => running.push((node, 1, gpus)),
				}
			}
			let settled = matches!(job.status, JobStatus::Settled { .. });
			ensure!(settled == Receipts::<T>::contains_key(job_id), "receipt mismatch");
		}
		for (block, queue) in Deadlines::<T>::iter() {
			for job_id in queue {
				let job = Jobs::<T>::get(job_id).ok_or("queued job does not exist")?;
				ensure!(job.status.is_open(), "finished job still holds a deadline slot");
				ensure!(job.deadline == block, "job queued at a block that is not its deadline");
			}
		}
		for (node_id, node) in pallet_compute_registry::Nodes::<T>::iter() {
			let (jobs, gpus) = running
				.iter()
				.find(|(n, _, _)| *n == node_id)
				.map(|(_, j, g)| (*j, *g))
				.unwrap_or((0, 0));
			ensure!(
				node.active_jobs == jobs && node.active_gpus == gpus,
				"node's running jobs or GPUs differ from its open jobs"
			);
		}
		for (who, sum) in escrow.iter() {
			ensure!(
				<T as Config>::Currency::balance_on_hold(&HoldReason::JobEscrow.into(), who)
					== *sum,
				"held JobEscrow differs from the open budgets"
			);
		}
		for (job_id, _) in Proposals::<T>::iter() {
			let pending = Jobs::<T>::get(job_id).map(|j| j.status == JobStatus::Pending);
			ensure!(pending == Some(true), "proposals for a job that is not pending");
		}
		for (job_id, _) in Attestations::<T>::iter() {
			let awaiting = Jobs::<T>::get(job_id)
				.map(|j| matches!(j.status, JobStatus::ResultSubmitted { .. }));
			ensure!(awaiting == Some(true), "attestations for a job not awaiting them");
		}
		for (_, receipt) in Receipts::<T>::iter() {
			ensure!(
				receipt.provider_amount.saturating_add(receipt.fund_amount) == receipt.cost,
				"receipt split does not add up to the cost"
			);
			ensure!(
				receipt.user_paid.saturating_add(receipt.subsidy) == receipt.cost,
				"user payment and subsidy do not add up to the cost"
			);
		}
		Ok(())
	}
}
