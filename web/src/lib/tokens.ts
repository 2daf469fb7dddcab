/** Personal access tokens: when a new one ends, and which tokens go when one is revoked. */

/** The choices the form offers: days from now, a date picked, or never. */
export type ExpiryChoice = '7' | '30' | '60' | '90' | '365' | 'custom' | 'never';

export const EXPIRY_CHOICES: { value: ExpiryChoice; label: string }[] = [
	{ value: '7', label: '7 days' },
	{ value: '30', label: '30 days' },
	{ value: '60', label: '60 days' },
	{ value: '90', label: '90 days' },
	{ value: '365', label: 'A year' },
	{ value: 'custom', label: 'On a date…' },
	{ value: 'never', label: 'No expiration' }
];

/** The API takes at most 366 days ahead; a picked date ends at its last second. */
export const MAX_CUSTOM_DAYS = 365;

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a local day, as a date input writes it. */
export function dateInputValue(day: Date): string {
	const pad = (n: number) => String(n).padStart(2, '0');
	return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}

/** The first and last day a date input may offer: tomorrow, and a year ahead. */
export function customDateBounds(now = new Date()): { min: string; max: string } {
	return {
		min: dateInputValue(new Date(now.getTime() + DAY_MS)),
		max: dateInputValue(new Date(now.getTime() + MAX_CUSTOM_DAYS * DAY_MS))
	};
}

/** `expires_at` for the API: an ISO time, `null` for never, `undefined` when the picked
 * date is missing or not a date. */
export function expiresAt(choice: ExpiryChoice, customDate: string, now = new Date()): string | null | undefined {
	if (choice === 'never') return null;
	if (choice === 'custom') {
		if (!/^\d{4}-\d{2}-\d{2}$/.test(customDate)) return undefined;
		const end = new Date(`${customDate}T23:59:59`);
		return Number.isNaN(end.getTime()) ? undefined : end.toISOString();
	}
	return new Date(now.getTime() + Number(choice) * DAY_MS).toISOString();
}

/** Whether a token's end has passed. */
export function isExpired(expires: string | null | undefined, now = Date.now()): boolean {
	return !!expires && new Date(expires).getTime() <= now;
}

/** The ids of the tokens made with `id`, with those made with them, and so on. */
export function descendants<T extends { id: string; parent_id?: string | null }>(tokens: T[], id: string): Set<string> {
	const found = new Set<string>();
	let generation = [id];
	while (generation.length) {
		generation = tokens.filter((t) => t.parent_id && generation.includes(t.parent_id) && !found.has(t.id)).map((t) => t.id);
		generation.forEach((child) => found.add(child));
	}
	return found;
}
