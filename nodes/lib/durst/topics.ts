// The documented Durst Workflow subscription topics (1.7.6, 1.8.2 and 1.10.0 lists) and their validation.
// Pure module: the editor's topic builder, the subscription node and the simulator all use this catalogue.

export interface TopicDefinition {
    /** Topic as documented, with `{placeholder}` for ids, e.g. `STATUS/PRODUCTION_JOB/{jobid}`. */
    pattern: string;
    /** First Durst Workflow version documenting the topic. */
    since: '1.7.6' | '1.8.2' | '1.10.0';
    description: string;
}

export const DURST_TOPICS: readonly TopicDefinition[] = [
    { pattern: 'STATUS/*', since: '1.7.6', description: 'All status changes for Articles, Motifs, Print Orders and Production Jobs' },
    { pattern: 'STATUS/PRODUCTION_JOB/*', since: '1.7.6', description: 'Status changes for all Production Jobs' },
    { pattern: 'STATUS/PRODUCTION_JOB/{jobid}', since: '1.7.6', description: 'Status changes for a certain Production Job' },
    { pattern: 'STATUS/ARTICLE/*', since: '1.7.6', description: 'Status changes for all Articles' },
    { pattern: 'STATUS/ARTICLE/{articleid}', since: '1.7.6', description: 'Status changes for a certain Article' },
    { pattern: 'STATUS/MOTIF/*', since: '1.7.6', description: 'Status changes for all Motifs' },
    { pattern: 'STATUS/MOTIF/{motifid}', since: '1.7.6', description: 'Status changes for a certain Motif' },
    { pattern: 'STATUS/PRINT_ORDER/*', since: '1.7.6', description: 'Status changes for all Print Orders' },
    { pattern: 'STATUS/PRINT_ORDER/{orderid}', since: '1.7.6', description: 'Status changes for a certain Print Order' },
    { pattern: 'WORKFLOW/*', since: '1.7.6', description: 'Progress of all Workflows' },
    { pattern: 'WORKFLOW/{workflowid}/*', since: '1.7.6', description: 'Progress of a certain Workflow' },
    { pattern: 'WORKFLOW/motif-split-pages/*', since: '1.8.2', description: 'Progress of Split Pages processes, including the ids of the split Articles or Motifs' },
    { pattern: 'WORKFLOW/production-job-calculate-ink-usage/*', since: '1.8.2', description: 'Progress of ink calculation processes for Production Jobs' },
    { pattern: 'WORKFLOW/motif-calculate-ink-usage/*', since: '1.8.2', description: 'Progress of ink calculation processes for Motifs' },
    { pattern: 'WORKFLOW/motif-apply-ptb-chain/*', since: '1.8.2', description: 'Progress of Apply Fixup Chain processes' },
    { pattern: 'WORKFLOW/motif-checkin/*', since: '1.8.2', description: 'Progress of Check-In processes' },
    { pattern: 'WORKFLOW/generate-report-approval/*', since: '1.8.2', description: 'Progress of report generation processes' },
    { pattern: 'WORKFLOW/calculate-ink-usage/*', since: '1.8.2', description: 'Progress of ink calculation processes' },
    { pattern: 'WORKFLOW/motif-apply-profile/*', since: '1.8.2', description: 'Progress of Apply Fixup processes' },
    { pattern: 'REPO/*', since: '1.10.0', description: 'Updates and deletions of Substrate Categories, Substrates and Substrate Shapes' }
];

export type TopicValidation =
    | { valid: true; topic: string; definition: TopicDefinition; ids: Record<string, string> }
    | { valid: false; error: string };

const PLACEHOLDER = /^\{([a-z]+)\}$/;
// Durst ids are int32 values; placeholders accept decimal digits only (no sign, no spaces).
const ID = /^[0-9]{1,10}$/;

function matchDefinition(segments: string[], definition: TopicDefinition): Record<string, string> | undefined {
    const parts = definition.pattern.split('/');
    if (parts.length !== segments.length) { return undefined; }
    const ids: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
        const placeholder = PLACEHOLDER.exec(parts[i]);
        if (placeholder) {
            if (!ID.test(segments[i])) { return undefined; }
            ids[placeholder[1]] = segments[i];
        } else if (parts[i] !== segments[i]) {
            return undefined;
        }
    }
    return ids;
}

/**
 * Checks a topic against the documented catalogue. `{placeholder}` segments must be concrete numeric ids;
 * the documented pattern itself (with braces) is not a valid topic.
 */
export function validateTopic(topic: unknown): TopicValidation {
    if (typeof topic !== 'string' || topic.trim() === '') {
        return { valid: false, error: 'Durst topic is missing: set it in the node or in msg.topic (e.g. STATUS/PRODUCTION_JOB/*)' };
    }
    const trimmed = topic.trim();
    const segments = trimmed.split('/');
    // Exact literal patterns first, so WORKFLOW/motif-checkin/* resolves to its own (1.8.2) entry.
    const ordered = [...DURST_TOPICS].sort((a, b) => Number(a.pattern.includes('{')) - Number(b.pattern.includes('{')));
    for (const definition of ordered) {
        const ids = matchDefinition(segments, definition);
        if (ids) { return { valid: true, topic: trimmed, definition, ids }; }
    }
    if (/\{[^}]*\}/.test(trimmed)) {
        return { valid: false, error: `Durst topic "${trimmed}" still contains a placeholder: replace {…} with a numeric id` };
    }
    return {
        valid: false,
        error: `Unknown Durst topic "${trimmed}". Documented topics: ${DURST_TOPICS.map((d) => d.pattern).join(', ')}`
    };
}

/** True when the topic names one concrete entity (no wildcard), the case where publishInitialState applies. */
export function isConcreteTopic(topic: string): boolean {
    return !topic.split('/').includes('*');
}

/**
 * Whether a subscription topic covers a concrete event topic. A trailing `*` matches one or more
 * remaining segments (STATUS/* covers STATUS/MOTIF/11094).
 */
export function topicMatches(subscriptionTopic: string, eventTopic: string): boolean {
    const pattern = subscriptionTopic.split('/');
    const event = eventTopic.split('/');
    for (let i = 0; i < pattern.length; i++) {
        if (pattern[i] === '*') {
            if (i === pattern.length - 1) { return event.length > i; }
            if (event[i] === undefined) { return false; }
            continue;
        }
        if (pattern[i] !== event[i]) { return false; }
    }
    return pattern.length === event.length;
}
