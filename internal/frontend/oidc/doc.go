// Package oidc is the broker's OpenID Connect provider: the frontend that
// services (relying parties) registered as OIDC SP integrations log their
// users in through. It speaks the authorization code flow only, with PKCE
// (S256; required for public clients), the client authentication methods
// the national MPASSid offers (client_secret_basic by default,
// client_secret_post, client_secret_jwt, private_key_jwt, and "none" for
// public clients), userinfo, RP-initiated logout and back-channel logout.
// Its paths are those of the national service (/idp/profile/oidc/...), so a
// service written against the national MPASSid works with this one by
// changing only the issuer URL.
//
// # Why an own provider
//
// The provider is written directly on go-jose rather than adapting a
// general OpenID provider library (such as zitadel's op package): those
// libraries own the login session, the storage of codes and tokens and the
// client model, whereas here the broker (package broker) owns the login and
// the SSO session, the store (package store) owns single-use codes and
// tokens, and clients come from the integration catalog with sealed
// secrets. Adapting all three interfaces would be more code, and harder to
// review, than the protocol itself (about 1,500 lines here); written
// directly, every check is visible in one place, matches what the tests
// and the OpenID Foundation test plans name, and nothing else is accepted.
//
// # How a login runs
//
// The authorization endpoint checks the request against the client's
// registration. A request whose client_id or redirect_uri cannot be trusted
// gets an HTML error page and no redirect (no open redirect); any other
// error goes back to the registered redirect_uri as RFC 6749 4.1.2.1 says,
// with state and iss (RFC 9207). A valid request becomes a broker.Request
// whose State carries what the answer needs (redirect_uri, state, nonce, the
// PKCE challenge, the granted scopes); the broker runs the login and calls
// Respond, which stores a single-use code (by its SHA-256 hash, bound to the
// client, redirect_uri, PKCE challenge, nonce and a snapshot of the released
// claims) and redirects back to the service. The token endpoint exchanges
// the code once: a second use revokes every token issued for it.
//
// # Decisions
//
//   - sub: "public" clients receive the user's uid (MPASSOID.<hex>), as the
//     national service does, so that services moving from the national
//     MPASSid keep their user records. "pairwise" clients receive
//     base64url(SHA-256(setID "|" uid "|" salt)) with the service's set as
//     the sector: services of one set see the same sub, other sets cannot
//     link them. The salt (Config.PairwiseSalt) is a deployment secret.
//   - prompt: none makes the login passive (login_required without an SSO
//     session), login forces a fresh upstream login, select_account also
//     forces a fresh login (which shows the school selection again). consent
//     is accepted and needs no page: what a service receives is fixed by its
//     registration, not by user consent. none combined with any other value
//     is invalid_request; unknown values are ignored.
//   - Refresh tokens are issued only to clients whose grant_types include
//     refresh_token. They rotate: each use consumes the token and returns a
//     new pair; presenting a used refresh token revokes every token of the
//     grant. A refreshed ID token keeps sub, auth_time, acr and sid and
//     carries no nonce. The offline_access scope is not offered.
//   - Codes, access tokens and refresh tokens are opaque random 256-bit
//     values stored only by their SHA-256 hash.
//   - ID tokens are RS256 unless the client registered ES256; the claims
//     are the same in the ID token and at userinfo (data model 1.4, per the
//     client's scopes: "profile" releases them).
//   - RP-initiated logout needs a registered post_logout_redirect_uri for
//     the client named by id_token_hint (our signature, expiry ignored) or
//     client_id; an unregistered one gets an error page and ends nothing.
//     Other OIDC participants of the session receive back-channel logout
//     tokens (best effort, short timeout, logged).
//   - Codes are consumed before the redirect_uri and PKCE checks, so a
//     wrong code_verifier burns the code (no guessing); a failed client
//     authentication happens first and changes nothing.
//   - A refresh token lives RefreshTokenLifetime from its own issue; there
//     is no absolute grant lifetime yet.
//   - An end-session request without id_token_hint still ends the browser's
//     session (no confirmation page yet), but never redirects unless
//     client_id names a client that registered the post_logout_redirect_uri.
//   - Not offered: implicit and hybrid flows, response_mode other than
//     query, request objects (request, request_uri), the claims parameter,
//     signed or encrypted userinfo, front-channel logout, dynamic
//     registration.
//
// Logs name clients and error reasons, never users, codes, tokens or
// secrets.
package oidc
