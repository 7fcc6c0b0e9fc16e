// The ESM entry of `balena-request-native/utils` (and `/build/utils`): the
// helpers of the CommonJS utils.js, re-exported from that one module object
// (see index.mjs for why a wrapper). The default export is the module object
// itself; stubbing a helper on it (sinon) changes what the engine calls, while
// a named import is a copy taken at load time, as with any CommonJS module.
import utils from './utils.js';

export default utils;
export const {
	TOKEN_REFRESH_INTERVAL,
	shouldRefreshKey,
	getAuthorizationHeader,
	getErrorMessageFromResponse,
	isErrorCode,
	isResponseCompressed,
	getResponseLength,
	redactOptions,
	debugRequest,
	getBody,
	getStreamContents,
} = utils;
