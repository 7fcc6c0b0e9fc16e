// Types of balena-request-native: the same as balena-request 14.2's.
import type BalenaAuth from 'balena-auth';
import type * as Stream from 'stream';
import type * as urlLib from 'url';
import {
	BalenaRequestError,
	BalenaExpiredToken,
	BalenaInvalidParameterError,
} from 'balena-errors';

interface BalenaRequestOptions {
	method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';
	baseUrl?: string;
	uri?: string;
	url: string;
	apiKey?: string;
	sendToken?: boolean;
	refreshToken?: boolean;
	retries?: number;
	body?: any;
	json?: boolean;
	strictSSL?: boolean;
	responseFormat?: 'none' | 'blob' | 'json' | 'text';
	headers?: Record<string, string>;
	signal?: any;
	timeout?: number;
	qs?: any;
	gzip?: boolean;
	followRedirect?: boolean;
	/**
	 * send() only: the largest decoded body accepted, in bytes (default
	 * 512 MiB); a larger one fails with code ERR_BALENA_RESPONSE_TOO_LARGE.
	 * Not in balena-request.
	 */
	maxResponseSize?: number;
}

interface BalenaRequestResponse<T = any> extends Omit<Response, 'body'> {
	statusCode: number;
	body: T;
	duration: number;
	request: {
		headers: BalenaRequestOptions['headers'];
		uri: urlLib.UrlWithStringQuery;
	};
}

interface BalenaRequestStreamProgressEvent {
	total: number;
	received: number;
	eta: number;
	percentage: number;
}

interface BalenaRequestPassThroughStream extends Stream.PassThrough {
	response: BalenaRequestResponse;
	mime?: string | null;
}

interface BalenaRequestStreamResult extends Stream.Readable {
	mime: string;
	/**
	 * The parsed records of a record stream (Content-Type application/json-seq,
	 * application/x-ndjson, application/jsonl or application/x-jsonlines), with
	 * backpressure: the body is pulled as fast as the loop consumes. Throws a
	 * TypeError for any other content type. Every stream has it; it is optional
	 * here only so that balena-request's own stream type stays assignable.
	 */
	records?<T = any>(): AsyncIterableIterator<T>;
	on(event: 'progress', listener: (event: BalenaRequestStreamProgressEvent | undefined) => void): this;
	/** One parsed record of a record stream (see `records`); starts the flow like `data`. */
	on(event: 'value', listener: (value: any) => void): this;
	on(event: 'close', listener: () => void): this;
	on(event: 'data', listener: (chunk: any) => void): this;
	on(event: 'end', listener: () => void): this;
	on(event: 'error', listener: (err: Error) => void): this;
	on(event: 'pause', listener: () => void): this;
	on(event: 'readable', listener: () => void): this;
	on(event: 'resume', listener: () => void): this;
	on(event: string | symbol, listener: (...args: any[]) => void): this;
}

interface WebResourceFile extends Blob {
	name: string;
}

interface Interceptor {
	request?(response: any): Promise<any>;
	response?(response: any): Promise<any>;
	requestError?(error: Error): Promise<any>;
	responseError?(error: Error): Promise<any>;
}

interface RequestFactoryOptions {
	auth?: BalenaAuth;
	debug?: boolean;
	retries?: number;
	/** @deprecated */
	isBrowser?: boolean;
	interceptors?: Interceptor[];
}

// Properties holding functions (not methods), as upstream's inferred
// `ReturnType<typeof getRequest>` has: under strictFunctionTypes a property is
// checked contravariantly and a method bivariantly, so this keeps assignments
// between the two types checking alike.
interface BalenaRequest {
	send: <T = any>(options: BalenaRequestOptions) => Promise<BalenaRequestResponse<T>>;
	stream: (options: BalenaRequestOptions) => Promise<BalenaRequestStreamResult>;
	interceptors: Interceptor[];
	refreshToken: (options: Pick<BalenaRequestOptions, 'baseUrl'>) => Promise<string>;
}

declare function getRequest(options: RequestFactoryOptions): BalenaRequest;

declare function factory(options: RequestFactoryOptions): BalenaRequest;
declare namespace factory {
	export {
		getRequest,
		BalenaRequest,
		BalenaRequestError,
		BalenaExpiredToken,
		BalenaInvalidParameterError,
		BalenaRequestOptions,
		BalenaRequestResponse,
		BalenaRequestStreamResult,
		BalenaRequestStreamProgressEvent,
		BalenaRequestPassThroughStream,
		Interceptor,
		RequestFactoryOptions,
		WebResourceFile,
	};
}

export = factory;
