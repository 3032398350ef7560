/** in-toto Attestation Framework v1: Statements and their predicates. The link predicate lives with the link model. */
export { STATEMENT_TYPE, INTOTO_PAYLOAD_TYPE, parseStatement, parseResourceDescriptor } from './statement.js';
export type { Statement, ResourceDescriptor } from './statement.js';
export { LINK_PREDICATE_V03 as LINK_PREDICATE_TYPE, linkToStatement } from '../intoto/models/statement-link.js';
