// The status texts of every node come from its own catalogue (`<type>.status.<key>`): one typed way to set them.
import type { Node, NodeAPI, NodeStatusFill, NodeStatusShape } from 'node-red';

/** Substitutions into a catalogue text (i18next's `__name__`). */
export type StatusVars = Record<string, string | number>;

export interface NodeStatus {
    /** The catalogue text `<type>.status.<key>`. */
    text(key: string, vars?: StatusVars): string;
    set(fill: NodeStatusFill, shape: NodeStatusShape, key: string, vars?: StatusVars): void;
    clear(): void;
}

export function nodeStatus(RED: NodeAPI, node: Node, type: string): NodeStatus {
    const text = (key: string, vars?: StatusVars): string => RED._(`${type}.status.${key}`, vars);
    return {
        text,
        set: (fill, shape, key, vars) => node.status({ fill, shape, text: text(key, vars) }),
        clear: () => node.status({})
    };
}
