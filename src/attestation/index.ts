export { STATEMENT_TYPE, INTOTO_PAYLOAD_TYPE, parseStatement, parseResourceDescriptor } from './statement.js';
export type { Statement, ResourceDescriptor } from './statement.js';
export { LINK_PREDICATE_TYPE, linkToStatement, statementToLink } from './link-predicate.js';
export type { LinkPredicate } from './link-predicate.js';
