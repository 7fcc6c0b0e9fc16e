'use strict';
// The package imported as an ES module by name, under the Node running jest.
// (Other Node majors: esm-node-versions.spec.js.)
const { runEsmConsumer, expectEsmReport } = require('./esm-expectations');

it(`imports default and every named export, /utils and /build/utils, as the same objects as require, and sends requests (Node ${process.versions.node})`, async () => {
	expectEsmReport(await runEsmConsumer(process.execPath));
});
