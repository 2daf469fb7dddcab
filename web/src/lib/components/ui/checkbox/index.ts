export { default as Checkbox } from './checkbox.svelte';
