// Types of `balena-request-native/utils` (also served as `/build/utils`):
// the names utils.js exports, typed as balena-request 14.2's build/utils.d.ts
// types them. __test__/types.spec.js checks that these names and utils.js's
// run-time names are the same set.
import type BalenaAuth from 'balena-auth';
import type { Readable } from 'stream';

export declare const TOKEN_REFRESH_INTERVAL: number;
export declare function shouldRefreshKey(auth: BalenaAuth): Promise<boolean>;
export declare function getAuthorizationHeader(auth: BalenaAuth | undefined): Promise<string | undefined>;
export declare function getErrorMessageFromResponse(response: any): any;
export declare function isErrorCode(statusCode: number): boolean;
export declare function isResponseCompressed(response: any): boolean;
export declare function getResponseLength(response: any): { uncompressed: number | undefined; compressed: number | undefined };
/** A shallow copy of request options with the API key, `apikey` query values and secret headers redacted. */
export declare function redactOptions<T extends object>(options: T): T;
export declare function debugRequest(options: any, response: any): void;
export declare function getBody(response: any, responseFormat?: string): Promise<any>;
export declare function getStreamContents(stream: Readable): Promise<string>;
