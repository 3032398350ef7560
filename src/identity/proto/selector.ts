/**
 * A selector `type:value`, e.g. `{type: 'unix', value: 'uid:1000'}` (written `unix:uid:1000` in entries):
 * what a node or workload attestor found, what a registration entry requires. The one selector type of the
 * identity plane: the datastore stores it, the agent API carries it, the workload attestors produce it.
 */
export interface Selector {
  type: string;
  value: string;
}
