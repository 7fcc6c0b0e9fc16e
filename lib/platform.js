'use strict';
// Which prebuilt addon fits the running system: napi-rs's platform names
// (`linux-x64-gnu`, `darwin-arm64`, ...), one npm package per name. On Linux
// the C library matters as much as the CPU: a glibc build does not load on
// musl (Alpine) and the other way round, so it is detected, not assumed.
const fs = require('fs');

// The targets we publish: platform name -> Rust target triple. The same list
// as `napi.targets` in package.json (a test keeps the two in step).
const TARGETS = {
	'linux-x64-gnu': 'x86_64-unknown-linux-gnu',
	'linux-x64-musl': 'x86_64-unknown-linux-musl',
	'linux-arm64-gnu': 'aarch64-unknown-linux-gnu',
	'linux-arm64-musl': 'aarch64-unknown-linux-musl',
	'linux-arm-gnueabihf': 'armv7-unknown-linux-gnueabihf',
	'darwin-x64': 'x86_64-apple-darwin',
	'darwin-arm64': 'aarch64-apple-darwin',
	'win32-x64-msvc': 'x86_64-pc-windows-msvc',
};

// glibc's dynamic loader and Node's own diagnostic report know; musl's `ldd`
// says so in its text. Ordered cheapest first; `null` means "could not tell".
function muslFromLdd() {
	try {
		return fs.readFileSync('/usr/bin/ldd', 'latin1').includes('musl');
	} catch {
		return null;
	}
}

function muslFromReport() {
	if (typeof process.report?.getReport !== 'function') return null;
	// The report would otherwise resolve host names of open sockets.
	const excludeNetwork = process.report.excludeNetwork;
	process.report.excludeNetwork = true;
	try {
		const report = process.report.getReport();
		if (report.header?.glibcVersionRuntime) return false;
		if (Array.isArray(report.sharedObjects)) {
			return report.sharedObjects.some((file) => file.includes('libc.musl-') || file.includes('ld-musl-'));
		}
		return null;
	} catch {
		return null;
	} finally {
		process.report.excludeNetwork = excludeNetwork;
	}
}

function isMusl() {
	const fromLdd = muslFromLdd();
	if (fromLdd !== null) return fromLdd;
	// A system without /usr/bin/ldd and without a report is taken as glibc,
	// the common case; the load error then names what was tried.
	return muslFromReport() ?? false;
}

/** napi-rs's name for this system, e.g. `linux-x64-gnu`. */
function platformName(platform = process.platform, arch = process.arch, musl = platform === 'linux' && isMusl()) {
	if (platform === 'linux') {
		if (arch === 'arm') return musl ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf';
		return `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
	}
	if (platform === 'win32') return `win32-${arch}-msvc`;
	return `${platform}-${arch}`;
}

module.exports = { TARGETS, platformName, isMusl };
