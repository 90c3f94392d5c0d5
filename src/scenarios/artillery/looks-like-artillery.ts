/**
 * True for the shape of an Artillery script: a top-level `scenarios` list
 * and a `config` mapping with a `target` or `phases`, and no scalectl
 * `flows`.
 */
export function looksLikeArtillery(data: unknown): boolean {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const d = data as Record<string, unknown>;
  const config = d.config as Record<string, unknown> | undefined;
  return d.flows === undefined && Array.isArray(d.scenarios) &&
    config !== null && typeof config === 'object' && (config.target !== undefined || config.phases !== undefined || config.environments !== undefined);
}
