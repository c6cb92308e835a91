//! The binary Merkle tree over checkpoint hashes.
//!
//! Level 0 is the leaves in checkpoint order. Each next level pairs neighbours left to right,
//! a pair becoming `blake2_256(left ‖ right)`; a level of odd width carries its last node up
//! unchanged (it is neither hashed nor duplicated). The root is the single node of the last
//! level (the leaf itself for one leaf; all zeros for none). A proof lists, bottom-up, the
//! sibling of each level where the node has one, so its length follows from the index and the
//! leaf count, which the verifier knows from the commitment: a node of another level can never
//! pass for a leaf. The root alone does not bind the count (a proof can fit trees of two counts
//! with one root): the count is committed next to it and checked against the spec's schedule.

use crate::dataset::blake2_256;

fn parent(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
	let mut both = [0u8; 64];
	both[..32].copy_from_slice(left);
	both[32..].copy_from_slice(right);
	blake2_256(&both)
}

fn next_level(level: &[[u8; 32]]) -> Vec<[u8; 32]> {
	level
		.chunks(2)
		.map(|pair| match pair {
			[left, right] => parent(left, right),
			[single] => *single,
			_ => [0; 32],
		})
		.collect()
}

/// The root of `leaves` (all zeros when there are none).
pub fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
	let mut level = leaves.to_vec();
	while level.len() > 1 {
		level = next_level(&level);
	}
	level.first().copied().unwrap_or([0; 32])
}

/// The proof of leaf `index` (`None` when there is no such leaf).
pub fn merkle_proof(leaves: &[[u8; 32]], index: usize) -> Option<Vec<[u8; 32]>> {
	if index >= leaves.len() {
		return None;
	}
	let mut proof = Vec::new();
	let mut level = leaves.to_vec();
	let mut i = index;
	while level.len() > 1 {
		let sibling = i ^ 1;
		if let Some(node) = level.get(sibling) {
			proof.push(*node);
		}
		level = next_level(&level);
		i /= 2;
	}
	Some(proof)
}

/// Whether `leaf` is leaf `index` of a tree of `count` leaves with root `root`, by `proof`.
pub fn verify_merkle(
	root: &[u8; 32],
	leaf: &[u8; 32],
	index: u32,
	count: u32,
	proof: &[[u8; 32]],
) -> bool {
	if index >= count {
		return false;
	}
	let (mut node, mut i, mut width) = (*leaf, index, count);
	let mut siblings = proof.iter();
	while width > 1 {
		// The last node of an odd level has no sibling and is carried up.
		if !(i == width - 1 && width % 2 == 1) {
			let Some(sibling) = siblings.next() else { return false };
			node = if i % 2 == 0 { parent(&node, sibling) } else { parent(sibling, &node) };
		}
		i /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none() && node == *root
}

#[cfg(test)]
mod tests {
	use super::*;

	fn leaves(n: usize) -> Vec<[u8; 32]> {
		(0..n).map(|i| blake2_256(&(i as u64).to_le_bytes())).collect()
	}

	#[test]
	fn every_leaf_of_every_tree_size_verifies() {
		for n in 1..=33usize {
			let leaves = leaves(n);
			let root = merkle_root(&leaves);
			for (i, leaf) in leaves.iter().enumerate() {
				let proof = merkle_proof(&leaves, i).expect("in range");
				assert!(proof.len() <= (usize::BITS - n.leading_zeros()) as usize);
				assert!(verify_merkle(&root, leaf, i as u32, n as u32, &proof), "{i} of {n}");
			}
			assert_eq!(merkle_proof(&leaves, n), None);
		}
		// Hand-checked shapes: one leaf is its own root; three leaves carry the third up.
		let l = leaves(3);
		assert_eq!(merkle_root(&l[..1]), l[0]);
		assert_eq!(merkle_root(&l), parent(&parent(&l[0], &l[1]), &l[2]));
		assert_eq!(merkle_proof(&l, 2), Some(vec![parent(&l[0], &l[1])]));
		assert_eq!(merkle_root(&[]), [0; 32]);
	}

	#[test]
	fn tampered_proofs_fail() {
		for n in [2usize, 5, 16, 17] {
			let leaves = leaves(n);
			let root = merkle_root(&leaves);
			for i in 0..n {
				let proof = merkle_proof(&leaves, i).expect("in range");
				let (idx, count, leaf) = (i as u32, n as u32, &leaves[i]);
				// Another leaf, index or root. (The count is not checked against the proof: a
				// proof may also fit a tree of another count with the same root, which is why
				// the count is part of the commitment and fixed by the spec.)
				let other = leaves[(i + 1) % n];
				assert!(!verify_merkle(&root, &other, idx, count, &proof));
				assert!(!verify_merkle(&root, leaf, (idx + 1) % count, count, &proof));
				assert!(!verify_merkle(&root, leaf, idx + count, count, &proof));
				assert!(!verify_merkle(&[7; 32], leaf, idx, count, &proof));
				// Each sibling flipped, one dropped, one too many.
				for k in 0..proof.len() {
					let mut bad = proof.clone();
					bad[k][0] ^= 1;
					assert!(!verify_merkle(&root, leaf, idx, count, &bad));
				}
				assert!(!verify_merkle(&root, leaf, idx, count, &proof[..proof.len() - 1]));
				let mut long = proof.clone();
				long.push([0; 32]);
				assert!(!verify_merkle(&root, leaf, idx, count, &long));
			}
		}
		// An inner node does not pass for a leaf of the committed count.
		let l = leaves(4);
		let root = merkle_root(&l);
		let inner = parent(&l[0], &l[1]);
		assert!(!verify_merkle(&root, &inner, 0, 4, &[parent(&l[2], &l[3])]));
	}
}
