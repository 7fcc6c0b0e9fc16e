import type BalenaAuth from 'balena-auth';
import type { Readable } from 'stream';

export declare const TOKEN_REFRESH_INTERVAL: number;
export declare function shouldRefreshKey(auth: BalenaAuth): Promise<boolean>;
export declare function getAuthorizationHeader(auth: BalenaAuth | undefined): Promise<string | undefined>;
export declare function getErrorMessageFromResponse(response: any): any;
export declare function isErrorCode(statusCode: number): boolean;
export declare function isResponseCompressed(response: any): boolean;
export declare function getResponseLength(response: any): { uncompressed: number | undefined; compressed: number | undefined };
export declare function debugRequest(options: any, response: any): void;
export declare function getBody(response: any, responseFormat?: string): Promise<any>;
export declare function getStreamContents(stream: Readable): Promise<string>;
