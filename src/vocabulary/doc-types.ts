/** The kinds of school documents; the label a docType classifier learns. */
export const DOC_TYPES = ['verordnung', 'schulordnung', 'handreichung', 'erlass'] as const;
export type DocType = (typeof DOC_TYPES)[number];
