/**
 * Turning a parsed YAML document into data without letting it expand without bound: aliases
 * are capped (the yaml library's maxAliasCount) and the failure is bad input, not a crash.
 */
import { UsageError } from '../errors.js';

export const MAX_YAML_ALIASES = 100;

export function yamlToData(doc: import('yaml').Document, label: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch {
    // After a clean parse, the one way toJS fails is the alias cap (a "billion laughs" document).
    throw new UsageError(
      `${label}: its YAML aliases (*name) expand past ${MAX_YAML_ALIASES} copies; write the values out instead of aliasing them`,
    );
  }
}
