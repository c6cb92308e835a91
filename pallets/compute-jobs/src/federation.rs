//! Federated training jobs on chain: matching `n` members, their update commitments, the
//! validators' verdict on each round, exclusion (slash) and payment by kept rounds.
//!
//! A federated job is submitted with its members chosen at once: the eligible nodes with room,
//! of distinct owners, cheapest by the fallback's score, each holding a job slot until the end.
//! Every round, each member's worker commits the hash of its update (`submit_update`); when all
//! have, or the round's window ends (members without an update are excluded as missing), the
//! validators' engines fetch the updates, exclude outliers and aggregate the rest. A verdict
//! (aggregate hash and exclusions) that a majority of the validator set signs (`attest_round`)
//! closes the round: excluded members are slashed `SlashOnFailure` of their bond and leave the
//! job, the others' kept rounds count one more, and the aggregate is the next round's global
//! model. After the last round each member still in is paid its cost × kept rounds / rounds (90/10 with
//! the fund, AICG against what the fund keeps), the rest of the budget is refunded, and the
//! final aggregate is recorded as a model version. A round that no verdict reaches a majority
//! for ends the job: the rounds agreed are paid, nobody is slashed.

use crate::{pallet::*, BalanceOf, FederationOf, ValidatorWorkers, WeightInfo};
use aicchain_primitives::{
	federation::{
		Federation, FederationStage, Member, MAX_FEDERATION_PROVIDERS, MIN_FEDERATION_PROVIDERS,
	},
	ContributionRewards, FederationSpec, JobId, JobRequirements, ModelKind, NodeId,
	QuantisedMetrics, RoundVerdict, VerifiedModels, VerifiedTraining,
};
use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::*,
	storage,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_compute_registry::Pallet as Registry;
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedAdd, Saturating, Zero},
	Perbill,
};

type Members<T> = BoundedVec<
	Member<<T as frame_system::Config>::AccountId, BalanceOf<T>>,
	ConstU32<MAX_FEDERATION_PROVIDERS>,
>;

/// Budgets held per owner.
type Escrows<T> = Vec<(<T as frame_system::Config>::AccountId, BalanceOf<T>)>;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_submit_federated(
		who: T::AccountId,
		requirements: JobRequirements,
		federated: FederationSpec,
		budget: BalanceOf<T>,
	) -> DispatchResult {
		Self::ensure_valid_requirements(&requirements)?;
		let spec = requirements.training.as_ref().ok_or(Error::<T>::NoTrainingSpec)?;
		ensure!(
			matches!(spec.model, ModelKind::MlpClassifier | ModelKind::MlpRegressor)
				&& spec.parent.is_none(),
			Error::<T>::FederationModelUnsupported
		);
		Self::ensure_dataset_usable(&who, spec.dataset)?;
		let providers = u32::from(federated.providers);
		ensure!(
			(MIN_FEDERATION_PROVIDERS..=T::MaxFederationProviders::get()).contains(&providers)
				&& (1..=T::MaxFederationRounds::get()).contains(&u32::from(federated.rounds)),
			Error::<T>::FederationOutOfRange
		);
		ensure!(budget >= T::MinJobBudget::get(), Error::<T>::BudgetBelowMinimum);
		let mut ids = FederationIds::<T>::get();
		let federation = NextJobId::<T>::get();
		ids.try_push(federation).map_err(|_| Error::<T>::TooManyFederations)?;
		let now = frame_system::Pallet::<T>::block_number();
		let members = Self::federation_members(federation, &requirements, providers, now)?;
		let total = members
			.iter()
			.try_fold(BalanceOf::<T>::zero(), |sum, m| sum.checked_add(&m.cost))
			.ok_or(Error::<T>::PriceAboveBudget)?;
		ensure!(total <= budget, Error::<T>::PriceAboveBudget);
		<T as Config>::Currency::hold(&HoldReason::JobEscrow.into(), &who, budget)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		for member in members.iter() {
			Registry::<T>::reserve_slot(member.node, requirements.gpus)?;
		}
		Self::count_dataset_job(requirements.training.as_ref(), true);
		let requirements_deadline = (requirements.gpu_hours, federated.rounds);
		let nodes: BoundedVec<NodeId, ConstU32<MAX_FEDERATION_PROVIDERS>> =
			BoundedVec::truncate_from(members.iter().map(|m| m.node).collect());
		Federations::<T>::insert(
			federation,
			Federation {
				owner: who.clone(),
				requirements,
				federated,
				budget,
				members,
				round: 0,
				stage: FederationStage::Training,
				deadline: Self::round_deadline(&requirements_deadline, now),
				submitted_at: now,
				previous: None,
				metrics: None,
			},
		);
		FederationIds::<T>::put(ids);
		NextJobId::<T>::put(federation.saturating_add(1));
		FederationCount::<T>::mutate(|count| *count = count.saturating_add(1));
		Self::deposit_event(Event::FederationSubmitted { federation, who, budget, members: nodes });
		Ok(())
	}

	/// `providers` members for a federated job: of the job's candidate sample, the eligible
	/// nodes with room, lowest fallback score first (ties: the lower id), one per owner.
	fn federation_members(
		federation: JobId,
		req: &JobRequirements,
		providers: u32,
		now: BlockNumberFor<T>,
	) -> Result<Members<T>, DispatchError> {
		let sample = Registry::<T>::candidates_from(
			req.gpus,
			T::MaxFallbackCandidates::get(),
			Self::sample_offset(federation),
		);
		let mut ranked: Vec<(u128, NodeId, pallet_compute_registry::NodeInfoOf<T>)> = sample
			.into_iter()
			.filter_map(|id| {
				let node = Registry::<T>::check_eligible(id, req, now).ok()?;
				Some((Self::fallback_score(&node, req), id, node))
			})
			.collect();
		ranked.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
		let mut members = Members::<T>::new();
		for (_, node_id, node) in ranked {
			if members.len() >= providers as usize {
				break;
			}
			if members.iter().any(|m| m.provider == node.owner) {
				continue;
			}
			let cost = Self::job_cost(node.spec.price_per_gpu_hour, req)
				.ok_or(Error::<T>::PriceAboveBudget)?;
			let member = Member {
				node: node_id,
				provider: node.owner,
				worker: node.worker,
				cost,
				update: None,
				rounds: 0,
				excluded: false,
			};
			members.try_push(member).map_err(|_| Error::<T>::FederationOutOfRange)?;
		}
		ensure!(members.len() == providers as usize, Error::<T>::NotEnoughProviders);
		Ok(members)
	}

	pub(crate) fn do_submit_update(
		who: T::AccountId,
		federation: JobId,
		round: u8,
		update: H256,
	) -> DispatchResult {
		let mut job = Federations::<T>::get(federation).ok_or(Error::<T>::FederationNotFound)?;
		ensure!(
			job.stage == FederationStage::Training && job.round == round,
			Error::<T>::RoundClosed
		);
		let index = job
			.members
			.iter()
			.position(|m| {
				pallet_compute_registry::Nodes::<T>::get(m.node)
					.is_some_and(|n| n.worker_bound && n.worker == who)
			})
			.ok_or(Error::<T>::NotFederationMember)?;
		ensure!(job.members.iter().all(|m| m.update != Some(update)), Error::<T>::DuplicateUpdate);
		let member = job.members.get_mut(index).ok_or(Error::<T>::NotFederationMember)?;
		ensure!(!member.excluded, Error::<T>::ExcludedMember);
		ensure!(member.update.is_none(), Error::<T>::UpdateAlreadySubmitted);
		member.update = Some(update);
		let node_id = member.node;
		if job.active().all(|(_, m)| m.update.is_some()) {
			let now = frame_system::Pallet::<T>::block_number();
			job.stage = FederationStage::Aggregating;
			job.deadline = now.saturating_add(T::AttestationWindow::get());
		}
		Federations::<T>::insert(federation, job);
		Self::deposit_event(Event::UpdateSubmitted { federation, round, node_id, update });
		Ok(())
	}

	pub(crate) fn do_attest_round(
		who: T::AccountId,
		federation: JobId,
		round: u8,
		verdict: RoundVerdict,
		metrics: QuantisedMetrics,
	) -> DispatchResult {
		let job = Federations::<T>::get(federation).ok_or(Error::<T>::FederationNotFound)?;
		ensure!(
			job.stage == FederationStage::Aggregating && job.round == round,
			Error::<T>::RoundClosed
		);
		ensure!(metrics.eval_samples > 0, Error::<T>::InvalidMetrics);
		// Only members that sent an update this round may be excluded, and one must be kept.
		let mut kept = 0u32;
		for (index, member) in job.members.iter().enumerate() {
			let sent = !member.excluded && member.update.is_some();
			ensure!(sent || !verdict.excludes(index), Error::<T>::InvalidVerdict);
			if sent && !verdict.excludes(index) {
				kept = kept.saturating_add(1);
			}
		}
		let beyond = u32::from(verdict.excluded).checked_shr(job.members.len() as u32).unwrap_or(0);
		ensure!(beyond == 0 && kept > 0, Error::<T>::InvalidVerdict);
		let mut votes = RoundVotes::<T>::get(federation);
		ensure!(votes.iter().all(|(v, _, _)| *v != who), Error::<T>::AlreadyAttested);
		votes.retain(|(v, _, _)| T::Validators::is_validator_worker(v));
		votes
			.try_push((who.clone(), verdict, metrics))
			.map_err(|_| Error::<T>::NotValidatorWorker)?;
		Self::deposit_event(Event::RoundAttested { federation, round, verifier: who, verdict });
		let agreeing: Vec<(T::AccountId, QuantisedMetrics)> = votes
			.iter()
			.filter(|(_, v, _)| *v == verdict)
			.map(|(who, _, metrics)| (who.clone(), *metrics))
			.collect();
		if Self::is_majority(agreeing.len()) {
			RoundVotes::<T>::remove(federation);
			let now = frame_system::Pallet::<T>::block_number();
			Self::close_round(federation, job, verdict, &agreeing, now)?;
		} else {
			RoundVotes::<T>::insert(federation, votes);
		}
		Ok(())
	}

	/// Applies the majority's `verdict` to the round: exclusions, kept rounds, the next round
	/// (or the end, after the last).
	fn close_round(
		federation: JobId,
		mut job: FederationOf<T>,
		verdict: RoundVerdict,
		agreeing: &[(T::AccountId, QuantisedMetrics)],
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let round = job.round;
		let mut kept = BoundedVec::new();
		for index in 0..job.members.len() {
			let Some(member) = job.members.get(index) else { continue };
			let Some(update) = member.update.filter(|_| !member.excluded) else { continue };
			if verdict.excludes(index) {
				Self::exclude(federation, &mut job, index, false);
			} else if let Some(member) = job.members.get_mut(index) {
				member.rounds = member.rounds.saturating_add(1);
				let _ = kept.try_push((index as u8, update));
			}
		}
		for member in job.members.iter_mut() {
			member.update = None;
		}
		let count = kept.len() as u8;
		job.previous = Some((verdict.aggregate, kept));
		Self::deposit_event(Event::RoundAggregated {
			federation,
			round,
			aggregate: verdict.aggregate,
			kept: count,
		});
		if round.saturating_add(1) >= job.federated.rounds {
			// The median of the deciding validators' reports: a minority cannot move it.
			let mut reports: Vec<QuantisedMetrics> = agreeing.iter().map(|(_, m)| *m).collect();
			reports.sort_by_key(|m| (m.score, m.loss_millionths));
			job.metrics = reports.get(reports.len() / 2).copied();
			let verifiers: Vec<T::AccountId> = agreeing.iter().map(|(v, _)| v.clone()).collect();
			return Self::end_federation(federation, job, true, &verifiers, now);
		}
		job.round = round.saturating_add(1);
		job.stage = FederationStage::Training;
		job.deadline =
			Self::round_deadline(&(job.requirements.gpu_hours, job.federated.rounds), now);
		Federations::<T>::insert(federation, job);
		Ok(())
	}

	/// When a round that starts at `now` must have its updates: `FederationRoundWindow` (the
	/// margin) plus the round's share of the job's hours, `(gpu_hours, rounds)`.
	pub fn round_deadline(
		(gpu_hours, rounds): &(u32, u8),
		now: BlockNumberFor<T>,
	) -> BlockNumberFor<T> {
		let hours = T::BlocksPerHour::get().saturating_mul((*gpu_hours).into())
			/ u32::from((*rounds).max(1)).into();
		now.saturating_add(T::FederationRoundWindow::get()).saturating_add(hours)
	}

	/// Excludes member `index`: slashed `SlashOnFailure` of its bond to the fund, its slot
	/// freed as a failure, no pay.
	fn exclude(federation: JobId, job: &mut FederationOf<T>, index: usize, missing: bool) {
		let Some(member) = job.members.get_mut(index) else { return };
		member.excluded = true;
		member.update = None;
		let node_id = member.node;
		let bond =
			pallet_compute_registry::Nodes::<T>::get(node_id).map(|n| n.bond).unwrap_or_default();
		let slashed = Registry::<T>::slash_bond(
			node_id,
			T::SlashOnFailure::get() * bond,
			&T::CommunityFund::get(),
		)
		.unwrap_or_default();
		Registry::<T>::finish_job(node_id, job.requirements.gpus, false);
		Self::deposit_event(Event::MemberExcluded {
			federation,
			round: job.round,
			node_id,
			missing,
			slashed,
		});
	}

	/// Pays each member for its kept rounds, refunds the rest, frees the slots, records the
	/// model (when `complete`), and leaves the record until `FederationRetention` from now.
	fn end_federation(
		federation: JobId,
		mut job: FederationOf<T>,
		complete: bool,
		verifiers: &[T::AccountId],
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		let reason: <T as Config>::RuntimeHoldReason = HoldReason::JobEscrow.into();
		let fund = T::CommunityFund::get();
		let rounds = u32::from(job.federated.rounds.max(1));
		let mut paid = BalanceOf::<T>::zero();
		for member in job.members.iter() {
			// An excluded member forfeits every round.
			let kept = if member.excluded { 0 } else { u32::from(member.rounds) };
			let pay = Perbill::from_rational(kept, rounds) * member.cost;
			let provider_amount = T::ProviderShare::get() * pay;
			let fund_amount = pay.saturating_sub(provider_amount);
			Self::pay_from_escrow(
				&job.owner,
				[(&member.provider, provider_amount), (&fund, fund_amount)],
			)?;
			paid = paid.saturating_add(pay);
			if !member.excluded {
				if complete {
					Registry::<T>::finish_job(member.node, job.requirements.gpus, true);
				} else {
					// No verdict is no member's fault: no reputation change.
					Registry::<T>::release_declined(member.node, job.requirements.gpus, false);
				}
			}
			if !pay.is_zero() {
				T::Rewards::reward(Some(&member.provider), verifiers, fund_amount);
				Self::deposit_event(Event::MemberPaid {
					federation,
					node_id: member.node,
					provider: member.provider.clone(),
					rounds: member.rounds,
					provider_amount,
					fund_amount,
				});
			}
		}
		let refund = <T as Config>::Currency::release(
			&reason,
			&job.owner,
			job.budget.saturating_sub(paid),
			Precision::BestEffort,
		)?;
		let model = job.previous.as_ref().map(|(aggregate, _)| *aggregate).filter(|_| complete);
		if let (Some(model_hash), Some(metrics), Some(spec)) =
			(model, job.metrics, job.requirements.training.clone())
		{
			let trainer = job.active().next().map(|(_, m)| (m.node, m.provider.clone()));
			if let Some((node, provider)) = trainer {
				T::Models::record(VerifiedTraining {
					job: federation,
					trainer: job.owner.clone(),
					node,
					provider,
					parent: None,
					spec,
					metrics,
					model_hash,
					cost: paid,
				});
			}
		}
		Self::count_dataset_job(job.requirements.training.as_ref(), false);
		job.stage = if complete { FederationStage::Settled } else { FederationStage::Failed };
		job.deadline = now.saturating_add(T::FederationRetention::get());
		let metrics = job.metrics.filter(|_| complete);
		Federations::<T>::insert(federation, job);
		Self::deposit_event(Event::FederationEnded { federation, model, metrics, paid, refund });
		Ok(())
	}

	/// Ends the stages of federated jobs whose deadline has come, and prunes ended ones after
	/// their retention. Reads every stored federated job (at most `MaxFederations`).
	pub(crate) fn process_federations(now: BlockNumberFor<T>) -> Weight {
		let ids = FederationIds::<T>::get();
		let stored = u32::try_from(ids.len()).unwrap_or(u32::MAX);
		let mut kept = BoundedVec::<JobId, T::MaxFederations>::new();
		let mut due = 0u32;
		for federation in ids {
			let Some(job) = Federations::<T>::get(federation) else { continue };
			if job.deadline > now {
				let _ = kept.try_push(federation);
				continue;
			}
			due = due.saturating_add(1);
			if !job.is_open() {
				Federations::<T>::remove(federation);
				RoundVotes::<T>::remove(federation);
				continue;
			}
			let _ = kept.try_push(federation);
			let done = storage::with_transaction(|| {
				match Self::federation_deadline(federation, job.clone(), now) {
					Ok(()) => storage::TransactionOutcome::Commit(Ok(())),
					Err(e) => storage::TransactionOutcome::Rollback(Err(e)),
				}
			});
			if done.is_err() {
				// Defensive: refund everything rather than retry forever.
				let _ = Self::abort_federation(federation, job, now);
			}
		}
		if due > 0 || stored > 0 {
			FederationIds::<T>::put(kept);
		}
		<T as Config>::WeightInfo::on_initialize_federations(due)
			.saturating_add(T::DbWeight::get().reads(u64::from(stored).saturating_add(1)))
	}

	/// A stage's window closed: members without an update are excluded as missing and the
	/// round goes to judgement; a judgement without a majority ends the job.
	fn federation_deadline(
		federation: JobId,
		mut job: FederationOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		match job.stage {
			FederationStage::Training => {
				let missing: Vec<usize> =
					job.active().filter(|(_, m)| m.update.is_none()).map(|(i, _)| i).collect();
				for index in missing {
					Self::exclude(federation, &mut job, index, true);
				}
				if job.active().next().is_none() {
					return Self::end_federation(federation, job, false, &[], now);
				}
				job.stage = FederationStage::Aggregating;
				job.deadline = now.saturating_add(T::AttestationWindow::get());
				Federations::<T>::insert(federation, job);
				Ok(())
			},
			FederationStage::Aggregating => {
				RoundVotes::<T>::remove(federation);
				Self::end_federation(federation, job, false, &[], now)
			},
			FederationStage::Settled | FederationStage::Failed => Ok(()),
		}
	}

	/// Refunds the whole budget and frees every slot without blame (a defensive path).
	fn abort_federation(
		federation: JobId,
		mut job: FederationOf<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		for member in job.members.iter_mut() {
			if !member.excluded {
				Registry::<T>::release_declined(member.node, job.requirements.gpus, false);
			}
			member.rounds = 0;
		}
		let refund = <T as Config>::Currency::release(
			&HoldReason::JobEscrow.into(),
			&job.owner,
			job.budget,
			Precision::BestEffort,
		)?;
		Self::count_dataset_job(job.requirements.training.as_ref(), false);
		RoundVotes::<T>::remove(federation);
		job.stage = FederationStage::Failed;
		job.deadline = now.saturating_add(T::FederationRetention::get());
		Federations::<T>::insert(federation, job);
		let paid = Zero::zero();
		Self::deposit_event(Event::FederationEnded {
			federation,
			model: None,
			metrics: None,
			paid,
			refund,
		});
		Ok(())
	}

	/// What open federated jobs hold, for the pallet's invariants (`do_try_state`): each
	/// owner's budget, and a slot of the job's GPUs on each active member's node.
	pub(crate) fn federation_usage() -> (Escrows<T>, Vec<(NodeId, u32)>) {
		let mut escrow = Vec::new();
		let mut slots = Vec::new();
		for (_, job) in Federations::<T>::iter() {
			if !job.is_open() {
				continue;
			}
			escrow.push((job.owner.clone(), job.budget));
			for (_, member) in job.active() {
				slots.push((member.node, job.requirements.gpus));
			}
		}
		(escrow, slots)
	}

	/// Invariants of federated jobs: ids listed once and stored, never a job's id, rounds
	/// within the job's, no update from an excluded member, votes only while aggregating.
	pub(crate) fn check_federations() -> Result<(), sp_runtime::TryRuntimeError> {
		let ids = FederationIds::<T>::get();
		let mut sorted: Vec<JobId> = ids.to_vec();
		sorted.sort();
		sorted.dedup();
		ensure!(sorted.len() == ids.len(), "a federated job listed twice");
		ensure!(
			Federations::<T>::iter_keys().count() == ids.len(),
			"stored federated jobs differ from those listed"
		);
		for (federation, job) in Federations::<T>::iter() {
			ensure!(ids.contains(&federation), "a federated job not listed");
			ensure!(!Jobs::<T>::contains_key(federation), "a federated job's id is a job's");
			ensure!(job.round < job.federated.rounds, "round past the job's rounds");
			for member in job.members.iter() {
				ensure!(
					!(member.excluded && member.update.is_some()),
					"an excluded member's update"
				);
				ensure!(member.rounds <= job.round.saturating_add(1), "more kept rounds than run");
			}
			if job.stage != FederationStage::Aggregating {
				ensure!(!RoundVotes::<T>::contains_key(federation), "votes outside judgement");
			}
		}
		Ok(())
	}
}
