#!/usr/bin/env node
// `npm run package`: the npm tarballs this machine can make, in dist/:
// the main package (JS, and the Rust sources for a build on an unlisted
// platform; never a `.node`) and the platform package of every addon built
// here (`<binaryName>.<platform>.node` in the root, by scripts/build.js).
// The main package's manifest gains `optionalDependencies` naming every
// platform package at its version, as `napi pre-publish` does at release:
// the checkout's package.json cannot list them, or `npm ci` fails until
// they are on the registry.
// Before packing, it builds the addon for this system (cargo does nothing
// when it is up to date) and checks what users will load: stripped, and on
// Linux gnu no GLIBC symbol newer than 2.17.
//
//   node scripts/package.js [--out <dir>] [--no-build]
//
// The release workflow (.github/workflows/release.yml) builds every target
// on its own runner and publishes with the napi CLI instead.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { TARGETS, platformName } = require('../lib/platform');
const { build } = require('./build');
const { GLIBC } = require('./cargo');
const { highestGlibc, unstrippedSections, compareVersions } = require('./binary-check');

const root = path.join(__dirname, '..');
const pkg = require('../package.json');

function option(name, fallback) {
	const i = process.argv.indexOf(name);
	return i === -1 ? fallback : process.argv[i + 1];
}

/** The optionalDependencies of the published main package. */
function optionalDependencies() {
	return Object.fromEntries(Object.keys(TARGETS).map((platform) => [`${pkg.name}-${platform}`, pkg.version]));
}

// Every platform package must carry the main package's version (`npm
// version` runs `napi version`): lib/binding.js refuses any other.
function checkManifests() {
	const problems = [];
	for (const platform of Object.keys(TARGETS)) {
		const name = `${pkg.name}-${platform}`;
		const file = path.join(root, 'npm', platform, 'package.json');
		const manifest = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
		if (!manifest) problems.push(`${file} is missing (npx napi create-npm-dirs)`);
		else if (manifest.name !== name || manifest.version !== pkg.version) problems.push(`${file}: ${manifest.name}@${manifest.version}, want ${name}@${pkg.version}`);
	}
	if (problems.length) throw new Error(`package: manifests out of step:\n  ${problems.join('\n  ')}`);
}

// Returns the highest GLIBC version it needs (Linux gnu), for the summary.
function checkBinary(platform, file) {
	if (!platform.startsWith('linux-')) return null;
	const left = unstrippedSections(file);
	if (left.length) throw new Error(`${file} is not stripped (${left.join(', ')}): Cargo.toml's release profile strips it`);
	if (platform.endsWith('-gnu') || platform.endsWith('-gnueabihf')) {
		const glibc = highestGlibc(file);
		if (glibc && compareVersions(glibc, GLIBC) > 0) {
			throw new Error(`${file} needs GLIBC_${glibc}, newer than ${GLIBC}: build with cargo-zigbuild (pip install ziglang cargo-zigbuild)`);
		}
		return glibc;
	}
	return null;
}

function npmPack(dir, out) {
	const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
	const [result] = JSON.parse(json);
	return { file: path.join(out, result.filename), size: result.size, unpackedSize: result.unpackedSize, files: result.files.map((f) => f.path) };
}

// Packs the files npm itself would pack from the checkout (the `files`
// field), with the manifest the registry will get.
function packMain(out) {
	const [listing] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
	const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'brn-pack-'));
	try {
		for (const { path: file } of listing.files) {
			fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
			fs.copyFileSync(path.join(root, file), path.join(stage, file));
		}
		const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
		manifest.optionalDependencies = { ...manifest.optionalDependencies, ...optionalDependencies() };
		fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
		return npmPack(stage, out);
	} finally {
		fs.rmSync(stage, { recursive: true, force: true });
	}
}

function packageAll({ out = path.join(root, 'dist'), buildFirst = true } = {}) {
	checkManifests();
	if (buildFirst) build(platformName());
	fs.mkdirSync(out, { recursive: true });

	const packed = [];
	const main = packMain(out);
	const stray = main.files.filter((f) => f.endsWith('.node'));
	if (stray.length) throw new Error(`the main package must not carry an addon: ${stray.join(', ')}`);
	packed.push(main);

	for (const platform of Object.keys(TARGETS)) {
		const addon = `${pkg.napi.binaryName}.${platform}.node`;
		const built = path.join(root, addon);
		if (!fs.existsSync(built)) continue;
		const glibc = checkBinary(platform, built);
		// The layout `napi artifacts` makes: npm/<platform>/<binaryName>.<platform>.node
		const dir = path.join(root, 'npm', platform);
		fs.copyFileSync(built, path.join(dir, `${addon}.tmp`));
		fs.renameSync(path.join(dir, `${addon}.tmp`), path.join(dir, addon));
		const result = npmPack(dir, out);
		if (!result.files.includes(addon)) throw new Error(`${result.file} lacks ${addon}`);
		packed.push({ ...result, platform, glibc, addonSize: fs.statSync(built).size });
	}
	if (packed.length === 1) throw new Error(`no addon built in ${root}: run npm run build`);
	return packed;
}

if (require.main === module) {
	const packed = packageAll({
		out: path.resolve(option('--out', path.join(root, 'dist'))),
		buildFirst: !process.argv.includes('--no-build'),
	});
	const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
	for (const p of packed) {
		const addon = p.addonSize ? `, addon ${mb(p.addonSize)}${p.glibc ? `, needs GLIBC_${p.glibc}` : ''}` : '';
		console.log(`${path.relative(process.cwd(), p.file)}  ${mb(p.size)} packed, ${mb(p.unpackedSize)} unpacked${addon}`);
	}
}

module.exports = { packageAll, checkManifests, optionalDependencies };
