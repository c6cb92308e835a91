//! The pallet's dispatchable calls, imported into the pallet module as a pallet section (see
//! `#[import_section(calls::calls)]` on the pallet in `lib.rs`). The section's tokens are pasted
//! into the pallet module verbatim, so they use the pallet module's imports.

use frame_support::pallet_macros::pallet_section;

#[pallet_section]
mod calls {
	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submit a job; `budget` is held until the job ends.
		///
		/// Origin: any signed account. Errors: `GpusOutOfRange`, `BandwidthOutOfRange`,
		/// `LatencyOutOfRange`, `GpuHoursOutOfRange`, `InvalidTrainingSpec`, `DatasetUnknown`,
		/// `BudgetBelowMinimum`, `InsufficientBalance`, `DeadlineQueueFull`.
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::submit_weight())]
		pub fn submit_job(
			origin: OriginFor<T>,
			requirements: JobRequirements,
			budget: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_submit(who, requirements, budget, T::DefaultQueueWait::get())
		}

		/// Cancel a job that has no node yet (pending or queued); the whole budget is returned.
		///
		/// Origin: the job's submitter. Errors: `JobNotFound`, `NotJobOwner`, `JobNotPending`.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::cancel_job())]
		pub fn cancel_job(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::JobNotFound)?;
			ensure!(job.owner == who, Error::<T>::NotJobOwner);
			ensure!(
				matches!(job.status, JobStatus::Pending | JobStatus::Queued),
				Error::<T>::JobNotPending
			);
			let refund = Self::refund(&job)?;
			if job.status == JobStatus::Queued {
				Self::dequeue(job_id);
			}
			Proposals::<T>::remove(job_id);
			Self::unschedule(job_id, job.deadline);
			job.status = JobStatus::Cancelled;
			Self::retire(job_id, job, None);
			Self::deposit_event(Event::JobCancelled { job_id, refund });
			Ok(())
		}

		/// Propose `node_id` for a pending job. The node must meet every hard constraint; a
		/// node proposed by a majority of the validator set is assigned at once.
		///
		/// Origin: a current validator's worker key. Errors: `NotValidatorWorker`,
		/// `JobNotFound`, `JobNotPending`, `AlreadyProposed`, `NodeDeclinedJob`, the node's
		/// eligibility errors (`NodeNotFound`, `NodeNotActive`, `NodeDormant`, `NodeNotLive`,
		/// `WorkerNotBound`, `TooFewGpus`, `BandwidthTooLow`, `LatencyTooHigh`,
		/// `NotRenewableEnough`, `NoFreeCapacity`), `PriceAboveBudget`.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::propose_assignment())]
		pub fn propose_assignment(
			origin: OriginFor<T>,
			job_id: JobId,
			node_id: NodeId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Validators::is_validator_worker(&who), Error::<T>::NotValidatorWorker);
			let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::JobNotFound)?;
			ensure!(job.status == JobStatus::Pending, Error::<T>::JobNotPending);
			let mut proposals = Proposals::<T>::get(job_id);
			ensure!(proposals.iter().all(|(p, _)| *p != who), Error::<T>::AlreadyProposed);
			ensure!(!Self::has_declined(job_id, node_id), Error::<T>::NodeDeclinedJob);
			let now = frame_system::Pallet::<T>::block_number();
			let cost = Self::check_node_for_job(&job, node_id, now)?;
			// Proposals of accounts that left the set count for nothing: make room for current ones.
			proposals.retain(|(p, _)| T::Validators::is_validator_worker(p));
			// Bounded by `MaxValidators`; more proposers than that cannot be validators.
			proposals
				.try_push((who.clone(), node_id))
				.map_err(|_| Error::<T>::NotValidatorWorker)?;
			let votes = Self::current_votes_for(&proposals, |n| *n == node_id);
			Self::deposit_event(Event::AssignmentProposed { job_id, node_id, proposer: who });
			if Self::is_majority(votes) {
				Self::assign(job_id, job, node_id, cost, AssignmentRule::Majority, now)?;
			} else {
				Proposals::<T>::insert(job_id, proposals);
			}
			Ok(())
		}

		/// Publish the result of an assigned job: the model's content hash, its quantised
		/// metrics on the held-out split and, for a training job, the commitment to its
		/// checkpoint chain (Merkle root, on the schedule the spec and dataset fix). The hash of
		/// the block this lands in seeds the segment each verifier replays.
		///
		/// Origin: the assigned node's worker key. Errors: `JobNotFound`, `JobNotAssigned`,
		/// `NotAssignedWorker`, `InvalidMetrics`, `MissingCommitment`, `CommitmentOffSchedule`,
		/// `UnexpectedCommitment`, `DeadlineQueueFull`.
		#[pallet::call_index(3)]
		#[pallet::weight(<T as Config>::WeightInfo::submit_result())]
		pub fn submit_result(
			origin: OriginFor<T>,
			job_id: JobId,
			model_hash: H256,
			metrics: QuantisedMetrics,
			commitment: Option<TrainingCommitment>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::JobNotFound)?;
			let JobStatus::Assigned { node, cost } = job.status else {
				return Err(Error::<T>::JobNotAssigned.into());
			};
			let worker = pallet_compute_registry::Nodes::<T>::get(node).map(|n| n.worker);
			ensure!(worker.as_ref() == Some(&who), Error::<T>::NotAssignedWorker);
			ensure!(metrics.eval_samples > 0, Error::<T>::InvalidMetrics);
			Self::check_commitment(&job.requirements, commitment.as_ref())?;
			let now = frame_system::Pallet::<T>::block_number();
			let deadline = Self::free_deadline(now.saturating_add(T::AttestationWindow::get()))?;
			Self::unschedule(job_id, job.deadline);
			Self::schedule(job_id, deadline);
			if let Some(commitment) = commitment {
				Commitments::<T>::insert(job_id, (commitment, now));
			}
			job.status = JobStatus::ResultSubmitted { node, cost, model_hash, metrics };
			job.deadline = deadline;
			Jobs::<T>::insert(job_id, job);
			Self::deposit_event(Event::ResultSubmitted {
				job_id,
				node_id: node,
				model_hash,
				metrics,
			});
			Ok(())
		}

		/// Accept or reject a submitted result after re-evaluating the model. A majority of the
		/// current validator set either way settles or rejects the job at once (votes of
		/// accounts that have since left the set do not count).
		///
		/// Origin: a current validator's worker key, not the provider's. Errors:
		/// `NotValidatorWorker`, `JobNotFound`, `JobNotAwaitingAttestation`,
		/// `CannotAttestOwnResult`, `AlreadyAttested`.
		#[pallet::call_index(4)]
		#[pallet::weight(<T as Config>::WeightInfo::attest().saturating_add(T::Models::record_weight()))]
		pub fn attest(origin: OriginFor<T>, job_id: JobId, accept: bool) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Validators::is_validator_worker(&who), Error::<T>::NotValidatorWorker);
			let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::JobNotFound)?;
			let JobStatus::ResultSubmitted { node, .. } = job.status else {
				return Err(Error::<T>::JobNotAwaitingAttestation.into());
			};
			let provider = pallet_compute_registry::Nodes::<T>::get(node)
				.map(|n| (n.owner, n.worker))
				.ok_or(Error::<T>::NodeNotFound)?;
			ensure!(who != provider.0 && who != provider.1, Error::<T>::CannotAttestOwnResult);
			let mut attestations = Attestations::<T>::get(job_id);
			ensure!(attestations.iter().all(|(v, _)| *v != who), Error::<T>::AlreadyAttested);
			// Votes of accounts that left the set count for nothing: make room for current ones.
			attestations.retain(|(v, _)| T::Validators::is_validator_worker(v));
			attestations
				.try_push((who.clone(), accept))
				.map_err(|_| Error::<T>::NotValidatorWorker)?;
			let same = Self::current_votes_for(&attestations, |a| *a == accept);
			Self::deposit_event(Event::ResultAttested { job_id, verifier: who, accepted: accept });
			if Self::is_majority(same) {
				Attestations::<T>::remove(job_id);
				Self::unschedule(job_id, job.deadline);
				let verifiers = Self::current_voters(attestations, accept);
				if accept {
					Self::settle(job_id, job, &verifiers)?;
				} else {
					Self::fail(job_id, job, Failure::Rejected, &verifiers)?;
				}
			} else {
				Attestations::<T>::insert(job_id, attestations);
			}
			Ok(())
		}

		/// Decline an assigned job the node cannot run (e.g. its engine refuses the spec),
		/// within `DeclineWindow` blocks of the assignment: frees the node's slot without a
		/// slash (the node's reputation drops 5%, a failure's drops 20%), and sends the job back
		/// to matching with a fresh `ProposalWindow`; the job is never offered to this node
		/// again. The `MaxDeclines`-th decline (or a full deadline queue) expires the job
		/// instead, refunding the user in full.
		///
		/// Origin: the assigned node's owner or bound worker key. Errors: `JobNotFound`,
		/// `JobNotAssigned`, `NotAssignedProvider`, `DeclineWindowOver`.
		#[pallet::call_index(5)]
		#[pallet::weight(<T as Config>::WeightInfo::decline_job())]
		pub fn decline_job(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::JobNotFound)?;
			let JobStatus::Assigned { node, .. } = job.status else {
				return Err(Error::<T>::JobNotAssigned.into());
			};
			let provider = pallet_compute_registry::Nodes::<T>::get(node)
				.is_some_and(|n| n.owner == who || (n.worker_bound && n.worker == who));
			ensure!(provider, Error::<T>::NotAssignedProvider);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				now <= job.assigned_at.saturating_add(T::DeclineWindow::get()),
				Error::<T>::DeclineWindowOver
			);
			Self::decline(job_id, job, node, now)
		}

		/// Make a dataset available to training jobs, under the blake2-256 hash of its file.
		///
		/// Origin: `DatasetOrigin`. Errors: `DatasetAlreadyKnown`, `DatasetNameInvalid`,
		/// `DatasetSizeInvalid`, `DatasetShapeInvalid`, `DatasetInUse`, `DatasetPrivate`
		/// (curated datasets are public), `NotDatasetOwner` (a user's private dataset's hash).
		#[pallet::call_index(6)]
		#[pallet::weight(<T as Config>::WeightInfo::register_dataset())]
		pub fn register_dataset(
			origin: OriginFor<T>,
			hash: H256,
			info: DatasetInfo,
		) -> DispatchResult {
			T::DatasetOrigin::ensure_origin(origin)?;
			Self::ensure_new_dataset(hash, &info)?;
			ensure!(info.public, Error::<T>::DatasetPrivate);
			ensure!(!PrivateDatasetOwners::<T>::contains_key(hash), Error::<T>::NotDatasetOwner);
			Datasets::<T>::insert(hash, info);
			Self::deposit_event(Event::DatasetRegistered { hash });
			Ok(())
		}

		/// Stop new training jobs from naming a dataset (jobs already submitted keep it). A
		/// user's dataset's deposit goes back to its owner.
		///
		/// Origin: `DatasetOrigin`. Errors: `DatasetUnknown`.
		#[pallet::call_index(7)]
		#[pallet::weight(<T as Config>::WeightInfo::remove_dataset())]
		pub fn remove_dataset(origin: OriginFor<T>, hash: H256) -> DispatchResult {
			T::DatasetOrigin::ensure_origin(origin)?;
			ensure!(Datasets::<T>::contains_key(hash), Error::<T>::DatasetUnknown);
			Self::forget_dataset(hash)?;
			Self::deposit_event(Event::DatasetRemoved { hash });
			Ok(())
		}

		/// Register a dataset of one's own under the blake2-256 hash of its file, holding
		/// `DatasetDeposit` until it is withdrawn. The owner then uploads the file to engines
		/// (`PUT /datasets/0x<hash>`), which check it against this record. A private dataset
		/// (`info.public == false`) may be named only by its owner's jobs and is never served
		/// by engines to their peers.
		///
		/// Origin: any signed account. Errors: `DatasetAlreadyKnown`, `DatasetNameInvalid`,
		/// `DatasetSizeInvalid`, `DatasetShapeInvalid`, `DatasetInUse` (a withdrawn record
		/// that open jobs still train on), `NotDatasetOwner` (the hash of another account's
		/// private dataset), `InsufficientBalance`.
		#[pallet::call_index(9)]
		#[pallet::weight(<T as Config>::WeightInfo::add_dataset())]
		pub fn add_dataset(origin: OriginFor<T>, hash: H256, info: DatasetInfo) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::ensure_new_dataset(hash, &info)?;
			let first = PrivateDatasetOwners::<T>::get(hash);
			ensure!(first.as_ref().is_none_or(|owner| *owner == who), Error::<T>::NotDatasetOwner);
			let deposit = T::DatasetDeposit::get();
			<T as Config>::Currency::hold(&HoldReason::DatasetDeposit.into(), &who, deposit)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			let public = info.public;
			if !public {
				PrivateDatasetOwners::<T>::insert(hash, who.clone());
			}
			Datasets::<T>::insert(hash, info);
			DatasetOwners::<T>::insert(hash, (who.clone(), deposit));
			Self::deposit_event(Event::DatasetAdded { hash, owner: who, deposit, public });
			Ok(())
		}

		/// Withdraw one's dataset once no open job trains on it: new jobs may no longer name it
		/// and the deposit is released.
		///
		/// Origin: the dataset's owner. Errors: `DatasetUnknown`, `NotDatasetOwner`,
		/// `DatasetInUse` (open jobs train on it).
		#[pallet::call_index(10)]
		#[pallet::weight(<T as Config>::WeightInfo::withdraw_dataset())]
		pub fn withdraw_dataset(origin: OriginFor<T>, hash: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Datasets::<T>::contains_key(hash), Error::<T>::DatasetUnknown);
			let (owner, _) = DatasetOwners::<T>::get(hash).ok_or(Error::<T>::NotDatasetOwner)?;
			ensure!(owner == who, Error::<T>::NotDatasetOwner);
			ensure!(DatasetJobs::<T>::get(hash) == 0, Error::<T>::DatasetInUse);
			let deposit = Self::forget_dataset(hash)?;
			Self::deposit_event(Event::DatasetWithdrawn { hash, owner: who, deposit });
			Ok(())
		}

		/// [`Pallet::submit_job`], waiting up to `max_wait` blocks (after the proposal window)
		/// in the queue when every node that could run the job is busy; 0 never waits.
		///
		/// Origin: any signed account. Errors: those of `submit_job`, `QueueWaitTooLong`.
		#[pallet::call_index(8)]
		#[pallet::weight(Pallet::<T>::submit_weight())]
		pub fn submit_job_waiting(
			origin: OriginFor<T>,
			requirements: JobRequirements,
			budget: BalanceOf<T>,
			max_wait: BlockNumberFor<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(max_wait <= T::MaxQueueWait::get(), Error::<T>::QueueWaitTooLong);
			Self::do_submit(who, requirements, budget, max_wait)
		}

		/// Submit a federated training job: `federated.providers` nodes (eligible for
		/// `requirements`, with room, of distinct owners, the cheapest by the fallback's score)
		/// each train on their shard for `federated.rounds` rounds; `budget` is held until the
		/// job ends and must cover every member's cost (price × GPUs × hours).
		///
		/// Origin: any signed account. Errors: those of `submit_job`'s requirements and
		/// dataset checks, `FederationOutOfRange`, `FederationModelUnsupported`,
		/// `TooManyFederations`, `NotEnoughProviders`, `PriceAboveBudget`,
		/// `InsufficientBalance`.
		#[pallet::call_index(11)]
		#[pallet::weight(<T as Config>::WeightInfo::submit_federated(u32::from(federated.providers)))]
		pub fn submit_federated(
			origin: OriginFor<T>,
			requirements: JobRequirements,
			federated: FederationSpec,
			budget: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_submit_federated(who, requirements, federated, budget)
		}

		/// Commit a member's update of the current round (the blake2-256 hash of the weights
		/// its engine serves). The last member's commitment opens the round's judgement.
		///
		/// Origin: the member node's bound worker key. Errors: `FederationNotFound`,
		/// `RoundClosed`, `NotFederationMember`, `ExcludedMember`, `UpdateAlreadySubmitted`,
		/// `DuplicateUpdate`.
		#[pallet::call_index(12)]
		#[pallet::weight(<T as Config>::WeightInfo::submit_update())]
		pub fn submit_update(
			origin: OriginFor<T>,
			federation: JobId,
			round: u8,
			update: H256,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_submit_update(who, federation, round, update)
		}

		/// Judge the current round: the aggregate's hash, the members excluded and the
		/// aggregate's held-out metrics. When a majority of the validator set agrees on the
		/// same verdict, the excluded members are slashed and the aggregate becomes the next
		/// round's model (or, after the last round, the job's: it is paid and recorded).
		///
		/// Origin: a current validator's worker key. Errors: `NotValidatorWorker`,
		/// `FederationNotFound`, `RoundClosed`, `AlreadyAttested`, `InvalidVerdict`,
		/// `InvalidMetrics`.
		#[pallet::call_index(13)]
		#[pallet::weight(
			<T as Config>::WeightInfo::attest_round(T::MaxFederationProviders::get())
				.saturating_add(T::Models::record_weight())
		)]
		pub fn attest_round(
			origin: OriginFor<T>,
			federation: JobId,
			round: u8,
			verdict: RoundVerdict,
			metrics: QuantisedMetrics,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(T::Validators::is_validator_worker(&who), Error::<T>::NotValidatorWorker);
			Self::do_attest_round(who, federation, round, verdict, metrics)
		}
	}
}
