/**
 * CORS response headers for the one allowed origin (the dashboard's), or none when unset. Every
 * answer of the API carries them, so the dashboard can read errors as well as successes.
 */
export function corsHeaders(allowedOrigin: string | undefined): Record<string, string> {
  return allowedOrigin ? { 'access-control-allow-origin': allowedOrigin, vary: 'Origin' } : {};
}
