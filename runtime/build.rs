fn main() {
	// The node embeds this runtime's Wasm blob; `std` builds compile it with the wasm builder.
	#[cfg(feature = "std")]
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
