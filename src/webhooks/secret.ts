// Endpoint secrets in the Standard Webhooks format: "whsec_" and the base64 of the HMAC key, which is what every
// Standard Webhooks library (the receiver's verifier) takes as it is.
export const SECRET_PREFIX = "whsec_";
const KEY_BYTES = 32;

export function generateWebhookSecret(): string {
  const key = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  return SECRET_PREFIX + btoa(String.fromCharCode(...key));
}
