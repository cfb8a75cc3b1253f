/** The names the AppRole set-up gives what it makes (kept apart so reports need not load the set-up). */
export { POLICY_FILE } from '../sandbox/names.js';
export const POLICY_NAME = 'airflow-secrets-read';
export const ROLE_NAME = 'airflow';
