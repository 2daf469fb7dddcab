/**
 * The choice a mailed rating link carries (`/rate#token=…&rating=good`), beside its secret
 * (read with `linkToken`).
 */
export function linkRating(hash: string): 'good' | 'bad' | null {
	const rating = new URLSearchParams(hash.replace(/^#/, '')).get('rating');
	return rating === 'good' || rating === 'bad' ? rating : null;
}
