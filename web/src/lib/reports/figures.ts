/** What each chart of the Reports page draws from a report: one dataset a figure, or
 * with a split one dataset a value of it (its headline figure). */

export interface Dataset {
	label: string;
	data: (number | null)[];
}

export interface Chart {
	periods: string[];
	datasets: Dataset[];
}

interface SeriesLike<V> {
	name: string;
	points: { period: string; values: V }[];
}

export interface Figure<V> {
	label: string;
	read: (values: V) => number | null;
}

/** The chart of ``series``: ``figures`` of the one unsplit series, or the first figure of each split value. */
export function chartOf<V>(series: SeriesLike<V>[], figures: Figure<V>[], split: boolean): Chart {
	const periods = series[0]?.points.map((p) => p.period) ?? [];
	if (!split) {
		const only = series[0];
		return {
			periods,
			datasets: only ? figures.map((f) => ({ label: f.label, data: only.points.map((p) => f.read(p.values)) })) : []
		};
	}
	const headline = figures[0];
	return { periods, datasets: series.map((s) => ({ label: s.name, data: s.points.map((p) => headline.read(p.values)) })) };
}

/** Seconds as hours, one decimal. */
export function hours(seconds: number | null): number | null {
	return seconds === null ? null : Math.round(seconds / 360) / 10;
}

/** A share (0..1) as a percentage, one decimal. */
export function percent(share: number | null): number | null {
	return share === null ? null : Math.round(share * 1000) / 10;
}

/** The last ``days`` days up to ``today`` as ISO dates. */
export function lastDays(today: Date, days: number): { from: string; to: string } {
	const iso = (d: Date) => d.toISOString().slice(0, 10);
	const start = new Date(today);
	start.setUTCDate(start.getUTCDate() - (days - 1));
	return { from: iso(start), to: iso(today) };
}
