/** RE2 regexes with Prometheus' semantics, for every place a user's regex is matched. */
export { compileRegex, type Regex, type RegexGroups, regexError } from './regex.js';
