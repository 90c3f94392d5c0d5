/*
 * Rules the zod schema checks in code (superRefine) written as JSON Schema,
 * for the editor schema (docs/scenario.schema.json). Attach them with
 * `.meta(...)` beside the check they mirror, so they stay together.
 */

/**
 * Exactly one of `keys`; `with` names other keys each one needs (present)
 * or refuses (absent). As `oneOf` of `required`, each branch refusing the
 * other keys (`properties: { other: false }`), so that two together match none.
 */
export function exactlyOneOf(keys: readonly string[], rules: { needs?: Record<string, string[]>; refuses?: Record<string, string[]> } = {}): { oneOf: Record<string, unknown>[] } {
  return {
    oneOf: keys.map((k) => {
      const absent = [...keys.filter((o) => o !== k), ...(rules.refuses?.[k] ?? [])];
      const present = [k, ...(rules.needs?.[k] ?? [])];
      // `true` for the required keys too: ajv's strictRequired looks for them in the same `properties`.
      return { required: present, properties: Object.fromEntries([...present.map((o) => [o, true]), ...absent.map((o) => [o, false])]) };
    }),
  };
}

/** At least one of `keys` (as `anyOf` of `required`, each with its `properties` entry for ajv's strictRequired). */
export function atLeastOneOf(keys: readonly string[]): { anyOf: Record<string, unknown>[] } {
  return { anyOf: keys.map((k) => ({ required: [k], properties: { [k]: true } })) };
}

/** Not all of `keys` together (as `not` of `required`, with `properties` entries for ajv's strictRequired). */
export function notTogether(keys: readonly string[]): { not: Record<string, unknown> } {
  return { not: { required: [...keys], properties: Object.fromEntries(keys.map((k) => [k, true])) } };
}
