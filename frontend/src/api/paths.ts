// The auth ceremonies and the socket, as the API contract names them. Everything else
// goes through the generated, typed client (api/client.ts).
export const paths = {
  refresh: "/api/auth/refresh",
  signOut: "/api/auth/refresh/sign-out",
  ws: "/ws/",
} as const;
