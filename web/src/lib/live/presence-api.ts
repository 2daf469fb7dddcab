/**
 * The presence endpoints (staff only): who else has a ticket open, and whether they are writing.
 *
 * Described here by hand until openapi.json has them. Then `PresencePaths` gives way to the
 * generated `paths` — calls through `presenceApi` read exactly as they will through `api` —
 * and the three types below become names in `$lib/api/types`. Nothing else needs to change.
 */
import { API_BASE_URL, createApiClient } from '$lib/api/client';
import type { UserRef } from '$lib/api/types';

export type PresenceState = 'viewing' | 'replying';

/** Another member of staff on the ticket, since when, and what they do there. */
export interface PresenceEntry {
	user: UserRef;
	state: PresenceState;
	since: string;
}

/** The others present on a ticket (never the caller). */
export interface PresenceList {
	others: PresenceEntry[];
}

type Json<T> = { headers: { [name: string]: unknown }; content: { 'application/json': T } };
type TicketPath = { query?: never; header?: never; path: { id: string }; cookie?: never };

/** `/api/v1/tickets/{id}/presence`, in the shape openapi-typescript generates. */
export interface PresencePaths {
	'/api/v1/tickets/{id}/presence': {
		parameters: { query?: never; header?: never; path?: never; cookie?: never };
		/** Who else is on the ticket. */
		get: { parameters: TicketPath; requestBody?: never; responses: { 200: Json<PresenceList> } };
		/** Be on the ticket (again) for the next 45 s, viewing or replying; answers who else is. */
		put: {
			parameters: TicketPath;
			requestBody: { content: { 'application/json': { state: PresenceState } } };
			responses: { 200: Json<PresenceList> };
		};
		/** Leave the ticket now. */
		delete: { parameters: TicketPath; requestBody?: never; responses: { 204: { headers: { [name: string]: unknown }; content?: never } } };
	};
}

/** A client for the presence endpoints; `fetch` is injectable for tests. */
export function createPresenceClient(options: { baseUrl?: string; fetch?: typeof fetch } = {}) {
	return createApiClient<PresencePaths>(options);
}

export type PresenceClient = ReturnType<typeof createPresenceClient>;

export const presenceApi = createPresenceClient({ baseUrl: API_BASE_URL });
