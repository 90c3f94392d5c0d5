/*
 * The reference shop's public face: everything outside src/stack/ may use of
 * it, and the only module there it may import (test/architecture.test.ts and
 * the lint rule keep it so). The shop in turn imports nothing of the tool but
 * src/shared/ (durations, printable text, credential masking).
 *
 * What the shop offers the tool (and anyone):
 * - its settings: one schema for flags, SHOP_* variables and a scenario's
 *   `stack:` block, and how they resolve (stack-config.ts);
 * - its process: the entry point dist/stack/main.js, started by launchShop
 *   (`scalectl stack up`) and startReferenceTarget (`target: reference`),
 *   with its messages, exit codes and roles (protocol.ts);
 * - what it is measured by: the names of its series and its queue's Redis
 *   keys (protocol.ts), and its HTTP API, /metrics, /healthz and /readyz
 *   (docs/reference-stack.md);
 * - the Kubernetes autoscaling rules its in-process autoscalers run, which
 *   the capacity plan's surge simulation runs too (autoscale-rules.ts).
 */

export {
  STACK_CONFIG_ENV, SHOP_EXIT, STACK_ROLES, DEFAULT_KEY_PREFIX, ORDER_QUEUE, SHOP_SERIES, bullWaitList,
  EVENT_TYPES, EVENT_CONSUMERS, eventExchange, eventQueue,
  type ShopMessage, type StackRole, type EventType, type EventConsumer,
} from './protocol.js';
export {
  stackKnobs, stackConfigSchema, stackScenarioSchema, resolveStackConfig, stackConfigFromEnv, knobEnvName, configuredKeyPrefix,
  type StackConfig, type StackOptions,
} from './stack-config.js';
export { launchShop, SHOP_MAIN, type LaunchedShop } from './shop-launcher.js';
export { startReferenceTarget, stackSettings, type ReferenceTarget, type StackSettings } from './reference-target.js';
export {
  HPA_DEFAULTS, KEDA_DEFAULTS, hpaSync, kedaPoll, emptyMemory,
  type HpaRules, type KedaRules, type ScalerMemory,
} from './autoscale-rules.js';
