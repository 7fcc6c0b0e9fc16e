'use strict';
// What a published Linux addon must be: stripped, and loadable on glibc 2.17
// (its highest GLIBC_x.y symbol version). Read with binutils' readelf, which
// any machine that links Rust code has, and which reads an ELF file of any
// architecture (the release workflow checks cross-built addons).
const { execFileSync } = require('child_process');

function run(tool, args) {
	try {
		return execFileSync(tool, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
	} catch (err) {
		if (err.code === 'ENOENT') throw new Error(`${tool} (binutils) is needed to check the addon: install binutils`);
		throw err;
	}
}

const compareVersions = (a, b) => {
	const [x, y] = [a, b].map((v) => v.split('.').map(Number));
	for (let i = 0; i < Math.max(x.length, y.length); i++) {
		if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
	}
	return 0;
};

/** The highest GLIBC symbol version the file needs, e.g. '2.17', or null. */
function highestGlibc(file) {
	// The version needs (.gnu.version_r) name every versioned symbol's version.
	const versions = [...run('readelf', ['-V', '-W', file]).matchAll(/Name: GLIBC_(\d+(?:\.\d+)+)\b/g)].map((m) => m[1]);
	return versions.sort(compareVersions).pop() ?? null;
}

/** Section names that stripping removes and that are still there. */
function unstrippedSections(file) {
	const names = [...run('readelf', ['-S', '-W', file]).matchAll(/^\s*\[\s*\d+\]\s+(\S+)/gm)].map((m) => m[1]);
	return names.filter((name) => name === '.symtab' || name === '.strtab' || name.startsWith('.debug'));
}

module.exports = { highestGlibc, unstrippedSections, compareVersions };
