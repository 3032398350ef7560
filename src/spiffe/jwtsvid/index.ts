export { JwtSvid, type JwtSvidSource, type JwtSvidValidateOptions } from './svid.js';
export { signJwtSvid, type SignJwtSvidOptions } from './sign.js';
export { ALLOWED_ALGORITHMS, type JwtSvidAlgorithm } from './algorithms.js';
export { JwtSvidError, type JwtSvidErrorReason } from './errors.js';
