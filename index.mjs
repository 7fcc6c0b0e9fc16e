// The ESM entry (the `import` condition). It re-exports the objects of the
// CommonJS index.js, so an application that both imports and requires this
// package holds one factory, one set of error classes and one native engine
// (no dual-package hazard).
//
// Why a wrapper rather than CommonJS shaped for Node's cjs-module-lexer: the
// lexer guesses names from the source text, and what it recognises differs
// between Node releases and breaks silently when the code is refactored or
// minified; here the names are written out, Node 18, 20 and 22 read them the
// same way, and __test__/esm.spec.js fails if index.js gains a name that this
// list lacks.
import factory from './index.js';

export default factory;
export const { getRequest, BalenaRequestError, BalenaExpiredToken, BalenaInvalidParameterError, policies } = factory;
