'use strict';
// Which platform package the loader asks for, that the published targets are
// listed the same way everywhere, and that the binary checks `npm run
// package` and the install test rely on do reject what they must.
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { TARGETS, platformName, isMusl } = require('../lib/platform');
const { checkManifests, optionalDependencies } = require('../scripts/package');
const { highestGlibc, unstrippedSections, compareVersions } = require('../scripts/binary-check');
const pkg = require('../package.json');

const root = path.join(__dirname, '..');

it('names platforms as napi-rs does, libc included on Linux', () => {
	expect(platformName('linux', 'x64', false)).toBe('linux-x64-gnu');
	expect(platformName('linux', 'x64', true)).toBe('linux-x64-musl');
	expect(platformName('linux', 'arm64', true)).toBe('linux-arm64-musl');
	expect(platformName('linux', 'arm', false)).toBe('linux-arm-gnueabihf');
	expect(platformName('linux', 'arm', true)).toBe('linux-arm-musleabihf');
	expect(platformName('darwin', 'arm64')).toBe('darwin-arm64');
	expect(platformName('win32', 'x64')).toBe('win32-x64-msvc');
	expect(platformName('freebsd', 'x64')).toBe('freebsd-x64');
});

it('tells glibc from musl on this system the way its own loader reports it', () => {
	if (process.platform !== 'linux') return;
	const glibc = Boolean(process.report.getReport().header.glibcVersionRuntime);
	expect(isMusl()).toBe(!glibc);
	expect(platformName().endsWith(glibc ? '-gnu' : '-musl') || platformName().endsWith(glibc ? '-gnueabihf' : '-musleabihf')).toBe(true);
});

it('lists the same targets in lib/platform.js, napi.targets, npm/ and the packed optionalDependencies', () => {
	expect(Object.values(TARGETS).sort()).toEqual([...pkg.napi.targets].sort());
	expect(fs.readdirSync(path.join(root, 'npm')).sort()).toEqual(Object.keys(TARGETS).sort());
	expect(Object.keys(optionalDependencies()).sort()).toEqual(Object.keys(TARGETS).map((p) => `${pkg.name}-${p}`).sort());
	expect(new Set(Object.values(optionalDependencies()))).toEqual(new Set([pkg.version]));
	// Added when packing and publishing only: `npm ci` in the checkout fails
	// on optional dependencies the registry does not have yet.
	expect(pkg.optionalDependencies).toBeUndefined();
	expect(() => checkManifests()).not.toThrow();
	for (const platform of Object.keys(TARGETS)) {
		const manifest = require(`../npm/${platform}/package.json`);
		const [system, cpu, abi] = platform.split('-');
		expect(manifest).toMatchObject({ name: `${pkg.name}-${platform}`, version: pkg.version, os: [system], cpu: [cpu], main: `${pkg.napi.binaryName}.${platform}.node` });
		expect(manifest.files).toEqual([manifest.main]);
		// npm skips a package whose libc does not match the system's.
		expect(manifest.libc).toEqual(abi?.startsWith('gnu') ? ['glibc'] : abi === 'musl' ? ['musl'] : undefined);
	}
});

it('orders versions numerically', () => {
	expect(compareVersions('2.17', '2.9')).toBeGreaterThan(0);
	expect(compareVersions('2.17', '2.17')).toBe(0);
	expect(compareVersions('2.3.4', '2.17')).toBeLessThan(0);
});

it('the binary checks see symbols and a glibc newer than 2.17 in a plain C program built here', () => {
	if (process.platform !== 'linux') return;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brn-elf-'));
	try {
		const exe = path.join(dir, 'hello');
		execFileSync('cc', ['-x', 'c', '-', '-o', exe], { input: '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' });
		expect(unstrippedSections(exe)).toContain('.symtab');
		const systemGlibc = process.report.getReport().header.glibcVersionRuntime;
		if (systemGlibc && compareVersions(systemGlibc, '2.34') >= 0) {
			// glibc 2.34 moved __libc_start_main to a new symbol version.
			expect(compareVersions(highestGlibc(exe), '2.17')).toBeGreaterThan(0);
		}
		execFileSync('strip', [exe]);
		expect(unstrippedSections(exe)).toEqual([]);
	} finally {
		fs.rmSync(dir, { recursive: true });
	}
});
