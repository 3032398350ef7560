// The clock is shared by the server, the agent and their caches; it lives in util/ (kept here for the server's imports).
export { ManualClock, systemClock, type Clock } from '../../util/clock.js';
