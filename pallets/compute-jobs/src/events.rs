//! The pallet's events, imported into the pallet module as a pallet section (see
//! `#[import_section(events::events)]` on the pallet in `lib.rs`), like the calls and errors.

use frame_support::pallet_macros::pallet_section;

#[pallet_section]
mod events {
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A job was submitted and its budget held.
		JobSubmitted { job_id: JobId, who: T::AccountId, budget: BalanceOf<T> },
		/// A pending job was cancelled and its budget returned.
		JobCancelled { job_id: JobId, refund: BalanceOf<T> },
		/// A validator's worker proposed a node for a job.
		AssignmentProposed { job_id: JobId, node_id: NodeId, proposer: T::AccountId },
		/// A job was assigned to a node.
		JobAssigned { job_id: JobId, node_id: NodeId, cost: BalanceOf<T>, rule: AssignmentRule },
		/// The assigned node published its result.
		ResultSubmitted {
			job_id: JobId,
			node_id: NodeId,
			model_hash: H256,
			metrics: QuantisedMetrics,
		},
		/// A validator's worker attested a result.
		ResultAttested { job_id: JobId, verifier: T::AccountId, accepted: bool },
		/// A job was paid out. Carries the receipt (what the user paid is `cost - subsidy`; the
		/// metrics are in `ResultSubmitted`), which stays readable here after the job is pruned.
		JobSettled {
			job_id: JobId,
			node_id: NodeId,
			provider: T::AccountId,
			cost: BalanceOf<T>,
			provider_amount: BalanceOf<T>,
			fund_amount: BalanceOf<T>,
			renewable_bonus: BalanceOf<T>,
			subsidy: BalanceOf<T>,
			subsidy_id: Option<SubsidyId>,
			refund: BalanceOf<T>,
			model_hash: H256,
			energy_wh: u64,
			carbon_grams: u64,
			carbon_reduction_grams: u64,
		},
		/// The verified model scored below its spec's `min_score`: the job settles (the next
		/// event) at `BelowMinimumPayout` of its cost, with no subsidy, bonus or AICG.
		BelowMinimumScore { job_id: JobId, score: Perbill, min_score: Perbill },
		/// Verifiers rejected a result: the user was refunded and the bond slashed.
		JobRejected { job_id: JobId, node_id: NodeId, refund: BalanceOf<T>, slashed: BalanceOf<T> },
		/// The node sent no result in time: the user was refunded and the bond slashed.
		JobTimedOut { job_id: JobId, node_id: NodeId, refund: BalanceOf<T>, slashed: BalanceOf<T> },
		/// The attestation window closed without a decision: the user was refunded.
		JobUnverified { job_id: JobId, node_id: NodeId, refund: BalanceOf<T> },
		/// No eligible node was found in time (or every node it was given declined it): the
		/// user was refunded.
		JobExpired { job_id: JobId, refund: BalanceOf<T>, reason: ExpiryReason },
		/// Every node that could run the job was busy: it waits for capacity, `position`-th in
		/// the queue, until `wait_until` at the latest.
		JobQueued { job_id: JobId, position: u32, wait_until: BlockNumberFor<T> },
		/// The assigned node declined the job: no slash; the job is back to matching (or
		/// expired, after `MaxDeclines` declines) and is never offered to that node again.
		JobDeclined { job_id: JobId, node_id: NodeId },
		/// A federated job was submitted: its budget is held and `members` hold a slot each.
		FederationSubmitted {
			federation: JobId,
			who: T::AccountId,
			budget: BalanceOf<T>,
			members: BoundedVec<NodeId, ConstU32<MAX_FEDERATION_PROVIDERS>>,
		},
		/// A member committed its update of a round.
		UpdateSubmitted { federation: JobId, round: u8, node_id: NodeId, update: H256 },
		/// A validator's worker judged a round.
		RoundAttested {
			federation: JobId,
			round: u8,
			verifier: T::AccountId,
			verdict: RoundVerdict,
		},
		/// A majority of the validator set agreed on a round's aggregate: the next round's
		/// global model (the job's model after the last round).
		RoundAggregated { federation: JobId, round: u8, aggregate: H256, kept: u8 },
		/// A member was excluded (its update poisoned, unserved, or missing by the round's
		/// deadline): slashed and unpaid.
		MemberExcluded {
			federation: JobId,
			round: u8,
			node_id: NodeId,
			missing: bool,
			slashed: BalanceOf<T>,
		},
		/// A member was paid for the rounds its update was kept in.
		MemberPaid {
			federation: JobId,
			node_id: NodeId,
			provider: T::AccountId,
			rounds: u8,
			provider_amount: BalanceOf<T>,
			fund_amount: BalanceOf<T>,
		},
		/// A federated job ended: every round aggregated (`model` is its final model) or not
		/// (`model` is `None`); `refund` went back to the user.
		FederationEnded {
			federation: JobId,
			model: Option<H256>,
			metrics: Option<QuantisedMetrics>,
			paid: BalanceOf<T>,
			refund: BalanceOf<T>,
		},
		/// A dataset became available to training jobs.
		DatasetRegistered { hash: H256 },
		/// A dataset may no longer be named by new training jobs.
		DatasetRemoved { hash: H256 },
		/// A user registered a dataset of their own, holding `deposit`.
		DatasetAdded { hash: H256, owner: T::AccountId, deposit: BalanceOf<T>, public: bool },
		/// A user withdrew their dataset; `deposit` was released.
		DatasetWithdrawn { hash: H256, owner: T::AccountId, deposit: BalanceOf<T> },
	}
}
