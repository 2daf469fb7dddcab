/** Dates shown to people: relative for recent, absolute in the tooltip. */
const rtf = typeof Intl !== 'undefined' ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;

export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
	if (!iso) return '';
	const then = new Date(iso).getTime();
	if (Number.isNaN(then)) return '';
	const seconds = Math.round((then - now) / 1000);
	const abs = Math.abs(seconds);
	if (!rtf) return new Date(iso).toLocaleString();
	if (abs < 45) return 'just now';
	if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
	if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
	if (abs < 86400 * 30) return rtf.format(Math.round(seconds / 86400), 'day');
	return new Date(iso).toLocaleDateString();
}

export function absoluteTime(iso: string | null | undefined): string {
	return iso ? new Date(iso).toLocaleString() : '';
}

export function initials(name: string | null | undefined): string {
	if (!name) return '?';
	const parts = name.trim().split(/\s+/);
	return ((parts[0]?.[0] ?? '') + (parts.length > 1 ? (parts.at(-1)?.[0] ?? '') : '')).toUpperCase() || '?';
}
