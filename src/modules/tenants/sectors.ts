/** Tenant sectors (caly-origin.md §1.1; `travel` is known to the agent code). */
export const SECTORS = [
  'ecommerce',
  'healthcare',
  'realestate',
  'logistics',
  'fintech',
  'support',
  'telecom',
  'government',
  'education',
  'saas',
  'travel',
  'custom',
] as const;
export type Sector = (typeof SECTORS)[number];
