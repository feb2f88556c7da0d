/** What other modules may use of the auth module: its declared interface (.dependency-cruiser.cjs). */
export type { Auth } from './middleware';
export { CAN } from './roles';
