import { startAuthentication, startRegistration } from "@simplewebauthn/browser";
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";
import { paths } from "../api/paths";
import { postJson } from "../api/http";
import { acceptTokens } from "./session";

// The begin endpoints may answer the bare options or wrap them ({publicKey: …} / {options: …}).
function unwrap<T>(body: unknown): T {
  if (body && typeof body === "object") {
    const o = body as Record<string, unknown>;
    if (o.publicKey) return o.publicKey as T;
    if (o.options) return unwrap<T>(o.options);
  }
  return body as T;
}

export async function signInWithPasskey(): Promise<void> {
  const begin = await postJson<unknown>(paths.loginBegin, {}, {}, false);
  const assertion = await startAuthentication({ optionsJSON: unwrap<PublicKeyCredentialRequestOptionsJSON>(begin) });
  const done = await postJson<{ access?: string; username?: string }>(paths.loginComplete, assertion, {}, false);
  if (!acceptTokens(done)) throw new Error("The server did not issue a session.");
}

/** Registration from a one-time link (not signed in yet) or adding a passkey (signed in). */
export async function registerPasskey(opts: { code?: string; name?: string }): Promise<void> {
  const signedIn = !opts.code;
  const begin = await postJson<unknown>(paths.registerBegin, opts.code ? { code: opts.code } : {}, {}, signedIn);
  const attestation = await startRegistration({ optionsJSON: unwrap<PublicKeyCredentialCreationOptionsJSON>(begin) });
  const body = { ...attestation, ...(opts.code ? { code: opts.code } : {}), ...(opts.name ? { name: opts.name } : {}) };
  const done = await postJson<{ access?: string; username?: string }>(paths.registerComplete, body, {}, signedIn);
  if (!signedIn) acceptTokens(done);
}

/** A fresh user-verified assertion bound to one action; returns the proof for its header. */
export async function stepUp(action: string): Promise<string> {
  const begin = await postJson<unknown>(paths.stepUpBegin, { action });
  const assertion = await startAuthentication({ optionsJSON: unwrap<PublicKeyCredentialRequestOptionsJSON>(begin) });
  const done = await postJson<{ step_up?: string; token?: string }>(paths.stepUpComplete, { action, credential: assertion });
  const proof = done.step_up ?? done.token;
  if (!proof) throw new Error("Step-up was not confirmed.");
  return proof;
}
