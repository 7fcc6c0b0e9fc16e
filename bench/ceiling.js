'use strict';
// The single-core inflate ceiling: how fast OUR gzip decoder (the engine's
// `Decoder`, the code downloads use) turns a gzip body into output with no
// network and no JS in the loop. A gzip download can at best reach this on
// one core; `stream-gzip / ceiling` says how much of it the download keeps.
//
// The compressed bytes come from the bench server once (undici.request
// does not decompress), then the addon's benchmark-support function decodes
// them again and again on this thread for `seconds`.

const undici = require('undici');

/** MB/s (10^6 bytes of decoded output per second), as the download rows count. */
async function inflateCeiling(url, seconds) {
	const response = await undici.request(url);
	if (response.headers['content-encoding'] !== 'gzip') throw new Error(`${url}: not a gzip body`);
	const gzip = Buffer.from(await response.body.arrayBuffer());
	if (gzip.length !== Number(response.headers['x-transfer-length'])) throw new Error(`${url}: short body`);
	const { inflateThroughput } = require('../lib/binding');
	// Untimed pass: page in the decoder's buffers and let the CPU clock up.
	inflateThroughput(gzip, 0.5);
	return { MBs: inflateThroughput(gzip, seconds) };
}

module.exports = { inflateCeiling };
