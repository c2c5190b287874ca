// Package admin is the management service's REST API (base /api/v2): the
// members of the MPASSid trust network manage their own integrations here,
// and the broker runs on what they save.
//
// It exists so that education providers and service providers need not ask
// the national operator for every change: the API offers what the national
// management service offers (search, templates, create, update with
// optimistic locking, inactivation, logos, SAML metadata, provisioning) and
// what it lacks (revision history with diffs and restore, live publication,
// an OpenAPI document, API tokens for automation).
//
// Every saved change goes through the store, which bumps the configuration
// version; brokers poll that version and rebuild their catalog, so a change
// is live within seconds and never half-applied.
//
// Authorization is decided in one function, Allowed, from organisation-
// scoped roles carried as groups (APP_MPASSID_TALLENTAJA_<oid> and the
// others). Secrets (OIDC client secrets, upstream shared and client
// secrets) are sealed at rest with keys.Sealer and never returned in clear,
// except a generated OIDC client secret once in the create response.
//
// The JSON of integrations is the national "configurationEntity" shape
// (package exchange converts it to and from model.Integration), so that the
// provisioning interface and import/export speak what the national proxy
// and management service speak.
package admin
