/** The theme's colours as Chart.js draws them: CSS variables resolved to rgb(). */

const CHART_VARIABLES = ['--chart-1', '--chart-2', '--chart-3', '--chart-4', '--chart-5', '--chart-6'];

/** ``value`` (any CSS colour, oklch included) as rgb()/rgba(), by painting one pixel. */
function toRgb(value: string, context: CanvasRenderingContext2D): string {
	context.clearRect(0, 0, 1, 1);
	context.fillStyle = value;
	context.fillRect(0, 0, 1, 1);
	const [r, g, b, a] = context.getImageData(0, 0, 1, 1).data;
	return a === 255 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${(a / 255).toFixed(3)})`;
}

export interface ChartColors {
	series: string[];
	text: string;
	grid: string;
}

/** The current theme's chart colours (read again after the theme changes). */
export function chartColors(): ChartColors {
	const style = getComputedStyle(document.documentElement);
	const canvas = document.createElement('canvas');
	canvas.width = canvas.height = 1;
	const context = canvas.getContext('2d', { willReadFrequently: true });
	const read = (name: string) => {
		const value = style.getPropertyValue(name).trim();
		return context ? toRgb(value, context) : value;
	};
	return { series: CHART_VARIABLES.map(read), text: read('--muted-foreground'), grid: read('--border') };
}
