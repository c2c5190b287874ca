// Package saml is the SAML 2.0 identity provider that services log in
// with. Most Finnish learning services speak SAML (Shibboleth SP,
// SimpleSAMLphp, omniauth-saml, passport-saml) and were built against the
// national MPASSid, a Shibboleth IdP; a service must work with this broker
// by changing only URLs and certificates. So the endpoints are the national
// Shibboleth paths (metadata also at /idp/shibboleth), and the Response has
// the national shape: saml2p/saml2 prefixes, a signed Assertion with a
// transient NameID qualified by both entityIDs, bearer
// SubjectConfirmationData, AudienceRestriction, an AuthnStatement whose
// AuthnContextClassRef is urn:mpass.id:authnsource:<flowName>, and exactly
// the data model attributes identity.SAMLAttributes releases to the
// service. Unlike the national service it sends no client IP address
// (SubjectConfirmationData Address, SubjectLocality): services do not need
// it and it is personal data.
//
// # Why it is strict
//
// An AuthnRequest decides where an assertion about a pupil is sent, so the
// request is trusted only after: the XML passed checkXML (no DTD, so no
// entity expansion or external entities; no comments or processing
// instructions; bounded depth and size; xml-roundtrip-validator), the
// HTTP-Redirect payload stayed under MaxRedirectParam raw and MaxInflated
// inflated (deflate bombs stop there), the Issuer is an active SAML service
// of the broker.Catalog, the signature verified with one of the service's
// registered certificates (required when the service has
// AuthnRequestsSigned; verified whenever present; for HTTP-POST only what
// the signature covers is read), and the ACS URL or index is one of the
// service's registered HTTP-POST endpoints, matched exactly. Until then
// every failure is a plain HTML error page; after it, the service gets a
// signed SAML error Response at its ACS (Requester/RequestDenied for a
// stale IssueInstant or a replayed ID, Requester/InvalidNameIDPolicy,
// Responder/NoPassive, Responder/AuthnFailed, Requester/NoAuthnContext,
// Responder). Request IDs are single use (store.Runtime.MarkUsed in
// ReplayNamespace, per service) and IssueInstant must be within
// RequestMaxAge (plus ClockSkew).
//
// SHA-1 signatures (rsa-sha1) are refused unless Config.AllowSHA1 is set;
// rsa-sha256/384/512 and ecdsa-sha256 are accepted. Signatures made with
// expired service certificates are accepted: trust comes from the
// registration, as in Shibboleth. The IdP signs with the current RS256 key
// of package keys (RSA-SHA256, exclusive c14n) and publishes every
// published key's certificate in metadata so services can follow a
// rotation; the current one is also the encryption key, used to decrypt an
// EncryptedID in a LogoutRequest.
//
// Assertions are always signed; the Response too when the service has
// WantResponseSigned; error Responses and logout messages always.
// Responses and their Assertions are written straight in their exclusive
// canonical form (canon.go), so a signature is computed over the bytes
// sent, with no tree or canonicaliser in between; metadata and logout
// messages are trees signed through goxmldsig.
// Assertions are encrypted (AES-256-GCM content, RSA-OAEP-MGF1P key
// transport) when the service registered an encryption certificate. The
// SessionIndex a service sees is a hash of the broker session id and the
// service's entityID: it does not reveal the id and does not link services.
//
// # Single logout
//
// A LogoutRequest (HTTP-Redirect or HTTP-POST; signature verified when
// present, required when the service signs its AuthnRequests) ends the SSO
// session with broker.Flow.EndSession. The session is found by the
// (service, NameID) index recorded at login, because a cross-site POST
// does not carry the SameSite session cookie. The session's other SAML
// services are then logged out front-channel: the browser is sent with a
// signed LogoutRequest to each participant's SLO endpoint in turn, with
// the chain's state in the runtime store (LogoutLifetime) and its id as
// RelayState, and comes back with the LogoutResponse; finally the service
// that asked gets a signed LogoutResponse, Success, with the second-level
// PartialLogout when a participant could not be reached or did not
// answer Success. A participant that never answers stops the chain in the
// browser. Participants of other protocols are left to their frontends.
package saml
