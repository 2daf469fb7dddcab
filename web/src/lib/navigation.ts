import type { Role } from '$lib/api/types';

/** Only same-origin paths are accepted as post-sign-in destinations (no open redirects). */
export function safeNext(next: string | null | undefined, fallback = '/'): string {
	if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
	if (next.startsWith('/login') || next.startsWith('/signup')) return fallback;
	return next;
}

/** Where a signed-in person starts: their tickets, or the triage inbox for staff. */
export function homeFor(role: Role): string {
	return role === 'user' ? '/tickets' : '/triage/unassigned';
}

/** The screens that show tickets (and so have nothing to show while tickets are switched off). */
export function isTicketScreen(pathname: string): boolean {
	return /^\/(tickets|triage|board|reports)(\/|$)/.test(pathname);
}
