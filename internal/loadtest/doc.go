// Package loadtest drives complete brokered logins against a running
// mpassid, over real HTTP, and reports how many it completes per second, how
// long they take, what failed, and what each login cost the server in CPU
// time and database writes.
//
// Why it exists: a national broker gets most of its logins in the minutes
// before 8:00 and after breaks, so its capacity must be known per core and
// shown to grow with instances. Micro-benchmarks of single functions do not
// say that; only whole logins through every hop (the service's request, the
// school's login system, the broker's callback, the service's answer, each
// signature made and checked) do. The tool therefore plays every party
// except the broker:
//
//   - the browser: one virtual user per worker, each with its own
//     http.Client, cookie jar and keep-alive connections, following
//     redirects and submitting the broker's forms as a browser would;
//   - the service: an OpenID Connect relying party (authorization code with
//     PKCE, client_secret_basic, the ID token verified against the JWKS,
//     userinfo) and a SAML service provider (an HTTP-Redirect AuthnRequest
//     signed with its own key, the signed Response verified against the IdP
//     metadata);
//   - the school's login system: the broker's built-in test source, or a
//     minimal upstream SAML IdP or OpenID provider that the tool serves on
//     127.0.0.1, so that the broker's upstream connectors and their
//     signature checks are on the measured path.
//
// The tool registers its services and upstream sources through the
// management API (POST /api/v2/integration, with an admin token), limits
// them to a service set of its own, and inactivates them when it ends.
//
// Every run is bounded (a duration or a login count) and targets loopback
// addresses only unless the operator states that they own the targets.
package loadtest
