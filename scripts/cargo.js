'use strict';
// How to run cargo for one target, shared by the addon build
// (scripts/build.js) and the Rust tests (scripts/test-rust.js): both must
// use the same command, target and environment, or cargo compiles every
// dependency twice (two minutes on a 2-core machine).
//
// Linux targets build with cargo-zigbuild when it is installed: zig links
// against the oldest glibc we support (2.17, the symbol versions are pinned
// by the `.2.17` suffix), so one binary loads on any glibc distribution of
// the last ten years; a plain `cargo build` links against the build
// machine's glibc (2.34+ on current distributions). cargo-zigbuild finds zig
// on the PATH or in the `ziglang` Python package.
const { execFileSync } = require('child_process');
const { TARGETS, platformName } = require('../lib/platform');

const GLIBC = '2.17';

function hasZigbuild() {
	try {
		execFileSync('cargo-zigbuild', ['--version'], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

/**
 * The cargo command for `subcommand` ('build' or 'test') and the platform
 * name (default: this system). Returns { command, args, env, triple,
 * outDir, zig } where outDir is cargo's output directory relative to the
 * target directory.
 */
function cargoFor(subcommand, platform = platformName()) {
	const triple = TARGETS[platform];
	if (!triple) {
		// A platform we do not publish for: a plain host build is all we know.
		return { command: 'cargo', args: [subcommand, '--release', '--lib'], env: {}, triple: null, outDir: 'release', zig: false };
	}
	const linux = triple.includes('-linux-');
	const zig = linux && hasZigbuild();
	const env = {};
	let target = triple;
	if (triple.endsWith('-gnu') || triple.endsWith('-gnueabihf')) {
		if (zig) target = `${triple}.${GLIBC}`;
	} else if (triple.includes('-musl')) {
		// Node on musl is a dynamic executable; a statically linked C runtime
		// in the addon would be a second libc in the same process.
		env.RUSTFLAGS = `${process.env.RUSTFLAGS ?? ''} -C target-feature=-crt-static`.trim();
	} else if (triple.endsWith('-windows-msvc')) {
		// The C runtime linked in, so the addon needs no Visual C++ runtime
		// installed (napi-rs's template does the same).
		env.RUSTFLAGS = `${process.env.RUSTFLAGS ?? ''} -C target-feature=+crt-static`.trim();
	}
	// cargo-zigbuild has its own `test` subcommand; `cargo zigbuild` only builds.
	const [command, sub] = zig ? ['cargo-zigbuild', subcommand === 'build' ? 'zigbuild' : subcommand] : ['cargo', subcommand];
	return { command, args: [sub, '--release', '--lib', '--target', target], env, triple, outDir: `${triple}/release`, zig };
}

module.exports = { cargoFor, GLIBC };
