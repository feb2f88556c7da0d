/** What other modules may use of the calls module: its declared interface (.dependency-cruiser.cjs). */
export { CALL_STATUSES, TERMINAL } from './model';
export type { CallStatus, Direction } from './model';
export { recordingUrlAad, sealPhone, streamUrlsAad, webhookRawAad } from './pii';
