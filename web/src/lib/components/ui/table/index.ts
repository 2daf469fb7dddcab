export { default as Table } from './table.svelte';
export { default as TableBody } from './table-body.svelte';
export { default as TableHeader } from './table-header.svelte';
export { default as TableRow } from './table-row.svelte';
export { default as TableHead } from './table-head.svelte';
export { default as TableCell } from './table-cell.svelte';
export {
	default as Root
} from './table.svelte';
export { default as Body } from './table-body.svelte';
export { default as Header } from './table-header.svelte';
export { default as Row } from './table-row.svelte';
export { default as Head } from './table-head.svelte';
export { default as Cell } from './table-cell.svelte';
