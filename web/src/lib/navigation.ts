/** Only same-origin paths are accepted as post-sign-in destinations (no open redirects). */
export function safeNext(next: string | null | undefined, fallback = '/'): string {
	if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
	if (next.startsWith('/login') || next.startsWith('/signup')) return fallback;
	return next;
}
