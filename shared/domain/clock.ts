import type { Clock } from './ports.js';

/** The wall clock; tests inject their own `Clock`. */
export const systemClock: Clock = { now: () => Date.now() };
