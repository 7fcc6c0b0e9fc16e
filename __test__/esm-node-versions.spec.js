'use strict';
// The ESM test of esm.spec.js on Node 18 and 22 (the package supports
// Node >= 18; jest itself runs on one version). Each is skipped only when its
// binary is absent: `node __test__/esm-fetch-node.js` fetches both.
const { MAJORS, nodeBinary } = require('./esm-fetch-node');
const { runEsmConsumer, expectEsmReport } = require('./esm-expectations');

describe('ESM import on other Node majors', () => {
	for (const major of MAJORS) {
		const binary = nodeBinary(major);
		const title = binary
			? `Node ${major}: default and named imports are the CommonJS objects, and requests work`
			: `Node ${major}: SKIPPED, no Node ${major} binary (run: node __test__/esm-fetch-node.js)`;
		(binary ? it : it.skip)(title, async () => {
			expectEsmReport(await runEsmConsumer(binary), major);
		});
	}
});
