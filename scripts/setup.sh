#!/usr/bin/env bash
# Installs what building and testing AICChain needs on a fresh Debian machine.
# Idempotent and silent when everything is already there; `make run` and `make test` call it.
set -euo pipefail

say() { echo "setup: $*" >&2; }

# Debian packages: clang/libclang for bindgen-using -sys crates, protoc for libp2p/litep2p,
# mold as the fast linker named in .cargo/config.toml, Chromium for the web app's browser tests.
apt_packages=(clang libclang-dev protobuf-compiler mold chromium)
missing=()
for pkg in "${apt_packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	say "installing Debian packages: ${missing[*]}"
	$sudo_cmd apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Rust: the toolchain named in rust-toolchain.toml, with the Wasm targets and rust-src that the
# runtime's Wasm build needs.
if ! command -v rustup >/dev/null 2>&1; then
	say "rustup is required (https://rustup.rs)"
	exit 1
fi
root_dir="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root_dir"
installed_targets="$(rustup target list --installed 2>/dev/null || true)"
for target in wasm32-unknown-unknown wasm32v1-none; do
	grep -qx "$target" <<<"$installed_targets" || { say "adding Rust target $target"; rustup target add "$target" >/dev/null 2>&1; }
done
installed_components="$(rustup component list --installed 2>/dev/null || true)"
for component in rust-src clippy rustfmt; do
	grep -q "^$component" <<<"$installed_components" || { say "adding Rust component $component"; rustup component add "$component" >/dev/null 2>&1; }
done

# Node.js and npm for the zombienet testnet, the Polkadot.js test suite and the web app.
if ! command -v npm >/dev/null 2>&1; then
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	say "installing Debian packages: nodejs npm"
	$sudo_cmd apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
fi
# npm packages pinned by package-lock.json, installed again only when the lock changes.
for dir in zombienet tests/js ui; do
	if [ -f "$dir/package-lock.json" ] && ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
		say "installing npm packages in $dir"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
		cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
	fi
done
