/**
 * The secret of a mailed link (password reset, invitation, address confirmation).
 *
 * Links carry it in the fragment (`/reset-password#token=…`): a browser never sends the
 * fragment to the server, so it reaches no access log and no Referer. The page posts it.
 */
export function linkToken(hash: string): string | null {
	const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
	return token && /^[A-Za-z0-9_-]{1,200}$/.test(token) ? token : null;
}
