import { Tabs as TabsPrimitive } from 'bits-ui';
import List from './tabs-list.svelte';
import Trigger from './tabs-trigger.svelte';
import Content from './tabs-content.svelte';

export const Root = TabsPrimitive.Root;
export { List, Trigger, Content };
