// Endpoints outside the generated client (auth ceremonies and the socket). Kept in one
// place so the contract is easy to line up with the API's.
export const paths = {
  refresh: "/api/auth/refresh/",
  logout: "/api/auth/logout/",
  loginBegin: "/api/auth/passkey/login/begin/",
  loginComplete: "/api/auth/passkey/login/complete/",
  registerBegin: "/api/auth/passkey/register/begin/",
  registerComplete: "/api/auth/passkey/register/complete/",
  stepUpBegin: "/api/auth/step-up/begin/",
  stepUpComplete: "/api/auth/step-up/complete/",
  wsTicket: "/api/ws/ticket/",
  events: "/api/events/",
  ws: "/ws/",
} as const;
