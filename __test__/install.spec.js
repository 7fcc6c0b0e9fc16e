'use strict';
// Distribution, as a user meets it: the tarballs `npm run package` makes are
// installed into fresh projects in a temporary directory, with `cargo` out
// of reach, and used there by real processes.
// - balena-sdk with the `overrides` line and this system's platform package:
//   the SDK sends real requests to a local server through this package;
// - the main package alone: a clear error that names the platform, the
//   package it looked for and what to do; a stale platform package is
//   refused; a build in the package's own directory (from source) loads.
// The tarballs are packed from the addon `npm test` built (scripts/build.js),
// the same file the other tests load: one build per CI run.
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { platformName } = require('../lib/platform');
const { GLIBC } = require('../scripts/cargo');
const { highestGlibc, unstrippedSections, compareVersions } = require('../scripts/binary-check');
const pkg = require('../package.json');

const root = path.join(__dirname, '..');
const platform = platformName();
const addonName = `${pkg.napi.binaryName}.${platform}.node`;
const platformPackage = `${pkg.name}-${platform}`;
const sdkVersion = require('balena-sdk/package.json').version;

const INSTALL_TIMEOUT = 300e3;

// npm lifecycle variables of the `npm test` that runs jest (local prefix,
// package fields) must not reach the npm that installs the temp projects.
const KEEP_NPM = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_registry']);
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || KEEP_NPM.has(key.toLowerCase())));
// The user's machine has Node and npm, no Rust.
const noCargoPath = [path.dirname(process.execPath), ...process.env.PATH.split(path.delimiter)]
	.filter((dir) => dir && !fs.existsSync(path.join(dir, process.platform === 'win32' ? 'cargo.exe' : 'cargo')))
	.join(path.delimiter);
const userEnv = { ...baseEnv, PATH: noCargoPath };
delete userEnv.NODE_PATH;

const run = (cmd, args, options) => spawnSync(cmd, args, { encoding: 'utf8', env: userEnv, timeout: INSTALL_TIMEOUT, ...options });

function npmInstall(dir, manifest) {
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), version: '0.0.0', private: true, ...manifest }, null, 2));
	const result = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier'], { cwd: dir });
	if (result.status !== 0) throw new Error(`npm install in ${dir} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
}

let tmp;
let tarballs;
beforeAll(() => {
	if (!fs.existsSync(path.join(root, addonName))) throw new Error(`${addonName} is not built: run node scripts/build.js`);
	const cargo = run('cargo', ['--version']);
	if (!cargo.error || cargo.error.code !== 'ENOENT') throw new Error(`cargo is still reachable on the PATH given to npm and node: ${noCargoPath}`);
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'brn-install-'));
	const out = path.join(tmp, 'dist');
	execFileSync(process.execPath, [path.join(root, 'scripts', 'package.js'), '--no-build', '--out', out], { cwd: root, env: baseEnv, stdio: ['ignore', 'ignore', 'inherit'] });
	tarballs = {
		main: path.join(out, `${pkg.name}-${pkg.version}.tgz`),
		platform: path.join(out, `${platformPackage}-${pkg.version}.tgz`),
	};
}, 60e3);
afterAll(() => {
	if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const tarList = (file) => execFileSync('tar', ['tzf', file], { encoding: 'utf8' }).trim().split('\n').sort();

it('the main tarball carries the JS and the Rust sources, no addon, and names the platform packages; the platform tarball one addon', () => {
	const main = tarList(tarballs.main);
	expect(main.filter((f) => f.endsWith('.node'))).toEqual([]);
	for (const file of ['index.js', 'lib/binding.js', 'lib/platform.js', 'scripts/build.js', 'Cargo.toml', 'Cargo.lock', 'build.rs', 'src/lib.rs']) {
		expect(main).toContain(`package/${file}`);
	}
	const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarballs.main, 'package/package.json'], { encoding: 'utf8' }));
	expect(manifest.optionalDependencies).toMatchObject({ [platformPackage]: pkg.version });
	expect(Object.keys(manifest.optionalDependencies)).toHaveLength(pkg.napi.targets.length);
	expect(tarList(tarballs.platform)).toEqual(['package/README.md', `package/${addonName}`, 'package/package.json']);
});

describe(`balena-sdk ${sdkVersion} with the overrides line and ${platformPackage}`, () => {
	let dir;
	beforeAll(() => {
		dir = path.join(tmp, 'sdk-project');
		npmInstall(dir, {
			dependencies: { 'balena-sdk': sdkVersion },
			// What a user writes is "npm:balena-request-native@^1"; the
			// registry does not have these tarballs, so point at them.
			overrides: { 'balena-request': `file:${tarballs.main}`, [platformPackage]: `file:${tarballs.platform}` },
		});
	}, INSTALL_TIMEOUT);

	it('the SDK runs on this package and its requests reach a local server', () => {
		fs.copyFileSync(path.join(__dirname, 'fixtures', 'installed-sdk.js'), path.join(dir, 'installed-sdk.js'));
		const result = run(process.execPath, ['installed-sdk.js'], { cwd: dir, timeout: 60e3 });
		expect(result.stderr).toBe('');
		expect(result.status).toBe(0);
		const report = JSON.parse(result.stdout);
		expect(report.balenaRequest).toBe(pkg.name);
		expect(report.addons).toEqual([path.join(fs.realpathSync(dir), 'node_modules', platformPackage, addonName)]);
		expect(report.devices).toEqual([{ id: 1, device_name: 'raspberry pi' }]);
		expect(report.ping).toEqual({ statusCode: 200, body: 'pong' });
		expect(report.seen).toEqual([
			{ method: 'GET', url: '/v7/device?$select=id,device_name', authorization: `Bearer ${report.token}`, client: expect.stringMatching(/^balena-sdk\//) },
			{ method: 'GET', url: '/ping', authorization: null, client: expect.stringMatching(/^balena-sdk\//) },
		]);
	});

	it(`the installed addon is stripped${platform.includes('-gnu') ? ` and needs no glibc newer than ${GLIBC}` : ''}`, () => {
		if (!platform.startsWith('linux-')) return;
		const file = path.join(dir, 'node_modules', platformPackage, addonName);
		expect(unstrippedSections(file)).toEqual([]);
		if (platform.includes('-gnu')) {
			const glibc = highestGlibc(file);
			expect(glibc).toMatch(/^2\.\d+$/);
			expect(compareVersions(glibc, GLIBC)).toBeLessThanOrEqual(0);
		}
	});
});

describe('the main package alone', () => {
	let dir;
	let installed;
	const requireIt = () => run(process.execPath, ['-e', `require('${pkg.name}'); console.log(Object.keys(require.cache).filter((f) => f.endsWith('.node')).join())`], { cwd: dir, timeout: 30e3 });
	beforeAll(() => {
		dir = path.join(tmp, 'main-only');
		npmInstall(dir, { dependencies: { [pkg.name]: `file:${tarballs.main}` } });
		installed = path.join(fs.realpathSync(dir), 'node_modules', pkg.name);
	}, INSTALL_TIMEOUT);

	it('require() fails with an error naming the platform, the package it looked for and what to do', () => {
		expect(fs.existsSync(path.join(dir, 'node_modules', platformPackage))).toBe(false);
		const result = requireIt();
		expect(result.status).toBe(1);
		expect(result.stderr).toContain(`${pkg.name}: no native addon for this platform, ${platform} (Node ${process.version}).`);
		expect(result.stderr).toContain(`${platformPackage}: not installed`);
		expect(result.stderr).toContain(`published as ${platformPackage}@${pkg.version}`);
		expect(result.stderr).toContain('Reinstall without --omit=optional');
		expect(result.stderr).toContain(`To build it from source (needs Rust, https://rustup.rs): cd ${installed} && npm run build`);
	});

	it('a platform package of another version is refused', () => {
		const stale = path.join(dir, 'node_modules', platformPackage);
		fs.mkdirSync(stale);
		try {
			fs.writeFileSync(path.join(stale, 'package.json'), JSON.stringify({ name: platformPackage, version: '0.0.1', main: addonName }));
			fs.copyFileSync(path.join(root, addonName), path.join(stale, addonName));
			const result = requireIt();
			expect(result.status).toBe(1);
			expect(result.stderr).toContain(`${platformPackage}: version 0.0.1 installed, ${pkg.version} needed`);
		} finally {
			fs.rmSync(stale, { recursive: true });
		}
	});

	it("an addon built in the package's own directory (from source) is loaded", () => {
		// The sources are all there: cargo can read the manifest and its
		// workspace from the installed package. (Where cargo exists: the
		// release workflow also runs this file in containers without Rust.)
		const metadata = spawnSync('cargo', ['metadata', '--no-deps', '--offline', '--format-version', '1'], { cwd: installed, encoding: 'utf8', env: baseEnv });
		if (metadata.error?.code !== 'ENOENT') {
			expect(metadata.stderr).toBe('');
			expect(JSON.parse(metadata.stdout).packages.map((p) => p.name)).toEqual([pkg.name]);
		}
		// scripts/build.js would write the addon here; copy the one built already.
		const local = path.join(installed, addonName);
		fs.copyFileSync(path.join(root, addonName), local);
		try {
			const result = requireIt();
			expect(result.stderr).toBe('');
			expect(result.stdout.trim()).toBe(local);
		} finally {
			fs.rmSync(local);
		}
	});
});
