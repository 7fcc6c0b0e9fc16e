'use strict';
// Named indices for the records a call carries across N-API as arrays
// (src/js/boundary.rs defines each record once; its field names come from
// the addon here). `wire[WIRE.baseUrl]` in JS is `WireJs::base_url` in
// Rust: follow a value across by its name.
const { boundaryLayout } = require('./binding');

const layout = boundaryLayout();

/** `{ name: index }` for one record, plus its `length`. */
function indices(record) {
	const names = layout[record];
	if (!Array.isArray(names)) {
		throw new Error(`balena-request-native: the addon defines no boundary record "${record}" (rebuild it)`);
	}
	return Object.freeze(Object.fromEntries([...names.map((name, i) => [name, i]), ['length', names.length]]));
}

module.exports = {
	CALL_INIT: indices('callInit'),
	WIRE: indices('wire'),
	PATCH: indices('patch'),
	RESPONSE: indices('response'),
	SETTLED: indices('settled'),
	/** Every record's field names, in array order (for the boundary test). */
	layout,
};
