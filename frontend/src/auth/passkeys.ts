import { startAuthentication, startRegistration } from "@simplewebauthn/browser";
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";
import { api, must, publicApi, type S } from "../api/client";
import { acceptTokens } from "./session";

type Creation = PublicKeyCredentialCreationOptionsJSON;
type Request = PublicKeyCredentialRequestOptionsJSON;
/** The API takes the authenticator's response as an opaque JSON object (the server verifies it). */
const asJson = (c: object): Record<string, unknown> => ({ ...c });

export async function signInWithPasskey(): Promise<void> {
  const begin = await must(publicApi.POST("/api/auth/login/begin"));
  const credential = await startAuthentication({ optionsJSON: begin.options as Request });
  const session = await must(publicApi.POST("/api/auth/login/complete", { body: { ceremony_id: begin.ceremony_id, credential: asJson(credential) } }));
  if (!acceptTokens(session)) throw new Error("The server did not issue a session.");
}

/** First passkey, from the one-time registration link. */
export async function registerFromLink(token: string, name: string): Promise<void> {
  const begin = await must(publicApi.POST("/api/auth/register/begin", { body: { token } }));
  const credential = await startRegistration({ optionsJSON: begin.options as Creation });
  const session = await must(publicApi.POST("/api/auth/register/complete", { body: { ceremony_id: begin.ceremony_id, credential: asJson(credential), name } }));
  if (!acceptTokens(session)) throw new Error("The server did not issue a session.");
}

/** Another passkey for the signed-in user. */
export async function addPasskey(name: string): Promise<void> {
  const begin = await must(api.POST("/api/passkeys/begin"));
  const credential = await startRegistration({ optionsJSON: begin.options as Creation });
  await must(api.POST("/api/passkeys/complete", { body: { ceremony_id: begin.ceremony_id, credential: asJson(credential), name } }));
}

/** A fresh user-verified assertion bound to one action (and target); returns the X-Step-Up token. */
export async function stepUp(action: S["ActionEnum"], target = ""): Promise<string> {
  const begin = await must(api.POST("/api/step-up/begin", { body: { action, target } }));
  const credential = await startAuthentication({ optionsJSON: begin.options as Request });
  const grant = await must(api.POST("/api/step-up/complete", { body: { ceremony_id: begin.ceremony_id, credential: asJson(credential) } }));
  return grant.step_up_token;
}
