//! Governance commands: subsidy proposals paid by the community fund, and AICG votes on them.

use crate::common::{explain, parse_amount, submit_and_wait};
use aicchain_client::{keys, pair_from_suri, Client};
use aicchain_primitives::{ModelKind, SubsidyScope};
use aicchain_runtime::{Runtime, RuntimeCall};
use sp_runtime::Perbill;

/// `propose-subsidy`: proposes a subsidy and prints the proposal's id.
pub(crate) fn propose_subsidy(
	client: &Client,
	suri: &str,
	share: u32,
	scope: &str,
	per_job_cap: &str,
	budget: &str,
	duration: u32,
) -> Result<(), String> {
	if share == 0 || share > 100 {
		return Err("--share is a percentage (1-100)".into());
	}
	let scope = match scope {
		"all" => SubsidyScope::AllJobs,
		"renewable" => SubsidyScope::RenewableProviders,
		"training" => SubsidyScope::JobKind(ModelKind::MlpClassifier),
		other => return Err(format!("unknown scope `{other}` (all, renewable, training)")),
	};
	let id: u32 = client
		.storage(&keys::value("CommunityFund", "NextProposalId"))
		.map_err(explain)?
		.unwrap_or(0);
	let terms = pallet_community_fund::SubsidyTerms {
		share: Perbill::from_percent(share),
		scope,
		per_job_cap: parse_amount(per_job_cap)?,
		total_budget: parse_amount(budget)?,
		duration,
	};
	submit_and_wait(
		client,
		&pair_from_suri(suri)?,
		RuntimeCall::CommunityFund(pallet_community_fund::Call::propose_subsidy { terms }),
	)?;
	println!("subsidy proposal {id} submitted; vote with `aicchain vote {id} aye <AICG>`");
	Ok(())
}

/// `vote`: votes on a subsidy proposal with AICG.
pub(crate) fn vote(
	client: &Client,
	suri: &str,
	proposal: u32,
	side: &str,
	amount: &str,
) -> Result<(), String> {
	let aye = match side {
		"aye" => true,
		"nay" => false,
		_ => return Err("side is `aye` or `nay`".into()),
	};
	let call = pallet_community_fund::Call::<Runtime>::vote {
		proposal_id: proposal,
		aye,
		amount: parse_amount(amount)?,
	};
	submit_and_wait(client, &pair_from_suri(suri)?, RuntimeCall::CommunityFund(call))?;
	println!("voted {side} on proposal {proposal} with {amount} AICG");
	Ok(())
}

/// `claim-rewards`: mints the caller's share of a closed reward period's pool.
pub(crate) fn claim_rewards(client: &Client, suri: &str) -> Result<(), String> {
	use sp_core::crypto::Ss58Codec;
	let signer = pair_from_suri(suri)?;
	let me = aicchain_client::account_of(&signer).to_ss58check();
	let before = client.rpc("compute_contribution", serde_json::json!([me])).map_err(explain)?;
	if before["claimable"].as_str().is_none_or(|c| c == "0") {
		return Err(format!(
			"nothing to claim (NothingToClaim): {} AICC of points in period {}, {}; the period \
			 ends at block {}",
			crate::common::show_str(&before["points"]),
			before["pointsPeriod"],
			if before["qualified"] == true { "qualified" } else { "below the threshold" },
			before["periodEndsAt"]
		));
	}
	let call = pallet_community_fund::Call::<Runtime>::claim_period_reward {};
	submit_and_wait(client, &signer, RuntimeCall::CommunityFund(call))?;
	println!("claimed {} AICG", crate::common::show_str(&before["claimable"]));
	Ok(())
}
