'use strict';
// The native addon. Loaded, in this order, from:
// 1. a build in this package's own directory, `<binaryName>.<platform>.node`,
//    which `npm run build` (scripts/build.js) writes: a development checkout,
//    or a platform without a prebuilt package, built from source;
// 2. the prebuilt package for this platform, `balena-request-native-<platform>`,
//    one of our optionalDependencies (npm installs the one whose os, cpu and
//    libc match the system and skips the others).
// Anything else is an error that says what was looked for and what to do.
const fs = require('fs');
const path = require('path');
const { TARGETS, platformName } = require('./platform');
const pkg = require('../package.json');

const root = path.join(__dirname, '..');
const platform = platformName();
const localFile = path.join(root, `${pkg.napi.binaryName}.${platform}.node`);
const packageName = `${pkg.name}-${platform}`;

function loadLocal(tried) {
	if (!fs.existsSync(localFile)) return null;
	try {
		return require(localFile);
	} catch (err) {
		tried.push(`${localFile}: ${err.message}`);
		return null;
	}
}

function loadPackage(tried) {
	let version;
	try {
		version = require(`${packageName}/package.json`).version;
	} catch (err) {
		if (err.code !== 'MODULE_NOT_FOUND') throw err;
		tried.push(`${packageName}: not installed`);
		return null;
	}
	// The boundary between index.js and the addon is private and changes
	// between versions, so a stale platform package must not load.
	if (version !== pkg.version) {
		tried.push(`${packageName}: version ${version} installed, ${pkg.version} needed`);
		return null;
	}
	try {
		return require(packageName);
	} catch (err) {
		tried.push(`${packageName}: ${err.message}`);
		return null;
	}
}

function notFound(tried) {
	const prebuilt = Object.hasOwn(TARGETS, platform);
	const lines = [
		`${pkg.name}: no native addon for this platform, ${platform} (Node ${process.version}).`,
		`Tried: ${tried.join('; ')}.`,
		prebuilt
			? `A prebuilt addon for ${platform} is published as ${packageName}@${pkg.version}, an optional dependency ` +
				'of this package that npm installs only on a matching system. Reinstall without --omit=optional ' +
				`(or --no-optional), or add "${packageName}": "${pkg.version}" to your dependencies. A node_modules ` +
				'copied from another OS, CPU or C library (glibc vs musl) lacks it: run npm install on this system.'
			: `No prebuilt addon is published for ${platform} (prebuilt: ${Object.keys(TARGETS).join(', ')}).`,
		`To build it from source (needs Rust, https://rustup.rs): cd ${root} && npm run build`,
	];
	const err = new Error(lines.join('\n'));
	err.code = 'ERR_BALENA_REQUEST_NATIVE_ADDON';
	return err;
}

function load() {
	const tried = [];
	const binding = loadLocal(tried) ?? loadPackage(tried);
	if (!binding) throw notFound(tried);
	return binding;
}

module.exports = load();
