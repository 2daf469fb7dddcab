import { api } from '$lib/api/client';
import type { InstanceConfig } from '$lib/api/types';
import type { AttachmentRules } from '$lib/attachments';

/** This server's public limits and switches (/api/v1/config), loaded once per page load. */
class Instance {
	config = $state<InstanceConfig | null>(null);
	#pending: Promise<InstanceConfig | null> | null = null;

	/** Fetch /config (deduplicated); a failed fetch leaves `config` null and is retried on the next call. */
	load(): Promise<InstanceConfig | null> {
		if (this.config) return Promise.resolve(this.config);
		this.#pending ??= api
			.GET('/api/v1/config')
			.then(({ data }) => {
				this.config = data ?? null;
				return this.config;
			})
			.catch(() => null)
			.finally(() => (this.#pending = null));
		return this.#pending;
	}

	/** What may be uploaded, or null when attachments are off (or the config could not be read). */
	get attachments(): AttachmentRules | null {
		return this.config?.allow_attachments ? this.config : null;
	}

	/** Unknown counts as on: the ticket routes answer with their own message when they are off. */
	get ticketsEnabled(): boolean {
		return this.config?.tickets_enabled ?? true;
	}

	/** Unknown counts as open: the server refuses a closed sign-up with its own message. */
	get signupEnabled(): boolean {
		return this.config?.signup_enabled ?? true;
	}

	/** Unknown counts as off: nothing may promise mail the server does not send. */
	get mailEnabled(): boolean {
		return this.config?.mail_enabled ?? false;
	}

	/** Unknown counts as off: new accounts confirm their address by a mailed link before signing in. */
	get verifyEmail(): boolean {
		return this.config?.verify_email ?? false;
	}

	get githubEnabled(): boolean {
		return this.config?.github_enabled ?? false;
	}
}

export const instance = new Instance();
