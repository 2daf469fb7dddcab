import { api, CSRF_COOKIE, readCookie, rememberCsrfToken } from '$lib/api/client';
import type { Me } from '$lib/api/types';
import { isStaff } from '$lib/tickets/meta';

/** Who is signed in. Loaded once per page load; refreshed after sign-in/out. */
class Session {
	me = $state<Me | null>(null);
	loaded = $state(false);
	#pending: Promise<Me | null> | null = null;

	get staff(): boolean {
		return isStaff(this.me?.role);
	}
	get admin(): boolean {
		return this.me?.role === 'admin';
	}

	/** Fetch /me (deduplicated); resolves to null when signed out. */
	load(force = false): Promise<Me | null> {
		if (this.loaded && !force) return Promise.resolve(this.me);
		// The readable CSRF cookie lives exactly as long as the session cookie: without it there
		// is no session, and asking /me would only log a 401 in the console.
		if (typeof document !== 'undefined' && readCookie(document.cookie, CSRF_COOKIE) === null) {
			this.set(null);
			return Promise.resolve(null);
		}
		this.#pending ??= api
			.GET('/api/v1/me')
			.then(({ data }) => {
				this.set(data ?? null);
				return this.me;
			})
			.catch(() => {
				this.set(null);
				return null;
			})
			.finally(() => {
				this.#pending = null;
			});
		return this.#pending;
	}

	set(me: Me | null): void {
		this.me = me;
		this.loaded = true;
		rememberCsrfToken(me?.csrf_token);
	}

	async signOut(): Promise<void> {
		await api.POST('/api/v1/auth/logout').catch(() => undefined);
		this.set(null);
	}
}

export const session = new Session();
