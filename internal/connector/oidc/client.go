package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/mpassid/mpassid/internal/connector"
	"github.com/mpassid/mpassid/internal/flatjson"
)

// The broker's two calls to the OP in a login, the code exchange (RFC 6749
// section 4.1.3, with PKCE's code_verifier) and userinfo (OpenID Connect
// Core section 5.3), are made here rather than through x/oauth2 and
// go-oidc, which decode each answer twice (oauth2 once into its token and
// once more into a map for its extra fields) and copy headers and contexts
// on the way: some 0.06 ms of CPU a login. Neither call is retried: a code
// is single use, and a second try of a request that reached the OP would
// be refused anyway.

// maxAnswer bounds an answer of the token or userinfo endpoint.
const maxAnswer = 1 << 20

// answer is a read answer of the OP.
type answer struct {
	status      int
	contentType string // the header as sent
	data        []byte
}

// do sends req and reads its answer, at most limit bytes.
func do(client *http.Client, req *http.Request, limit int64) (*answer, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the answer is over %d bytes", limit)
	}
	return &answer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), data: data}, nil
}

// getJSON fetches u, with a bearer token when one is given, and returns a
// successful answer.
func getJSON(ctx context.Context, client *http.Client, u, bearer string, limit int64) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	a, err := do(client, req, limit)
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d", a.status)
	}
	return a, nil
}

// clientAuth is how the broker authenticates at the token endpoint.
type clientAuth int

const (
	authNone  clientAuth = iota // a public client: client_id only
	authBasic                   // client_secret_basic
	authPost                    // client_secret_post
)

// tokenAnswer is what is read of the token endpoint's answer.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	IDToken     string `json:"id_token"`
	// Error and ErrorDescription are those of a refusal (RFC 6749 section
	// 5.2).
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// fields names the members flatjson.ReadStrings reads.
func (t *tokenAnswer) fields() ([]string, []*string) {
	return []string{"access_token", "token_type", "id_token", "error", "error_description"},
		[]*string{&t.AccessToken, &t.TokenType, &t.IDToken, &t.Error, &t.ErrorDescription}
}

// refusedError is the token endpoint's refusal of the code.
type refusedError struct{ code string }

func (e *refusedError) Error() string { return "the token endpoint refused the code: " + e.code }

// exchange redeems code at the token endpoint.
func (c *Connector) exchange(ctx context.Context, op *discovered, code, redirectURI, verifier string) (*tokenAnswer, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	}
	switch op.auth {
	case authNone:
		form.Set("client_id", c.clientID)
	case authPost:
		form.Set("client_id", c.clientID)
		form.Set("client_secret", c.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, op.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if op.auth == authBasic {
		// RFC 6749 section 2.3.1: both form-encoded before Basic.
		req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.secret))
	}
	a, err := do(c.client, req, maxAnswer)
	if err != nil {
		return nil, err
	}
	var tok tokenAnswer
	var jsonErr error
	if names, vals := tok.fields(); !flatjson.ReadStrings(a.data, names, vals) {
		tok = tokenAnswer{} // what ReadStrings read before it declined
		jsonErr = json.Unmarshal(a.data, &tok)
	}
	switch {
	case a.status < 200 || a.status > 299:
		if jsonErr == nil && tok.Error != "" {
			return nil, &refusedError{code: tok.Error}
		}
		return nil, fmt.Errorf("HTTP status %d", a.status)
	case jsonErr != nil:
		return nil, fmt.Errorf("the answer is not a JSON object (%v): %w", jsonErr, connector.ErrInvalidResponse)
	case tok.AccessToken == "":
		return nil, fmt.Errorf("the answer has no access_token: %w", connector.ErrInvalidResponse)
	case tok.IDToken == "":
		return nil, fmt.Errorf("the answer has no id_token: %w", connector.ErrInvalidResponse)
	case tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "Bearer"):
		return nil, fmt.Errorf("token type %q is not Bearer: %w", tok.TokenType, connector.ErrInvalidResponse)
	}
	return &tok, nil
}

// fetchUserInfo fetches the userinfo claims with the access token: a JSON
// object, or a JWT signed by a key of the OP's JWKS (OpenID Connect Core
// section 5.3.2), whose iss and aud, when sent, must be the OP's and the
// client's. Callback calls it when the OP names a userinfo endpoint.
func (c *Connector) fetchUserInfo(ctx context.Context, op *discovered, accessToken string) (map[string]any, error) {
	a, err := getJSON(ctx, c.client, op.userInfoURL, accessToken, maxAnswer)
	if err != nil {
		return nil, err
	}
	mediaType, _, _ := mime.ParseMediaType(a.contentType)
	signed := mediaType == "application/jwt"
	payload := a.data
	if signed {
		if _, _, payload, err = verifySigned(ctx, strings.TrimSpace(string(a.data)), op.verifier.algs, op.verifier.keys); err != nil {
			return nil, fmt.Errorf("signed answer: %v: %w", err, connector.ErrInvalidResponse)
		}
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, connector.ErrInvalidResponse)
	}
	if !signed {
		return claims, nil
	}
	if iss, ok := claims["iss"]; ok && iss != c.issuer {
		return nil, fmt.Errorf("signed answer issued by %v, not %q: %w", iss, c.issuer, connector.ErrInvalidResponse)
	}
	if aud, ok := claims["aud"]; ok && !audienceNames(aud, c.clientID) {
		return nil, fmt.Errorf("signed answer for %v, not the client %q: %w", aud, c.clientID, connector.ErrInvalidResponse)
	}
	return claims, nil
}
