import { api } from '$lib/api/client';
import type { CustomField, TicketType } from '$lib/api/types';

/** The custom fields the signed-in person may see, loaded once and shared. */
class CustomFields {
	items = $state<CustomField[]>([]);
	loaded = $state(false);
	#pending: Promise<void> | null = null;

	load(force = false): Promise<void> {
		if (this.loaded && !force) return Promise.resolve();
		this.#pending ??= api
			.GET('/api/v1/custom-fields')
			.then(({ data }) => {
				if (data) this.items = data;
				this.loaded = true;
			})
			.catch(() => undefined)
			.finally(() => (this.#pending = null));
		return this.#pending;
	}

	/** The fields a ticket of this type has. */
	forType(type: TicketType): CustomField[] {
		return this.items.filter((f) => f.ticket_types.includes(type));
	}

	byKey(key: string): CustomField | undefined {
		return this.items.find((f) => f.key === key);
	}
}

export const customFields = new CustomFields();
