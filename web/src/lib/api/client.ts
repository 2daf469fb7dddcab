import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

export const CSRF_COOKIE = 'ticketdesk_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Read one cookie's value from a `document.cookie` string. */
export function readCookie(cookieString: string, name: string): string | null {
	for (const part of cookieString.split(';')) {
		const eq = part.indexOf('=');
		if (eq === -1) continue;
		if (part.slice(0, eq).trim() === name) {
			const raw = part.slice(eq + 1).trim();
			try {
				return decodeURIComponent(raw);
			} catch {
				return raw;
			}
		}
	}
	return null;
}

/** The CSRF token to echo: the readable cookie wins, else the one from the last /me answer. */
let fallbackCsrfToken: string | null = null;
export function rememberCsrfToken(token: string | null | undefined): void {
	fallbackCsrfToken = token ?? null;
}

export function currentCsrfToken(): string | null {
	const fromCookie = typeof document === 'undefined' ? null : readCookie(document.cookie, CSRF_COOKIE);
	return fromCookie ?? fallbackCsrfToken;
}

/** Whether a request with this method changes state and so needs the CSRF header. */
export function isUnsafeMethod(method: string): boolean {
	return !SAFE_METHODS.has(method.toUpperCase());
}

/** Adds X-CSRF-Token to unsafe requests (the session cookie alone is not enough). */
export const csrfMiddleware: Middleware = {
	onRequest({ request }) {
		if (isUnsafeMethod(request.method)) {
			const token = currentCsrfToken();
			if (token && !request.headers.has(CSRF_HEADER)) request.headers.set(CSRF_HEADER, token);
		}
		return request;
	}
};

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();
/** Called when any API call answers 401, so the app can send the person to sign in. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
	unauthorizedListeners.add(listener);
	return () => unauthorizedListeners.delete(listener);
}

const unauthorizedMiddleware: Middleware = {
	onResponse({ response, request }) {
		const url = new URL(request.url, 'http://x');
		if (response.status === 401 && !url.pathname.endsWith('/auth/login')) {
			for (const listener of unauthorizedListeners) listener();
		}
		return response;
	}
};

/** Build a typed API client; `fetch` is injectable for tests. */
export function createApiClient(options: { baseUrl?: string; fetch?: typeof fetch } = {}) {
	const client = createClient<paths>({
		baseUrl: options.baseUrl ?? '',
		credentials: 'include',
		fetch: options.fetch
	});
	client.use(csrfMiddleware, unauthorizedMiddleware);
	return client;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export const api = createApiClient({
	baseUrl: typeof window === 'undefined' ? 'http://localhost' : window.location.origin
});
