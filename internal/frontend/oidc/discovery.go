package oidc

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Constant-like tables of what the provider offers.
var (
	supportedScopes      = []string{"openid", "profile"}
	supportedAuthMethods = []string{authSecretBasic, authSecretPost, authSecretJWT, authPrivateKeyJWT, authNone}
	supportedIDTokenAlgs = []string{"RS256", "ES256"}
	// assertionAlgs are the client-assertion algorithms: HS256 for
	// client_secret_jwt, the rest for private_key_jwt.
	assertionAlgs = []string{"HS256", "RS256", "ES256", "PS256"}
	// supportedClaims are the claims the provider may release.
	supportedClaims = []string{
		"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "sid", "at_hash",
		"given_name", "family_name",
		"urn:mpass.id:nickname", "urn:mpass.id:uid", "urn:oid:1.3.6.1.4.1.16161.1.1.27",
		"urn:mpass.id:schoolInfo", "urn:mpass.id:educationProviderInfo", "urn:mpass.id:role",
		"urn:mpass.id:classLevel", "urn:mpass.id:learningMaterialsCharge", "urn:mpass.id:originalIssuer",
		"urn:mpass.id:schoolCode", "urn:mpass.id:school", "urn:mpass.id:class",
		"urn:mpass.id:educationProviderId", "urn:mpass.id:educationProvider", "urn:mpass.id:municipalityCode",
	}
)

// discoveryDoc is the OpenID Provider Metadata (OpenID Connect Discovery
// 1.0, section 3), in a fixed field order.
type discoveryDoc struct {
	Issuer                             string   `json:"issuer"`
	AuthorizationEndpoint              string   `json:"authorization_endpoint"`
	TokenEndpoint                      string   `json:"token_endpoint"`
	UserinfoEndpoint                   string   `json:"userinfo_endpoint"`
	JWKSURI                            string   `json:"jwks_uri"`
	EndSessionEndpoint                 string   `json:"end_session_endpoint"`
	ScopesSupported                    []string `json:"scopes_supported"`
	ResponseTypesSupported             []string `json:"response_types_supported"`
	ResponseModesSupported             []string `json:"response_modes_supported"`
	GrantTypesSupported                []string `json:"grant_types_supported"`
	SubjectTypesSupported              []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported   []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported  []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs       []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethodsSupported      []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                    []string `json:"claims_supported"`
	ClaimTypesSupported                []string `json:"claim_types_supported"`
	UILocalesSupported                 []string `json:"ui_locales_supported"`
	PromptValuesSupported              []string `json:"prompt_values_supported"`
	ClaimsParameterSupported           bool     `json:"claims_parameter_supported"`
	RequestParameterSupported          bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported       bool     `json:"request_uri_parameter_supported"`
	RequireRequestURIRegistration      bool     `json:"require_request_uri_registration"`
	AuthorizationResponseISSSupported  bool     `json:"authorization_response_iss_parameter_supported"`
	BackchannelLogoutSupported         bool     `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported  bool     `json:"backchannel_logout_session_supported"`
	FrontchannelLogoutSupported        bool     `json:"frontchannel_logout_supported"`
	FrontchannelLogoutSessionSupported bool     `json:"frontchannel_logout_session_supported"`
}

func discoveryDocument(issuer string) ([]byte, error) {
	d := discoveryDoc{
		Issuer:                            issuer,
		AuthorizationEndpoint:             issuer + PathAuthorize,
		TokenEndpoint:                     issuer + PathToken,
		UserinfoEndpoint:                  issuer + PathUserinfo,
		JWKSURI:                           issuer + PathJWKS,
		EndSessionEndpoint:                issuer + PathEndSession,
		ScopesSupported:                   supportedScopes,
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{grantAuthorizationCode, grantRefreshToken},
		SubjectTypesSupported:             []string{"public", "pairwise"},
		IDTokenSigningAlgValuesSupported:  supportedIDTokenAlgs,
		TokenEndpointAuthMethodsSupported: supportedAuthMethods,
		TokenEndpointAuthSigningAlgs:      assertionAlgs,
		CodeChallengeMethodsSupported:     []string{"S256"},
		ClaimsSupported:                   supportedClaims,
		ClaimTypesSupported:               []string{"normal"},
		UILocalesSupported:                []string{"fi", "sv", "en"},
		PromptValuesSupported:             []string{"none", "login", "consent", "select_account"},
		AuthorizationResponseISSSupported: true,
		BackchannelLogoutSupported:        true,
		BackchannelLogoutSessionSupported: true,
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	return append(b, '\n'), nil
}

// allowCORS lets browser applications (public clients) read the public
// endpoints; no credentials (cookies) are involved. An answer needs only
// the origin; what a request may send is the preflight's to say.
func allowCORS(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
}

// handlePreflight answers a browser's CORS preflight for the token and
// userinfo endpoints.
func (p *Provider) handlePreflight(w http.ResponseWriter, r *http.Request) {
	allowCORS(w)
	h := w.Header()
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	allowCORS(w)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(p.discovery)
}

func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	ks := p.keys()
	if ks == nil {
		p.log.ErrorContext(r.Context(), "jwks: no key set loaded")
		http.Error(w, "keys not available", http.StatusServiceUnavailable)
		return
	}
	b, err := ks.JWKSJSON()
	if err != nil {
		p.log.ErrorContext(r.Context(), "jwks", errAttr(err))
		http.Error(w, "keys not available", http.StatusServiceUnavailable)
		return
	}
	allowCORS(w)
	w.Header().Set("Content-Type", "application/json")
	// Short: a rotation publishes the next key one interval before it
	// signs, so clients need not see it at once, but should within minutes.
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}
