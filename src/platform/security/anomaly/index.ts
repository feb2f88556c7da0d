export { createAnomalyDetector, type AnomalyDetector, type AnomalyDetectorOptions } from './middleware';
export { serverToServer } from './server-to-server';
export { ANOMALY_KINDS, type AnomalyKind, type AnomalyMode, type Finding } from './kinds';
